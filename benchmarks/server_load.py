"""A real `podium server` under hundreds of concurrent clients, on SQLite and on PostgreSQL,
on loopback.

For each database, starts `podium server` as a subprocess on a fresh data directory
(PODIUM_ENV=development, PODIUM_DISPATCHER=false: nothing is run, submissions stay
queued): SQLite in the data directory, or a database of a throwaway PostgreSQL server
(tests/pg_server.py: initdb + pg_ctl on 127.0.0.1, as the postgres user when root;
PostgreSQL's default durability, every commit flushed like SQLite's). Each server gets
one participant per client (each with its own API token and a quota no run can reach),
a challenge (target cpu, tests/challenge_files.py) and a tiny Qwen3 published into a
temporary Hugging Face cache (HF_HUB_OFFLINE=1), so every admission really resolves the
repo to a commit and runs the preflight.

Then a separate load process (asyncio + httpx, one keep-alive connection per client:
httpx.Limits(max_connections=clients), a new client per scenario) runs three scenarios of --seconds each, with
--clients concurrent clients, each sending its next request as soon as the previous
answer arrives:

  health  GET  /api/health                        the framework's floor (the reference)
  poll    GET  /api/submissions/{id}              status polling of the client's own submission
  admit   POST /api/challenges/{name}/submissions a new submission of the tiny model

It measures, per scenario: requests/s (answers completed within the window / its
length), p50/p99 latency, errors, the concurrency achieved (mean requests in flight
over the window, Little's law, and the peak) and the load process's CPU. --rounds
repeats the scenarios, alternating the databases (ABBA order); the figures are medians
over rounds, with ratios to each database's health reference and PostgreSQL/SQLite
ratios (medians of the per-round ratios). Every scenario is bounded in time and in
requests; the servers (SIGTERM) and PostgreSQL are stopped at the end.

    .venv/bin/python benchmarks/server_load.py [--clients 200] [--seconds 8] [--rounds 3]
        [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"  # pg_server.py, challenge_files.py

CHALLENGE = "load"
REPO = "bench/tiny-qwen3"
PAYLOAD = {"hf_repo": REPO, "hf_repo_tag": "v1", "neuron.model_type": "qwen3", "vllm.max_model_len": "512"}
UNREACHABLE = 100_000_000
PHASES = ("health", "poll", "admit")
NAMES = {"health": "GET /api/health (reference)", "poll": "GET /api/submissions/{id} (poll)",
         "admit": "POST .../submissions (admission)"}
DB_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
REQUEST_TIMEOUT_S = 60.0


# --------------------------------------------------------------------------- load process


async def _client(http, phase: str, token: str, sub_id: int, deadline: float, budget: list[int], out: dict) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() < deadline and budget[0] > 0:
        budget[0] -= 1
        out["inflight"] += 1
        out["peak"] = max(out["peak"], out["inflight"])
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
        t1 = time.perf_counter()
        out["inflight"] -= 1
        out["spans"].append((t0, t1))
        if key is None:
            out["lat"].append((t1, t1 - t0))
        else:
            out["errors"][key] = out["errors"].get(key, 0) + 1


async def _phase(base: str, phase: str, clients: list[dict], seconds: float, max_requests: int) -> dict:
    import httpx

    n = len(clients)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    out: dict = {"lat": [], "spans": [], "errors": {}, "inflight": 0, "peak": 0}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=REQUEST_TIMEOUT_S) as http:
        # No warm-up: each client's first request opens its connection (a loopback connect,
        # well under a millisecond). A warm-up round of 200 requests would leave the first
        # connections idle for seconds, past uvicorn's 5 s keep-alive: the server closes
        # them as the scenario reuses them (ReadError, RemoteProtocolError).
        budget = [max_requests]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        deadline = t0 + seconds
        await asyncio.gather(*(_client(http, phase, c["token"], c["sub"], deadline, budget, out) for c in clients))
        drained = time.perf_counter()
        cpu = time.process_time() - cpu0
    in_window = [dt for t1, dt in out["lat"] if t1 <= deadline]
    lat = sorted(dt for _, dt in out["lat"])
    busy = sum(max(0.0, min(t1, deadline) - max(s0, t0)) for s0, t1 in out["spans"])
    return {
        "phase": phase,
        "ok": len(lat),
        "rps": len(in_window) / seconds,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else float("nan"),
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan"),
        "errors": out["errors"],
        "mean_inflight": busy / seconds,  # Little's law: the concurrency the server really saw
        "peak_inflight": out["peak"],
        "drain_s": drained - deadline,  # the last answers after the window closed
        "load_cpu": cpu / (drained - t0),  # the load process's own share of a core
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
    raise RuntimeError(f"podium server did not answer /api/health within {timeout:g} s")


class Target:
    """One `podium server` on its own data directory and database, seeded with one
    participant, token and queued submission per client."""

    def __init__(self, kind: str, root: Path, cache: Path, challenge: Path, database_url: str | None) -> None:
        self.kind = kind
        self.root = root
        self.env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "PODIUM_ENV": "development",
                    "PODIUM_DISPATCHER": "false", "PODIUM_DATA_DIR": str(root / "data")}
        self.env.pop("PODIUM_SECRET_KEY", None)
        self.env.pop("PODIUM_DATABASE_URL", None)
        if database_url:
            self.env["PODIUM_DATABASE_URL"] = database_url
        self.challenge = challenge
        self.proc: subprocess.Popen | None = None
        self.base = ""
        self.clients: list[dict] = []

    def _users(self, n: int) -> list[str]:
        # the same services `podium admin` calls, on the same data dir, in one transaction
        code = (
            "import json\n"
            "from pathlib import Path\n"
            "from podium.cli.server_cmds import _db\n"
            "from podium.platform.challenges import service as challenges\n"
            "from podium.platform.users import service as users\n"
            f"db = _db(Path({str(self.root / 'data')!r}))\n"
            "tokens = []\n"
            "with db.session() as s, s.begin():\n"
            f"    challenges.add_or_update(session=s, path=Path({str(self.challenge)!r}))\n"
            f"    for i in range({n}):\n"
            "        tokens.append(users.create_token(session=s, user=users.create_user(session=s, name=f'p{i:03d}')))\n"
            "print(json.dumps(tokens))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True,
                             timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"setup of the {self.kind} data failed: {out.stderr[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    def start(self, n: int) -> None:
        import httpx

        tokens = self._users(n)
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(self.root / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "podium.cli.main", "server", "--port", str(port),
             "--data-dir", str(self.root / "data")],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        _wait_ready(self.base, self.proc)
        # one submission per participant to poll (the first also warms the engine-caps cache)
        with httpx.Client(base_url=self.base, timeout=120,
                          limits=httpx.Limits(max_connections=8)) as http:
            def seed(token: str) -> dict:
                r = http.post(f"/api/challenges/{CHALLENGE}/submissions", json=PAYLOAD,
                              headers={"Authorization": f"Bearer {token}"})
                if r.status_code != 201:
                    raise RuntimeError(f"seed submission refused ({self.kind}): {r.status_code} {r.text[:300]}")
                return {"token": token, "sub": r.json()["id"]}

            first = seed(tokens[0])
            with ThreadPoolExecutor(8) as pool:
                self.clients = [first, *pool.map(seed, tokens[1:])]

    def run_round(self, seconds: float, max_requests: int) -> dict[str, dict]:
        cfg = self.root / "load.json"
        cfg.write_text(json.dumps({"base": self.base, "clients": self.clients, "seconds": seconds,
                                   "max_requests": max_requests, "phases": list(PHASES)}))
        out = subprocess.run([sys.executable, __file__, "--load-worker", str(cfg)], capture_output=True, text=True,
                             timeout=len(PHASES) * (seconds + 2 * REQUEST_TIMEOUT_S) + 60)
        if out.returncode != 0:
            raise RuntimeError(f"load process failed ({self.kind}): {out.stderr[-2000:]}")
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"the {self.kind} podium server exited with {self.proc.returncode}")
        return {r["phase"]: r for r in json.loads(out.stdout.strip().splitlines()[-1])}

    def server_errors(self) -> dict[str, int]:
        """The exceptions the server logged (the last line of each traceback), counted."""
        found: dict[str, int] = {}
        path = self.root / "server.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        for prev, line in zip(lines, lines[1:], strict=False):
            if prev.startswith((" ", "^", "~")) and line and not line.startswith((" ", "Traceback", "INFO")) \
                    and re.match(r"^[\w.]+(Error|Exception|Timeout|Exit)\b", line):
                found[line[:200]] = found.get(line[:200], 0) + 1
        return found

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def _report(dbs: list[str], rounds: list[dict[str, dict[str, dict]]], args: argparse.Namespace) -> None:
    """rounds[i][db][phase] -> that scenario's figures in round i."""

    def med(db: str, phase: str, key: str) -> float:
        return statistics.median(r[db][phase][key] for r in rounds)

    print(f"{'database':<11} {'scenario':<34} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'ok':>7} {'errors':>6}"
          f" {'in flight':>10} {'rps/ref':>7} {'p50/ref':>7} {'p99/ref':>7} {'load cpu':>8}")
    for db in dbs:
        ref = {k: med(db, "health", k) for k in ("rps", "p50_ms", "p99_ms")}
        for phase in PHASES:
            errors: dict[str, int] = {}
            for r in rounds:
                for k, v in r[db][phase]["errors"].items():
                    errors[k] = errors.get(k, 0) + v
            rps, p50, p99 = med(db, phase, "rps"), med(db, phase, "p50_ms"), med(db, phase, "p99_ms")
            inflight = f"{med(db, phase, 'mean_inflight'):.0f}/{max(r[db][phase]['peak_inflight'] for r in rounds)}"
            print(f"{DB_NAMES[db]:<11} {NAMES[phase]:<34} {rps:>7.1f} {p50:>8.1f} {p99:>8.1f}"
                  f" {sum(r[db][phase]['ok'] for r in rounds):>7} {sum(errors.values()):>6} {inflight:>10}"
                  f" {rps / ref['rps']:>7.2f} {p50 / ref['p50_ms']:>7.1f} {p99 / ref['p99_ms']:>7.1f}"
                  f" {med(db, phase, 'load_cpu'):>8.2f}")
            if errors:
                print(f"{'':<11}   errors: {errors}")
    if len(dbs) == 2:
        a, b = dbs
        print()
        print(f"{DB_NAMES[b]} / {DB_NAMES[a]} (medians of the per-round ratios; > 1: {DB_NAMES[b]} higher)")
        print(f"{'scenario':<34} {'req/s':>7} {'p50':>7} {'p99':>7} {'rps/ref':>8}")
        for phase in PHASES:
            def ratio(key: str, normalise: bool = False, phase: str = phase) -> float:
                def one(r: dict) -> float:
                    x, y = r[b][phase][key], r[a][phase][key]
                    if normalise:
                        x, y = x / r[b]["health"][key], y / r[a]["health"][key]
                    return x / y if y else float("nan")
                return statistics.median(one(r) for r in rounds)
            print(f"{NAMES[phase]:<34} {ratio('rps'):>7.2f} {ratio('p50_ms'):>7.2f} {ratio('p99_ms'):>7.2f}"
                  f" {ratio('rps', normalise=True):>8.2f}")
    print()
    print("req/s per round: " + "; ".join(
        f"{DB_NAMES[db]} " + "/".join(f"{r[db][p]['rps']:.0f}" for p in PHASES) for r in rounds for db in dbs))
    print("in flight: mean requests in flight over the window (Little's law) / peak; load cpu: the load"
          " process's CPU time / wall time (1.00 = one core busy with the clients)")
    print(f"clients: {args.clients}; {args.seconds:g} s per scenario; rounds: {args.rounds} (databases alternated,"
          f" figures: medians over rounds); machine: {os.cpu_count()} cores; servers, PostgreSQL and the load"
          " process on the same machine")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=8.0, help="per scenario")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--max-requests", type=int, default=200_000, help="per scenario")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (server logs) and print it")
    ap.add_argument("--load-worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load_worker:
        return load_main(args.load_worker)
    dbs = [d.strip() for d in args.databases.split(",") if d.strip()]
    if not dbs or set(dbs) - set(DB_NAMES):
        ap.error(f"--databases: one or both of {', '.join(DB_NAMES)}")

    sys.path.insert(0, str(TESTS))
    from challenge_files import write_challenge
    from pg_server import PgServer, find_bindir
    from podium.localdata.hub_cache import publish
    from podium.localdata.tiny_models import build_tiny_model

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="podium-load-"))
    pg: PgServer | None = None
    targets: dict[str, Target] = {}
    try:
        cache = tmp / "hub"
        publish(build_tiny_model(tmp / "qwen3", "qwen3"), REPO, cache, revisions=("main", "v1"))
        quotas = {"submissions": UNREACHABLE, "max_in_flight": UNREACHABLE}
        challenge = write_challenge(tmp / "challenges", CHALLENGE, title="Server load benchmark", quotas=quotas)
        for db in dbs:
            url = None
            if db == "postgresql":
                bindir = find_bindir()
                if bindir is None:
                    raise RuntimeError("PostgreSQL is not installed (initdb/pg_ctl): run scripts/setup-postgres.sh,"
                                       " or --databases sqlite")
                pg = PgServer(bindir).start(durable=True)
                url = pg.new_database()
            targets[db] = Target(db, tmp / db, cache, challenge, url)
            targets[db].start(args.clients)
            print(f"{DB_NAMES[db]}: server up, {args.clients} participants seeded"
                  f" ({time.monotonic() - started:.0f} s)", file=sys.stderr)

        rounds: list[dict[str, dict[str, dict]]] = []
        for i in range(args.rounds):
            order = dbs if i % 2 == 0 else dbs[::-1]
            rounds.append({db: targets[db].run_round(args.seconds, args.max_requests) for db in order})
            print(f"round {i + 1}/{args.rounds} done ({time.monotonic() - started:.0f} s)", file=sys.stderr)
        _report(dbs, rounds, args)
        for db, target in targets.items():
            for line, count in target.server_errors().items():
                print(f"{DB_NAMES[db]} server logged {count} x {line}")
        return 0
    finally:
        for target in targets.values():
            target.stop()
        if pg is not None:
            pg.stop()
        if args.keep:
            print(f"kept: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
