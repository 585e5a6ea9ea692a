"""The asynchronous client that drives an OpenAI-compatible server (vLLM) over a dataset.

One ``httpx.AsyncClient`` for the whole run, ``concurrency`` workers pulling from one
queue, every request streamed (SSE) so that time to first token is measured. Only
connection failures before any response are retried (bounded, with backoff); an HTTP
error status, a broken stream or a timeout is recorded on the sample and never retried,
so that no request is counted twice by the server.

``is_alive`` is polled while the run goes on (and after each connection failure or broken
stream): when it raises, the run stops and that exception propagates; when it returns
``False``, the run stops with ``EngineError(ENGINE_CRASHED)``. Keep it cheap
(``proc.poll()``): it runs on the event loop. A run that saw a broken stream or a failed
connection looks again for up to ``crash_grace_s`` before it returns: a killed server
closes its sockets a moment before its exit can be seen, and a crash that broke the last
requests in flight must not be scored as answers that failed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from podium.errors import Code, EngineError, EvalError

ProgressFn = Callable[[int, int], None]
AliveFn = Callable[[], Any]

# Errors raised while sending, before a response status arrives: safe to retry.
_CONNECT_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)


@dataclass
class Job:
    """One request to make: ``prompt`` is the text (completions) or messages (chat)."""

    index: int
    id: str
    split: str
    prompt: str | list[dict[str, str]]
    kind: str | None = None


@dataclass
class SampleResult:
    id: str
    split: str
    kind: str | None
    prompt: str | list[dict[str, str]]
    output: str = ""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    latency_s: float | None = None
    ttft_s: float | None = None
    error: str | None = None
    attempts: int = 0
    scores: dict[str, float] = field(default_factory=dict)
    answers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "split": self.split,
            "kind": self.kind,
            "prompt": self.prompt,
            "output": self.output,
            "answers": list(self.answers),
            "scores": dict(self.scores),
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "output_tokens": self.output_tokens,
            "latency_s": self.latency_s,
            "ttft_s": self.ttft_s,
            "error": self.error,
            "attempts": self.attempts,
        }


@dataclass
class RunResult:
    results: list[SampleResult]
    wall_s: float
    concurrency: int
    max_in_flight: int


class EvalClient:
    """Streams every job to ``base_url`` with at most ``concurrency`` requests in flight."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api: str = "chat",
        max_tokens: int,
        concurrency: int,
        sampling: dict[str, Any] | None = None,
        request_timeout: float = 120.0,
        total_timeout: float | None = None,
        connect_retries: int = 3,
        backoff_s: float = 0.25,
        on_progress: ProgressFn | None = None,
        is_alive: AliveFn | None = None,
        alive_interval_s: float = 1.0,
        crash_grace_s: float = 2.0,
    ) -> None:
        if api not in ("chat", "completions"):
            raise ValueError(f"api must be 'chat' or 'completions', not {api!r}")
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[: -len("/v1")]
        self.model = model
        self.api = api
        self.path = "/v1/chat/completions" if api == "chat" else "/v1/completions"
        self.max_tokens = int(max_tokens)
        self.concurrency = max(1, int(concurrency))
        self.sampling = {k: v for k, v in (sampling or {}).items() if v is not None}
        self.request_timeout = request_timeout
        self.total_timeout = total_timeout
        self.connect_retries = connect_retries
        self.backoff_s = backoff_s
        self.on_progress = on_progress
        self.is_alive = is_alive
        self.alive_interval_s = alive_interval_s
        self.crash_grace_s = crash_grace_s
        self._transport_errors = 0  # broken streams and failed connections seen
        self._in_flight = 0
        self.max_in_flight = 0

    # -- payload -----------------------------------------------------------------------

    def payload(self, job: Job) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            **self.sampling,
        }
        if self.api == "chat":
            body["messages"] = job.prompt
        else:
            body["prompt"] = job.prompt
        return body

    # -- running -----------------------------------------------------------------------

    def run_sync(self, jobs: Sequence[Job]) -> RunResult:
        return asyncio.run(self.run(jobs))

    async def run(self, jobs: Sequence[Job]) -> RunResult:
        total = len(jobs)
        results: list[SampleResult | None] = [None] * total
        queue: asyncio.Queue[Job] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        done = 0

        def finished(job: Job, result: SampleResult) -> None:
            nonlocal done
            results[job.index] = result
            done += 1
            if self.on_progress is not None:
                self.on_progress(done, total)

        if self.on_progress is not None:
            self.on_progress(0, total)
        n_workers = min(self.concurrency, total) or 1
        limits = httpx.Limits(max_connections=n_workers, max_keepalive_connections=n_workers)
        timeout = httpx.Timeout(
            self.request_timeout, connect=min(10.0, self.request_timeout), pool=None
        )
        start = time.perf_counter()
        async with httpx.AsyncClient(
            base_url=self.base_url, limits=limits, timeout=timeout, trust_env=False
        ) as client:

            async def worker() -> None:
                while True:
                    try:
                        job = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    finished(job, await self._one(client, job))

            tasks = [asyncio.create_task(worker()) for _ in range(n_workers)]
            monitor = asyncio.create_task(self._monitor())
            pending: set[asyncio.Task[None]] = {*tasks, monitor}
            deadline = asyncio.timeout(self.total_timeout)
            try:
                async with deadline:
                    while not all(t.done() for t in tasks):
                        finished_now, pending = await asyncio.wait(
                            pending, return_when=asyncio.FIRST_COMPLETED
                        )
                        for task in finished_now:
                            exc = task.exception()
                            if exc is not None:
                                raise exc
            except TimeoutError:
                if not deadline.expired():
                    raise
                raise EvalError(
                    f"the evaluation did not finish within {self.total_timeout:g}s "
                    f"({done} of {total} requests done)",
                    "lower max-tokens or raise max-num-seqs; the challenge sets timeouts.total_s",
                    code=Code.EVAL_FAILED,
                    details={"done": done, "total": total},
                ) from None
            finally:
                for task in (*tasks, monitor):
                    task.cancel()
                await asyncio.gather(*tasks, monitor, return_exceptions=True)
        await self._settle()
        wall = time.perf_counter() - start
        return RunResult([r for r in results if r is not None], wall, n_workers, self.max_in_flight)

    async def _monitor(self) -> None:
        if self.is_alive is None:
            await asyncio.Event().wait()  # never finishes on its own
        while True:
            self._check_alive()
            await asyncio.sleep(self.alive_interval_s)

    async def _settle(self) -> None:
        """After transport errors, give a dying server ``crash_grace_s`` to be seen dead."""
        if self.is_alive is None or not self._transport_errors:
            return
        deadline = time.monotonic() + self.crash_grace_s
        while True:
            self._check_alive()
            if time.monotonic() >= deadline:
                return
            await asyncio.sleep(0.05)

    def _check_alive(self) -> None:
        if self.is_alive is not None and self.is_alive() is False:
            raise EngineError(
                "the model server stopped during the evaluation",
                "see the server log for the reason",
                code=Code.ENGINE_CRASHED,
            )

    async def _one(self, client: httpx.AsyncClient, job: Job) -> SampleResult:
        result = SampleResult(id=job.id, split=job.split, kind=job.kind, prompt=job.prompt)
        body = json.dumps(self.payload(job)).encode()
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.request_timeout):
                await self._attempts(client, body, result, start)
        except TimeoutError:
            result.error = f"timeout: no complete response within {self.request_timeout:g}s"
        except httpx.TimeoutException as exc:
            result.error = f"timeout: {type(exc).__name__}"
        except httpx.HTTPError as exc:
            result.error = f"stream broken: {type(exc).__name__}: {exc}"
            self._transport_errors += 1
            self._check_alive()  # the engine died under the request: the run stops here
        except ValueError as exc:
            result.error = f"malformed stream from the server: {exc}"
        finally:
            self._in_flight -= 1
        result.latency_s = time.perf_counter() - start
        return result

    async def _attempts(
        self, client: httpx.AsyncClient, body: bytes, result: SampleResult, start: float
    ) -> None:
        headers = {
            "content-type": "application/json",
            "accept": "text/event-stream",
            "accept-encoding": "identity",
        }
        for attempt in range(self.connect_retries + 1):
            result.attempts = attempt + 1
            request = client.build_request("POST", self.path, content=body, headers=headers)
            try:
                response = await client.send(request, stream=True)
            except _CONNECT_ERRORS as exc:
                self._check_alive()
                if attempt >= self.connect_retries:
                    result.error = f"connection failed after {attempt + 1} attempts: {type(exc).__name__}: {exc}"
                    self._transport_errors += 1
                    return
                await asyncio.sleep(self.backoff_s * (2**attempt))
                continue
            try:
                await self._read(response, result, start)
            finally:
                await response.aclose()
            return

    async def _read(self, response: httpx.Response, result: SampleResult, start: float) -> None:
        if response.status_code != 200:
            text = (await response.aread()).decode("utf-8", "replace")
            result.error = f"HTTP {response.status_code}: {_error_text(text)}"
            return
        pieces: list[str] = []
        chat = self.api == "chat"
        chunks = 0
        rest = b""
        done = False
        # SSE parsed on raw bytes: one split per network read, json only for data lines.
        async for raw in response.aiter_bytes():
            lines = (rest + raw if rest else raw).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    done = True
                    break
                obj = json.loads(data)
                choices = obj.get("choices")
                if choices:
                    choice = choices[0]
                    text = (
                        (choice.get("delta") or {}).get("content") if chat else choice.get("text")
                    )
                    if text:
                        if result.ttft_s is None:
                            result.ttft_s = time.perf_counter() - start
                        pieces.append(text)
                        chunks += 1
                    reason = choice.get("finish_reason")
                    if reason:
                        result.finish_reason = reason
                elif "error" in obj:
                    result.error = f"server error in stream: {_error_text(json.dumps(obj))}"
                    done = True
                    break
                usage = obj.get("usage")
                if usage:
                    result.prompt_tokens = usage.get("prompt_tokens")
                    result.output_tokens = usage.get("completion_tokens")
            if done:
                break
        result.output = "".join(pieces)
        if result.output_tokens is None and result.error is None:
            result.output_tokens = chunks  # the server sent no usage: one token per chunk


def _error_text(text: str, limit: int = 300) -> str:
    try:
        obj = json.loads(text)
        err = obj.get("error", obj) if isinstance(obj, dict) else obj
        if isinstance(err, dict):
            text = str(err.get("message") or err)
        else:
            text = str(err)
    except (ValueError, AttributeError):
        pass
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
