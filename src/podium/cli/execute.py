"""``podium execute SUBMISSION_ID --server URL``: one attempt of one submission.

The unit of work every executor runs. The attempt's credential comes from
``PODIUM_ATTEMPT_TOKEN`` (never argv; ``pat_<attempt id>_...``). The process fetches its
job, runs :func:`podium.pipeline.run` and reports to ``/api/attempts/<id>/...``: state
changes (check -> resolving, serve -> starting, or compiling on Neuron, evaluate ->
evaluating), progress, heartbeats from a thread, the resolve / serve / evaluation logs
(hidden-split samples marked private) and the report, or a failure with code, message and
hint. A 409 from the server means this attempt no longer counts: it stops at once.

``PODIUM_EXECUTE_FAKE`` replaces the pipeline with a stand-in, for the fault tests only
(a worker that dies, goes silent, or runs until it is stopped): see :mod:`_fake` below.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer

ATTEMPT_TOKEN_ENV = "PODIUM_ATTEMPT_TOKEN"
FAKE_ENV = "PODIUM_EXECUTE_FAKE"
PLATFORM_CODES = {"ENGINE_NOT_INSTALLED", "HUB_UNREACHABLE", "WORKER_LOST"}
STAGE_STATE = {"check": "resolving", "serve": "starting", "evaluate": "evaluating"}
STAGE_STREAM = {"check": "resolve", "serve": "serve", "evaluate": "evaluate", "stop": "serve", "report": "evaluate"}


class Superseded(Exception):
    """The server answered 409: this attempt no longer counts."""


class Reporter:
    """HTTP to the server with the attempt's credential; retries while the server is
    away (a restart), up to ``patience`` seconds per call."""

    def __init__(self, server: str, token: str, attempt_id: int) -> None:
        import httpx

        self.attempt_id = attempt_id
        self.http = httpx.Client(base_url=server.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.lock = threading.Lock()

    def call(self, method: str, what: str, body: Any = None, patience: float = 300.0) -> dict[str, Any]:
        import httpx

        deadline = time.monotonic() + patience
        delay = 0.5
        while True:
            try:
                with self.lock:
                    r = self.http.request(method, f"/api/attempts/{self.attempt_id}/{what}", json=body)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if r.status_code == 409:
                raise Superseded(r.text)
            if r.status_code >= 500 and time.monotonic() < deadline:
                time.sleep(delay)
                continue
            r.raise_for_status()
            return r.json()

    def log(self, stream: str, text: str, private: bool = False) -> None:
        if text:
            self.call("POST", "logs", {"stream": stream, "text": text, "private": private})


class Heartbeat(threading.Thread):
    """Heartbeats, progress and new serve.log bytes every ``interval`` s; on 409 (or a
    final state) it interrupts the main thread, which stops the engine on the way out."""

    def __init__(self, rep: Reporter, interval: float, serve_log: Path) -> None:
        super().__init__(name="podium-heartbeat", daemon=True)
        self.rep, self.interval, self.serve_log = rep, interval, serve_log
        self.stop = threading.Event()
        self.silent = False  # the fault tests' "stops heartbeating"
        self.progress: tuple[int, int] | None = None
        self._sent_progress: tuple[int, int] | None = None
        self._log_offset = 0

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            if self.silent:
                continue
            try:
                ack = self.rep.call("POST", "heartbeat", patience=self.interval)
                self.flush()
            except Superseded:
                ack = {"cancel": True}
            except Exception:  # the server is away: keep trying
                continue
            if ack.get("cancel"):
                self.stop.set()
                os.kill(os.getpid(), signal.SIGTERM)  # podium turns it into KeyboardInterrupt
                return

    def flush(self) -> None:
        if self.progress is not None and self.progress != self._sent_progress:
            done, total = self.progress
            self.rep.call("POST", "progress", {"done": done, "total": total}, patience=self.interval)
            self._sent_progress = self.progress
        try:
            with self.serve_log.open("rb") as fh:
                fh.seek(self._log_offset)
                chunk = fh.read(512 * 1024)
        except OSError:
            return
        cut = chunk.rfind(b"\n") + 1  # whole lines only
        if cut:
            self.rep.log("serve", chunk[:cut].decode("utf-8", errors="replace"))
            self._log_offset += cut


def execute(submission_id: int, server: str, output: Path) -> int:
    from podium.platform.dispatch.service import attempt_id_of

    token = os.environ.get(ATTEMPT_TOKEN_ENV, "")
    attempt_id = attempt_id_of(token)
    if attempt_id is None:
        print(f"podium execute: {ATTEMPT_TOKEN_ENV} is not set to an attempt credential")
        return 2
    os.environ.pop(ATTEMPT_TOKEN_ENV, None)  # not inherited by the engine
    rep = Reporter(server, token, attempt_id)
    try:
        job = rep.call("GET", "job")
    except Superseded:
        print(f"attempt {attempt_id}: no longer current, nothing to do")
        return 0
    if job["submission_id"] != submission_id:
        print(f"attempt {attempt_id} is for submission {job['submission_id']}, not {submission_id}")
        return 2
    if job.get("hf_token"):
        from podium.platform.security import register_secret

        register_secret(job["hf_token"])
    output.mkdir(parents=True, exist_ok=True)
    beat = Heartbeat(rep, float(job["heartbeat_interval_s"]), output / "serve.log")
    beat.start()
    print(f"attempt {attempt_id} (#{job['number']}) of submission {submission_id}: {job['spec'].get('hf_repo')}@{job['pinned_commit']}", flush=True)
    try:
        if os.environ.get(FAKE_ENV):
            result = _fake(os.environ[FAKE_ENV], rep, beat)
        else:
            result = _real(job, rep, beat, output)
        beat.stop.set()
        beat.flush()
        if result.get("report") is not None:
            rep.call("POST", "report", {"report": result["report"]})
            print("scored", flush=True)
        else:
            rep.call("POST", "failure", result["error"])
            print(f"failed: {result['error']['code']}", flush=True)
    except Superseded:
        print(f"attempt {attempt_id}: superseded, stopping", flush=True)
    finally:
        beat.stop.set()
    return 0


def _real(job: dict[str, Any], rep: Reporter, beat: Heartbeat, output: Path) -> dict[str, Any]:
    import yaml

    from podium.evaluate.challenge import challenge_from_dict
    from podium.pipeline import run
    from podium.plan.targets import get_target
    from podium.spec.submission import SubmissionSpec

    raw = dict(job["spec"])
    raw["given"] = tuple(raw.get("given") or ())
    if job.get("pinned_commit"):
        raw["hf_repo_tag"] = job["pinned_commit"]  # run exactly what was admitted
    spec = SubmissionSpec(**raw)
    path = Path(job["challenge_path"]) if job.get("challenge_path") else None
    challenge = challenge_from_dict(yaml.safe_load(job["challenge_yaml"]), path=path)
    target = get_target(job["target"])

    def on_stage(stage: str, status: str, elapsed: float) -> None:
        stream = STAGE_STREAM.get(stage, "worker")
        if status == "start" and stage in STAGE_STATE:
            state = "compiling" if stage == "serve" and target.backend == "neuron" else STAGE_STATE[stage]
            rep.call("POST", "state", {"state": state, "detail": stage})
        rep.log(stream, f"{stage} {status}" + (f" in {elapsed:.1f} s" if status != "start" else ""))

    def on_progress(done: int, total: int) -> None:
        beat.progress = (done, total)

    outcome = run(spec, target, challenge, output_dir=output, token=job.get("hf_token"),
                  on_stage=on_stage, on_progress=on_progress)
    if outcome.check is not None:
        snap = outcome.check.snapshot
        lines = [f"resolved {snap.repo}@{snap.commit}"]
        lines += [f"{f.severity} {f.code}: {f.message}" for f in outcome.check.findings]
        rep.log("resolve", "\n".join(lines))
    _upload_samples(rep, output / "samples.jsonl")
    if outcome.ok:
        return {"report": outcome.report.to_dict()}
    if outcome.error is not None:
        err = outcome.error
        return {"error": {"code": str(err.code), "message": err.message, "hint": err.hint,
                          "platform_fault": str(err.code) in PLATFORM_CODES}}
    first = next(f for f in outcome.check.findings if str(f.severity) == "error")
    return {"error": {"code": str(first.code), "message": first.message, "hint": first.hint}}


def _upload_samples(rep: Reporter, path: Path) -> None:
    """The evaluation log: public samples for everyone, hidden-split ones for organisers."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    public, private = [], []
    for line in lines:
        try:
            split = json.loads(line).get("split")
        except ValueError:
            continue
        (public if split == "public" else private).append(line)
    rep.log("evaluate", "\n".join(public))
    rep.log("evaluate", "\n".join(private), private=True)


def _fake(mode: str, rep: Reporter, beat: Heartbeat) -> dict[str, Any]:
    """A stand-in pipeline for the fault tests only (never used otherwise).

    ``die``: exits mid-run without a report. ``silent``: stops heartbeating and waits.
    ``hang``: starts a stand-in engine child that ignores SIGTERM, then waits to be
    stopped. ``slow:N``: runs N seconds, then reports a fixed score.
    """
    import subprocess
    import sys

    rep.call("POST", "state", {"state": "resolving", "detail": "check"})
    rep.log("resolve", "fake: resolved")
    if mode == "die":
        time.sleep(0.5)
        os._exit(3)
    if mode == "silent":
        beat.silent = True
        time.sleep(3600)
    rep.call("POST", "state", {"state": "starting", "detail": "serve"})
    if mode == "hang":
        code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)"
        child = subprocess.Popen([sys.executable, "-c", code])
        Path("fake-engine.pid").write_text(str(child.pid))
        time.sleep(3600)
    seconds = float(mode.partition(":")[2] or 1)
    rep.call("POST", "state", {"state": "evaluating", "detail": "evaluate"})
    time.sleep(seconds)
    beat.progress = (2, 2)
    rep.log("evaluate", json.dumps({"id": "1", "split": "public", "prompt": "p1", "output": "o1"}))
    rep.log("evaluate", json.dumps({"id": "2", "split": "private", "prompt": "SECRET-PROMPT", "output": "o2"}), private=True)
    return {"report": {"primary_metric": "exact_match", "primary_value": 0.5,
                       "primary_by_split": {"public": 0.5, "private": 0.25},
                       "requests": _fake_requests()}}


def _fake_requests() -> dict[str, Any]:
    """The stand-in's request statistics: its two requests, as the real report has them
    (percentiles and latency histogram included); 12.5 output tokens/s."""
    from dataclasses import asdict

    from podium.evaluate.client import SampleResult
    from podium.evaluate.report import RequestStats

    samples = [
        SampleResult(id=str(i), split=split, kind=None, prompt="p", output="o", prompt_tokens=8,
                     output_tokens=25, latency_s=latency, ttft_s=latency / 4)
        for i, (split, latency) in enumerate((("public", 0.8), ("private", 1.4)), start=1)
    ]
    return asdict(RequestStats.from_results(samples, wall_s=4.0, concurrency=2, max_in_flight=2))


def execute_command(submission_id: int, server: str, output: Path | None) -> int:
    return execute(submission_id, server, output or Path("run"))


def command(
    submission_id: int,
    server: Annotated[str, typer.Option("--server", help="The Podium server's URL.")],
    output: Annotated[Path | None, typer.Option("--output", help="Where the run's files go (default: ./run).")] = None,
) -> None:
    """Run one attempt of a submission for the server (started by the dispatcher; the
    credential comes from $PODIUM_ATTEMPT_TOKEN)."""
    raise typer.Exit(execute_command(submission_id, server, output))
