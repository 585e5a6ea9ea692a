"""Metrics and the :class:`EvalReport`: scores per split and kind, request statistics,
stage timings; written as ``report.json`` and ``samples.jsonl``; shown as a rich table."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from podium.evaluate.client import SampleResult

PERCENTILES = (50, 90, 99)
HISTOGRAM_BINS = 12


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default method); None when empty."""
    data = sorted(values)
    if not data:
        return None
    pos = (len(data) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def histogram(values: Sequence[float], bins: int = HISTOGRAM_BINS) -> dict[str, list[Any]]:
    """Equal-width bins from the smallest value to the largest, as numpy.histogram counts
    them (the last bin includes its right edge): ``{"edges_s": [bins + 1 edges],
    "counts": [bins counts]}``; one bin when every value is the same; empty lists when
    there is no value. Compact enough for a report of any size."""
    data = sorted(values)
    if not data:
        return {"edges_s": [], "counts": []}
    lo, hi = data[0], data[-1]
    if hi <= lo:
        return {"edges_s": [lo, hi], "counts": [len(data)]}
    width = (hi - lo) / bins
    edges = [lo + width * i for i in range(bins)] + [hi]
    counts = [0] * bins
    for v in data:
        i = min(int((v - lo) / width), bins - 1)
        if v < edges[i]:  # rounding: the edges decide, as in numpy
            i -= 1
        elif i < bins - 1 and v >= edges[i + 1]:
            i += 1
        counts[i] += 1
    return {"edges_s": edges, "counts": counts}


def _mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


@dataclass
class RequestStats:
    requests: int
    errors: int
    prompt_tokens: int
    output_tokens: int
    wall_s: float
    output_tokens_per_s: float
    requests_per_s: float
    concurrency: int
    max_in_flight: int
    latency_s: dict[str, float | None]  # {"p50": ..., "p90": ..., "p99": ..., "mean": ...}
    ttft_s: dict[str, float | None]
    # the successful requests' latencies: {"edges_s": [...], "counts": [...]}, see histogram()
    latency_histogram: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def from_results(
        cls,
        results: Sequence[SampleResult],
        wall_s: float,
        concurrency: int = 0,
        max_in_flight: int = 0,
    ) -> RequestStats:
        ok = [r for r in results if r.error is None]
        out_tokens = sum(r.output_tokens or 0 for r in ok)
        latencies = [r.latency_s for r in ok if r.latency_s is not None]
        wall = max(wall_s, 1e-9)

        def dist(values: list[float]) -> dict[str, float | None]:
            d: dict[str, float | None] = {f"p{q}": percentile(values, q) for q in PERCENTILES}
            d["mean"] = _mean(values)
            return d

        return cls(
            requests=len(results),
            errors=len(results) - len(ok),
            prompt_tokens=sum(r.prompt_tokens or 0 for r in ok),
            output_tokens=out_tokens,
            wall_s=wall_s,
            output_tokens_per_s=out_tokens / wall,
            requests_per_s=len(ok) / wall,
            concurrency=concurrency,
            max_in_flight=max_in_flight,
            latency_s=dist(latencies),
            ttft_s=dist([r.ttft_s for r in ok if r.ttft_s is not None]),
            latency_histogram=histogram(latencies),
        )


@dataclass
class EvalReport:
    """The result of one evaluation. ``metrics[split][metric]``; split ``all`` is both."""

    challenge: str
    primary_metric: str
    primary_split: str
    primary_value: float | None
    primary_by_split: dict[str, float | None]
    metrics: dict[str, dict[str, float | None]]
    by_kind: dict[str, dict[str, dict[str, float | None]]]  # split -> kind -> metric -> value
    counts: dict[str, int]  # samples per split
    requests: RequestStats
    settings: dict[str, Any] = field(default_factory=dict)  # max_tokens, concurrency, api, ...
    stage_timings: dict[str, float] = field(default_factory=dict)
    samples: list[SampleResult] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "challenge": self.challenge,
            "primary_metric": self.primary_metric,
            "primary_split": self.primary_split,
            "primary_value": self.primary_value,
            "primary_by_split": dict(self.primary_by_split),
            "metrics": {s: dict(m) for s, m in self.metrics.items()},
            "by_kind": {
                s: {k: dict(m) for k, m in kinds.items()} for s, kinds in self.by_kind.items()
            },
            "counts": dict(self.counts),
            "requests": asdict(self.requests),
            "settings": dict(self.settings),
            "stage_timings": dict(self.stage_timings),
        }

    def public_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` without anything computed on the private split."""
        d = self.to_dict()
        for key in ("metrics", "by_kind", "primary_by_split", "counts"):
            d[key] = {s: v for s, v in d[key].items() if s == "public"}
        if self.primary_split != "public":
            d["primary_value"] = None
        return d

    def write(self, out_dir: str | Path, *, include_private: bool = True) -> tuple[Path, Path]:
        """``report.json`` and ``samples.jsonl`` in ``out_dir``; without private rows and
        private metrics when ``include_private`` is false (what a participant may see)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        report_path, samples_path = out / "report.json", out / "samples.jsonl"
        data = self.to_dict() if include_private else self.public_dict()
        report_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        with samples_path.open("w", encoding="utf-8") as f:
            for r in self.samples:
                if include_private or r.split == "public":
                    f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
        return report_path, samples_path


def aggregate(
    results: Sequence[SampleResult], metric_names: Sequence[str]
) -> tuple[
    dict[str, dict[str, float | None]],
    dict[str, dict[str, dict[str, float | None]]],
    dict[str, int],
]:
    """Means of each metric per split (and ``all``) and per split and kind.

    A sample counts towards a metric only when a scorer of that metric applied to it;
    a failed request scores 0 on every metric that applies.
    """
    groups: dict[str, list[SampleResult]] = {"all": list(results)}
    for r in results:
        groups.setdefault(r.split, []).append(r)
    metrics: dict[str, dict[str, float | None]] = {}
    by_kind: dict[str, dict[str, dict[str, float | None]]] = {}
    for split, rows in groups.items():
        metrics[split] = {
            m: _mean(r.scores[m] for r in rows if m in r.scores) for m in metric_names
        }
        kinds: dict[str, list[SampleResult]] = {}
        for r in rows:
            kinds.setdefault(r.kind or "-", []).append(r)
        by_kind[split] = {
            k: {m: _mean(r.scores[m] for r in krows if m in r.scores) for m in metric_names}
            for k, krows in sorted(kinds.items())
        }
    counts = {split: len(rows) for split, rows in groups.items()}
    return metrics, by_kind, counts


def render_table(report: EvalReport) -> Any:
    """A rich renderable: metrics per split, per kind, and request statistics."""
    from rich.console import Group
    from rich.table import Table

    splits = [s for s in ("public", "private", "all") if s in report.metrics]
    scores = Table(
        title=f"{report.challenge}: {report.primary_metric} = {_fmt(report.primary_value)} ({report.primary_split})"
    )
    scores.add_column("metric")
    scores.add_column("kind")
    for s in splits:
        scores.add_column(f"{s} (n={report.counts.get(s, 0)})", justify="right")
    for m in report.metrics.get("all", {}):
        scores.add_row(m, "all", *(_fmt(report.metrics[s].get(m)) for s in splits))
        kinds = sorted({k for s in splits for k in report.by_kind.get(s, {})})
        for k in kinds:
            scores.add_row(
                "", k, *(_fmt(report.by_kind.get(s, {}).get(k, {}).get(m)) for s in splits)
            )

    rq = report.requests
    stats = Table(title="requests", show_header=False)
    stats.add_column("what")
    stats.add_column("value", justify="right")
    stats.add_row("requests / errors", f"{rq.requests} / {rq.errors}")
    stats.add_row("concurrency (max in flight)", f"{rq.concurrency} ({rq.max_in_flight})")
    stats.add_row("prompt / output tokens", f"{rq.prompt_tokens} / {rq.output_tokens}")
    stats.add_row("wall time", f"{rq.wall_s:.2f} s")
    stats.add_row("output tokens/s", f"{rq.output_tokens_per_s:.1f}")
    stats.add_row("requests/s", f"{rq.requests_per_s:.2f}")
    stats.add_row("latency p50/p90/p99", _dist(rq.latency_s))
    stats.add_row("TTFT p50/p90/p99", _dist(rq.ttft_s))
    for stage, seconds in report.stage_timings.items():
        stats.add_row(f"stage {stage}", f"{seconds:.2f} s")
    return Group(scores, stats)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _dist(d: dict[str, float | None]) -> str:
    return (
        " / ".join("-" if d.get(f"p{q}") is None else f"{d[f'p{q}']:.3f}" for q in PERCENTILES)
        + " s"
    )
