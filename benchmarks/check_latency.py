"""Wall time of `podium check` as a fresh process, on a model in the local Hub cache.

Prints the median and p90 of N runs for an accepted and a rejected submission, a bare
`podium --help` (the CLI's own import floor), and a plain `python -c pass` as the
reference (the interpreter's start), with each figure's ratio to that reference.

    .venv/bin/python benchmarks/check_latency.py [--runs 15]

The engine capability probe is cached on disk; the first call warms that cache and is
not counted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    subprocess.run(cmd, env=env, capture_output=True, check=False)  # warm caches
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=False)
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()

    from podium.localdata.hub_cache import publish
    from podium.localdata.tiny_models import build_tiny_model

    tmp = Path(tempfile.mkdtemp(prefix="podium-bench-"))
    cache = tmp / "hub"
    publish(build_tiny_model(tmp / "llama", "llama"), "bench/tiny-llama", cache, revisions=("main", "v1"))
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    podium = [sys.executable, "-m", "podium.cli.main"]
    cases = {
        "python -c pass (reference)": [sys.executable, "-c", "pass"],
        "podium --help": [*podium, "--help"],
        "podium check (accepted)": [*podium, "check", "--hf-repo", "bench/tiny-llama", "--hf-repo-tag", "v1", "--neuron.model-type", "llama", "--json"],
        "podium check (rejected: MODEL_TYPE_MISMATCH)": [*podium, "check", "--hf-repo", "bench/tiny-llama", "--target", "trn1.2xlarge", "--json"],
        "podium check (rejected: FLAG_UNKNOWN)": [*podium, "check", "--hf-repo", "bench/tiny-llama", "--vllm.max-model-length", "1", "--json"],
    }
    results = {name: timed(cmd, env, args.runs) for name, cmd in cases.items()}
    ref = statistics.median(results["python -c pass (reference)"])
    print(f"{'case':<48} {'median s':>9} {'p90 s':>7} {'x ref':>7}")
    for name, times in results.items():
        med = statistics.median(times)
        p90 = sorted(times)[int(0.9 * (len(times) - 1))]
        print(f"{name:<48} {med:>9.3f} {p90:>7.3f} {med / ref:>7.1f}")
    print(f"runs per case: {args.runs}; machine: {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
