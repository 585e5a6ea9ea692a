"""A real `podium server` under many concurrent clients, on loopback.

Starts `podium server` as a subprocess on a fresh data directory (PODIUM_ENV=development,
PODIUM_DISPATCHER=false: nothing is run, submissions stay queued), with one participant
per client (each with its own API token and a quota no run can reach), a challenge
(target cpu) and a tiny Qwen3 published into a temporary Hugging Face cache
(HF_HUB_OFFLINE=1), so every admission really resolves the repo to a commit and runs
the preflight. Then a separate load process (asyncio + httpx, one connection per
client) runs three phases of --seconds each, with --clients concurrent clients, each
sending its next request as soon as the previous answer arrives:

  health  GET  /api/health                        the framework's floor (the reference)
  poll    GET  /api/submissions/{id}              status polling of the client's own submission
  admit   POST /api/challenges/{name}/submissions a new submission of the tiny model

and prints, per phase, the requests/s, p50/p99 latency, error counts and the ratio of
each to the health phase. --rounds repeats the three phases (figures: medians over the
rounds). Every phase is bounded in time and in requests; the server is stopped (SIGTERM)
at the end.

    /tmp/vllmenv/bin/python benchmarks/server_load.py [--clients 50] [--seconds 10] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHALLENGE = "load"
REPO = "bench/tiny-qwen3"
PAYLOAD = {"hf_repo": REPO, "hf_repo_tag": "v1", "neuron.model_type": "qwen3", "vllm.max_model_len": "512"}
CHALLENGE_YAML = f"""
name: {CHALLENGE}
title: "Server load benchmark"
target: cpu
defaults:
  vllm.max-model-len: 512
  vllm.max-num-seqs: 4
evaluation:
  dataset: dataset.jsonl
  scorers: [{{name: exact_match}}]
  primary_metric: exact_match
quotas:
  submissions: 100000000
  window: rolling_24h
  max_in_flight: 100000000
"""
PHASES = ("health", "poll", "admit")


# --------------------------------------------------------------------------- load process


async def _client(http, phase: str, token: str, sub_id: int, deadline: float, budget: list[int], out: dict) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() < deadline and budget[0] > 0:
        budget[0] -= 1
        t0 = time.perf_counter()
        try:
            if phase == "health":
                r = await http.get("/api/health")
                ok = r.status_code == 200
            elif phase == "poll":
                r = await http.get(f"/api/submissions/{sub_id}", headers=headers)
                ok = r.status_code == 200
            else:
                r = await http.post(f"/api/challenges/{CHALLENGE}/submissions", json=PAYLOAD, headers=headers)
                ok = r.status_code == 201
            key = None if ok else f"HTTP {r.status_code}"
        except Exception as exc:  # noqa: BLE001 - counted, not raised
            key = type(exc).__name__
        dt = time.perf_counter() - t0
        if key is None:
            out["lat"].append(dt)
        else:
            out["errors"][key] = out["errors"].get(key, 0) + 1


async def _phase(base: str, phase: str, clients: list[dict], seconds: float, max_requests: int) -> dict:
    import httpx

    n = len(clients)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    out: dict = {"lat": [], "errors": {}}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as http:
        # one warm-up request per client opens its connection (not counted)
        await asyncio.gather(*(http.get("/api/health") for _ in range(n)), return_exceptions=True)
        budget = [max_requests]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        deadline = t0 + seconds
        await asyncio.gather(*(_client(http, phase, c["token"], c["sub"], deadline, budget, out) for c in clients))
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    lat = sorted(out["lat"])
    return {
        "phase": phase,
        "ok": len(lat),
        "wall_s": wall,
        "rps": len(lat) / wall,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else float("nan"),
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan"),
        "errors": out["errors"],
        "load_cpu": cpu / wall,  # the load process's own share of a core
    }


def load_main(config_path: str) -> int:
    cfg = json.loads(Path(config_path).read_text())
    results = [asyncio.run(_phase(cfg["base"], phase, cfg["clients"], cfg["seconds"], cfg["max_requests"]))
               for phase in cfg["phases"]]
    print(json.dumps(results))
    return 0


# --------------------------------------------------------------------------- orchestration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"podium server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/api/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("podium server did not answer /api/health within 60 s")


def _setup(tmp: Path, n: int) -> tuple[dict[str, str], list[str]]:
    """The tiny model in a Hub cache, then users, tokens and the challenge in the data dir."""
    from podium.localdata.hub_cache import publish
    from podium.localdata.tiny_models import build_tiny_model

    cache = tmp / "hub"
    publish(build_tiny_model(tmp / "qwen3", "qwen3"), REPO, cache, revisions=("main", "v1"))
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "PODIUM_ENV": "development",
           "PODIUM_DISPATCHER": "false", "PODIUM_DATA_DIR": str(tmp / "data")}
    env.pop("PODIUM_DATABASE_URL", None)
    env.pop("PODIUM_SECRET_KEY", None)
    folder = tmp / "challenges" / CHALLENGE
    folder.mkdir(parents=True)
    (folder / "dataset.jsonl").write_text('{"id": "1", "prompt": "2+2?", "answer": "4"}\n')
    (folder / "challenge.yaml").write_text(CHALLENGE_YAML)
    # the same services `podium admin` calls, on the same data dir, in one transaction
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from podium.cli.server_cmds import _db\n"
        "from podium.platform.challenges import service as challenges\n"
        "from podium.platform.users import service as users\n"
        f"db = _db(Path({str(tmp / 'data')!r}))\n"
        "tokens = []\n"
        "with db.session() as s, s.begin():\n"
        f"    challenges.add_or_update(session=s, path=Path({str(folder / 'challenge.yaml')!r}))\n"
        f"    for i in range({n}):\n"
        "        tokens.append(users.create_token(session=s, user=users.create_user(session=s, name=f'p{i:03d}')))\n"
        "print(json.dumps(tokens))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=120)
    return env, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--max-requests", type=int, default=200_000, help="per phase")
    ap.add_argument("--load-worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load_worker:
        return load_main(args.load_worker)

    import httpx

    tmp = Path(tempfile.mkdtemp(prefix="podium-load-"))
    server = None
    try:
        env, tokens = _setup(tmp, args.clients)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed in finally via the process
        server = subprocess.Popen(
            [sys.executable, "-m", "podium.cli.main", "server", "--port", str(port), "--data-dir", str(tmp / "data")],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        _wait_ready(base, server)
        # one submission per participant to poll (the first also warms the engine-caps cache)
        clients = []
        for token in tokens:
            r = httpx.post(f"{base}/api/challenges/{CHALLENGE}/submissions", json=PAYLOAD,
                           headers={"Authorization": f"Bearer {token}"}, timeout=120)
            if r.status_code != 201:
                raise RuntimeError(f"seed submission refused: {r.status_code} {r.text[:300]}")
            clients.append({"token": token, "sub": r.json()["id"]})

        cfg = tmp / "load.json"
        cfg.write_text(json.dumps({"base": base, "clients": clients, "seconds": args.seconds,
                                   "max_requests": args.max_requests, "phases": list(PHASES)}))
        rounds: list[dict[str, dict]] = []
        for i in range(args.rounds):
            out = subprocess.run([sys.executable, __file__, "--load-worker", str(cfg)], capture_output=True,
                                 text=True, timeout=len(PHASES) * (args.seconds + 60) + 60)
            if out.returncode != 0:
                raise RuntimeError(f"load process failed: {out.stderr[-2000:]}")
            rounds.append({r["phase"]: r for r in json.loads(out.stdout.strip().splitlines()[-1])})
            print(f"round {i + 1}/{args.rounds} done", file=sys.stderr)

        def med(phase: str, key: str) -> float:
            return statistics.median(r[phase][key] for r in rounds)

        ref_rps, ref_p50, ref_p99 = med("health", "rps"), med("health", "p50_ms"), med("health", "p99_ms")
        names = {"health": "GET /api/health (reference)", "poll": "GET /api/submissions/{id} (poll)",
                 "admit": "POST .../submissions (admission)"}
        print(f"{'phase':<36} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'ok':>7} {'errors':>7}"
              f" {'rps/ref':>8} {'p50/ref':>8} {'p99/ref':>8} {'load cpu':>8}")
        for phase in PHASES:
            errors: dict[str, int] = {}
            for r in rounds:
                for k, v in r[phase]["errors"].items():
                    errors[k] = errors.get(k, 0) + v
            rps, p50, p99 = med(phase, "rps"), med(phase, "p50_ms"), med(phase, "p99_ms")
            print(f"{names[phase]:<36} {rps:>7.1f} {p50:>8.1f} {p99:>8.1f} {sum(r[phase]['ok'] for r in rounds):>7}"
                  f" {sum(errors.values()):>7} {rps / ref_rps:>8.2f} {p50 / ref_p50:>8.1f} {p99 / ref_p99:>8.1f} {med(phase, 'load_cpu'):>8.2f}")
            if errors:
                print(f"  errors: {errors}")
        print("load cpu: the load process's CPU time / wall time (1.00 = one core busy with the clients)")
        print(f"clients: {args.clients}; {args.seconds:g} s per phase; rounds: {args.rounds} (figures: medians over"
              f" rounds); machine: {os.cpu_count()} cores; server and load process on the same machine")
        return 0
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        if server is not None:
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
