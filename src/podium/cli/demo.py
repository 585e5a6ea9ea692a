"""``podium demo``: the README's main command. Prepares the demo models in the local Hub
cache, then runs each on the demo challenge with a real vLLM server and prints the
scores side by side: SmolLM2-135M-Instruct gets a real score, a random-weight Qwen3
about zero."""

from __future__ import annotations

import os
import time
from pathlib import Path

# float32: on CPUs without native bfloat16 (these machines) it evaluates 6.7x faster
# than the bfloat16 the weights are stored in (docs/performance.md).
DEMO_FLAGS = ["--hf-repo-tag", "v1", "--vllm.enforce-eager", "--vllm.dtype", "float32"]


def demo_runs() -> list[tuple[str, list[str]]]:
    from podium.localdata.demo_models import SMOLLM2_REPO, TINY_QWEN3_REPO

    return [
        ("SmolLM2-135M-Instruct", ["--hf-repo", SMOLLM2_REPO, "--neuron.model-type", "llama", *DEMO_FLAGS]),
        ("tiny Qwen3, random weights", ["--hf-repo", TINY_QWEN3_REPO, "--neuron.model-type", "qwen3", *DEMO_FLAGS]),
    ]


def demo_command(output: Path | None, only_first: bool, json_out: bool) -> int:
    # No code here reaches the Hub: resolve from the local cache only.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rich.table import Table

    from podium.cli import render
    from podium.cli.run import ProgressDisplay, render_outcome
    from podium.cli.submission import prepare
    from podium.evaluate import demo_challenge_path
    from podium.localdata import demo_models
    from podium.pipeline import run

    t0 = time.perf_counter()
    render.err.print("[bold]podium demo[/]: preparing the demo models (the first time converts SmolLM2 from GGUF)")
    models = demo_models.prepare()
    prep_s = time.perf_counter() - t0
    render.err.print(f"  models ready in {prep_s:.1f} s, in the Hub cache {models.cache_dir}")
    out_root = output or Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
    rows = []
    results = []
    runs = demo_runs()[:1] if only_first else demo_runs()
    for label, argv in runs:
        prepared = prepare(argv, model_dir=None, target=None, challenge=demo_challenge_path())
        render.err.print(f"\n[bold]{label}[/]: podium run {' '.join(argv)} --challenge demo")
        with ProgressDisplay() as display:
            outcome = run(
                prepared.spec,
                prepared.target,
                prepared.challenge,
                output_dir=out_root / prepared.spec.hf_repo.replace("/", "--"),
                extra_findings=prepared.findings,
                on_stage=display.stage,
                on_progress=display.evaluation,
            )
        results.append(outcome.to_dict())
        if not outcome.ok:
            render_outcome(outcome)
            return 2
        rep = outcome.report
        rows.append((label, rep, outcome.stage_seconds))
    if json_out:
        render.print_json({"prepare_s": prep_s, "runs": results})
        return 0
    table = Table(title="Podium demo: challenge 'demo'")
    for col in ("model", "accuracy public", "accuracy private", "output tok/s", "start vLLM s", "evaluate s"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for label, rep, stages in rows:
        by_split = rep.primary_by_split
        table.add_row(
            label,
            _fmt(by_split.get("public")),
            _fmt(by_split.get("private")),
            f"{rep.requests.output_tokens_per_s:.0f}",
            f"{stages.get('serve', 0):.1f}",
            f"{stages.get('evaluate', 0):.1f}",
        )
    render.out.print(table)
    render.out.print(f"reports: {out_root}; total {time.perf_counter() - t0:.0f} s")
    return 0


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
