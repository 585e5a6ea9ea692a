"""Rendering for people (rich) and for scripts (JSON). Errors are rendered here, at the edge."""

from __future__ import annotations

import json
import os
import shlex
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from podium.errors import Finding, PodiumError, Severity

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
LABEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


def _width(stream: Any) -> int | None:
    """Rich's width: the terminal's, or COLUMNS; 120 rather than Rich's 80 when output
    goes to a file or a pipe (`make demo > log`, CI), so that tables do not wrap there."""
    isatty = getattr(stream, "isatty", None)
    return None if (isatty is not None and isatty()) or "COLUMNS" in os.environ else 120


out = Console(highlight=False, soft_wrap=False, width=_width(sys.stdout))
err = Console(stderr=True, highlight=False, width=_width(sys.stderr))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def render_error(exc: PodiumError) -> None:
    err.print(Text.assemble(("error", "bold red"), f"[{exc.code}]: ", exc.message))
    if exc.hint:
        err.print(Text.assemble(("  hint: ", "dim"), exc.hint))


def findings_table(findings: list[Finding]) -> Table:
    table = Table(show_header=True, header_style="bold", expand=False, show_lines=False)
    table.add_column("", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column("message / hint", overflow="fold")
    for f in findings:
        body = Text(f.message)
        if f.hint:
            body.append("\n-> " + f.hint, style="dim")
        table.add_row(Text(LABEL[f.severity], style=STYLE[f.severity]), str(f.code), body)
    return table


def _gib(n: int | None) -> str:
    return "?" if n is None else f"{n / 1024**3:.2f} GiB"


def model_table(model: dict[str, Any]) -> Table:
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="dim", no_wrap=True)
    t.add_column(overflow="fold")
    snap = model["snapshot"]
    commit = snap.get("commit") or "(local directory)"
    t.add_row("repository", f"{snap['repo']} @ {snap['revision']} -> {commit} ({snap['source']})")
    t.add_row("architecture", f"{', '.join(model['architectures']) or '?'} (model_type {model['model_type']})")
    n = model.get("num_parameters")
    t.add_row("parameters", f"{n:,}" if n else "unknown (no safetensors)")
    t.add_row("dtype", f"{model.get('torch_dtype') or '?'} (stored: {', '.join(model.get('dtypes') or {}) or '?'})")
    t.add_row("context", str(model.get("max_position_embeddings") or "?"))
    t.add_row(
        "shape",
        f"{model.get('num_layers')} layers, {model.get('num_attention_heads')} heads, "
        f"{model.get('num_kv_heads')} kv heads, head_dim {model.get('head_dim')}",
    )
    t.add_row("weights", ", ".join(sorted({w["format"] for w in model["weight_files"]})) or "none")
    t.add_row("tokenizer", "yes" if model["has_tokenizer"] else "missing")
    t.add_row("chat template", "yes" if model["has_chat_template"] else "missing")
    return t


def plan_table(plan: dict[str, Any]) -> Table:
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="dim", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("target", f"{plan['target']} ({plan['backend']}), vLLM {plan['engine_version']}")
    t.add_row("command", "python " + shlex.join(plan["argv"]))
    if plan["env"]:
        t.add_row("env", " ".join(f"{k}={v}" for k, v in plan["env"].items()))
    if plan["request_defaults"]:
        t.add_row("requests", json.dumps(plan["request_defaults"]))
    mem = plan.get("memory")
    if mem:
        t.add_row(
            "memory",
            f"{mem['per_shard_gib']:.2f} GiB per shard x {mem['shards']} "
            f"(weights {mem['weights_gib']:.2f} + KV {mem['kv_cache_gib']:.2f} + overhead "
            f"{mem['overhead_gib']:.2f}) of {mem['available_per_shard_gib']:.1f} GiB"
            + ("" if mem["fits"] else "  [bold red]does not fit[/]"),
        )
    if plan.get("compile_cache_key"):
        t.add_row("compile cache", f"{plan['compile_cache_key']} -> {plan['compiled_artifacts_dir']}")
    return t


def render_check(data: dict[str, Any]) -> None:
    if data.get("model"):
        out.rule("[bold]model")
        out.print(model_table(data["model"]))
    if data.get("plan"):
        out.rule("[bold]launch plan")
        out.print(plan_table(data["plan"]))
    findings = [
        Finding(Severity(f["severity"]), f["code"], f["message"], f["hint"]) for f in data["findings"]
    ]
    if findings:
        out.rule("[bold]findings")
        out.print(findings_table(findings))
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    if data["ok"]:
        out.print(f"[bold green]OK[/]: no error findings ({warnings} warning(s))")
    else:
        out.print(f"[bold red]REJECTED[/]: {errors} error finding(s), {warnings} warning(s)")
