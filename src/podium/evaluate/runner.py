"""``evaluate``: one challenge against one running server, to an :class:`EvalReport`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from podium.errors import Code, EvalError
from podium.evaluate.challenge import Challenge, ScorerSpec, load_challenge
from podium.evaluate.client import AliveFn, EvalClient, Job, ProgressFn, SampleResult
from podium.evaluate.dataset import (
    PromptTemplate,
    Sample,
    build_messages,
    build_prompt,
    load_dataset,
)
from podium.evaluate.report import EvalReport, RequestStats, aggregate
from podium.evaluate.scorers import Scorer, clamp, make_scorer


def evaluate(
    challenge: Challenge | str | Path,
    base_url: str,
    served_model_name: str,
    *,
    max_tokens: int | None = None,
    concurrency: int | None = None,
    on_progress: ProgressFn | None = None,
    is_alive: AliveFn | None = None,
    prompt_template: str | None = None,
    splits: Sequence[str] | None = None,
    samples: Sequence[Sample] | None = None,
) -> EvalReport:
    """Evaluate the model served at ``base_url`` on the challenge's dataset.

    ``max_tokens`` is the submission's ``--vllm-inference.max-tokens`` and ``concurrency``
    its ``--vllm.max-num-seqs`` (None: the challenge defaults); both are capped by the
    challenge. ``prompt_template`` is a participant's template text (the challenge's own
    otherwise). Runs its own event loop: from async code, await :func:`evaluate_async`.
    """
    return asyncio.run(
        evaluate_async(
            challenge,
            base_url,
            served_model_name,
            max_tokens=max_tokens,
            concurrency=concurrency,
            on_progress=on_progress,
            is_alive=is_alive,
            prompt_template=prompt_template,
            splits=splits,
            samples=samples,
        )
    )


async def evaluate_async(
    challenge: Challenge | str | Path,
    base_url: str,
    served_model_name: str,
    *,
    max_tokens: int | None = None,
    concurrency: int | None = None,
    on_progress: ProgressFn | None = None,
    is_alive: AliveFn | None = None,
    prompt_template: str | None = None,
    splits: Sequence[str] | None = None,
    samples: Sequence[Sample] | None = None,
) -> EvalReport:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if not isinstance(challenge, Challenge):
        challenge = load_challenge(challenge)
    ev = challenge.evaluation
    data = list(samples) if samples is not None else load_dataset(challenge.dataset_path)
    if splits is not None:
        data = [s for s in data if s.split in splits]
    if not data:
        raise EvalError(
            f"challenge '{challenge.name}' has no samples to evaluate"
            + (f" in splits {', '.join(splits)}" if splits else ""),
            "check the dataset and the splits asked for",
            code=Code.DATASET_INVALID,
        )
    template = (
        PromptTemplate(prompt_template, origin="--prompt-template-path", code=Code.FLAG_INVALID)
        if prompt_template is not None
        else PromptTemplate(ev.prompt_template)
    )
    scorers = [
        (spec, make_scorer(spec.name, spec.options, where=f"evaluation.scorers.{i}"))
        for i, spec in enumerate(ev.scorers)
    ]
    jobs = [_job(i, s, template, challenge) for i, s in enumerate(data)]
    n_tokens = challenge.max_tokens_for(max_tokens)
    n_conc = challenge.concurrency_for(concurrency)
    sampling = ev.sampling
    client = EvalClient(
        base_url,
        served_model_name,
        api=ev.api,
        max_tokens=n_tokens,
        concurrency=n_conc,
        sampling={
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "stop": list(sampling.stop) if sampling.stop else None,
            "seed": sampling.seed,
        },
        request_timeout=challenge.timeouts.request_s,
        total_timeout=challenge.timeouts.total_s,
        on_progress=on_progress,
        is_alive=is_alive,
    )
    timings["prepare"] = time.perf_counter() - t0

    run = await client.run(jobs)
    timings["requests"] = run.wall_s

    t1 = time.perf_counter()
    by_id = {s.id: s for s in data}
    for result in run.results:
        score_sample(result, by_id[result.id], scorers)
    metric_names = ev.metric_names()
    metrics, by_kind, counts = aggregate(run.results, metric_names)
    timings["scoring"] = time.perf_counter() - t1

    primary_by_split = {s: m.get(ev.primary_metric) for s, m in metrics.items()}
    return EvalReport(
        challenge=challenge.name,
        primary_metric=ev.primary_metric,
        primary_split=ev.primary_split,
        primary_value=primary_by_split.get(ev.primary_split),
        primary_by_split=primary_by_split,
        metrics=metrics,
        by_kind=by_kind,
        counts=counts,
        requests=RequestStats.from_results(
            run.results, run.wall_s, run.concurrency, run.max_in_flight
        ),
        settings={
            "api": ev.api,
            "max_tokens": n_tokens,
            "concurrency": n_conc,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "served_model_name": served_model_name,
            "custom_prompt_template": prompt_template is not None,
        },
        stage_timings=timings,
        samples=run.results,
    )


def _job(index: int, sample: Sample, template: PromptTemplate, challenge: Challenge) -> Job:
    ev = challenge.evaluation
    if ev.api == "chat":
        prompt: str | list[dict[str, str]] = build_messages(sample, template, ev.system_prompt)
    else:
        prompt = build_prompt(sample, template, ev.system_prompt)
    return Job(index=index, id=sample.id, split=sample.split, prompt=prompt, kind=sample.kind)


def score_sample(
    result: SampleResult, sample: Sample, scorers: Sequence[tuple[ScorerSpec, Scorer]]
) -> None:
    """Fill ``result.scores``: per metric, the first scorer that applies to the sample's
    kind; a failed request scores 0."""
    result.answers = sample.answers
    for spec, fn in scorers:
        metric = spec.metric_name
        if metric in result.scores or not spec.applies_to(sample.kind):
            continue
        if result.error is not None:
            result.scores[metric] = 0.0
            continue
        try:
            result.scores[metric] = clamp(fn(result.output, sample))
        except Exception as exc:  # a custom scorer's bug: name it, do not hide it
            raise EvalError(
                f"scorer '{spec.name}' failed on sample {sample.id!r}: {type(exc).__name__}: {exc}",
                "fix the scorer; built-in scorers never raise",
                code=Code.EVAL_FAILED,
                details={"scorer": spec.name, "sample": sample.id},
            ) from exc
