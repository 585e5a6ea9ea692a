"""The streaming client against the local SSE stub (no real server, no network)."""

from __future__ import annotations

import asyncio

import pytest

from podium.errors import Code, EngineError, EvalError
from podium.evaluate.client import EvalClient, Job


def jobs(n: int, api: str = "chat") -> list[Job]:
    out = []
    for i in range(n):
        prompt = [{"role": "user", "content": f"q{i}"}] if api == "chat" else f"q{i}"
        out.append(Job(index=i, id=f"s{i}", split="public", prompt=prompt))
    return out


def run(client: EvalClient, items: list[Job]):
    return asyncio.run(client.run(items))


def test_streams_chat_and_measures_ttft(stub):
    stub.reply = "The capital is Paris."
    client = EvalClient(stub.url, "drip", max_tokens=7, concurrency=1)
    res = run(client, jobs(1)).results[0]
    assert res.error is None
    assert res.output == "The capital is Paris."
    assert res.finish_reason == "stop"
    assert (res.prompt_tokens, res.output_tokens) == (11, 4)
    # first token after ~0.2 s, the rest ~0.2 s later
    assert 0.15 <= res.ttft_s < res.latency_s
    assert res.latency_s - res.ttft_s >= 0.15
    body = stub.requests[0]
    assert body["path"] == "/v1/chat/completions"
    assert body["max_tokens"] == 7
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [{"role": "user", "content": "q0"}]


def test_completions_api_and_sampling_fields(stub):
    client = EvalClient(
        stub.url + "/v1/",
        "ok",
        api="completions",
        max_tokens=3,
        concurrency=2,
        sampling={"temperature": 0.0, "top_p": 0.9, "seed": None},
    )
    out = run(client, jobs(3, "completions"))
    assert [r.output for r in out.results] == ["Paris"] * 3
    assert all(r["path"] == "/v1/completions" for r in stub.requests)
    # two requests run at once: the server may see them in either order
    assert sorted(r["prompt"] for r in stub.requests) == ["q0", "q1", "q2"]
    assert all(r["temperature"] == 0.0 and r["top_p"] == 0.9 for r in stub.requests)
    assert all("seed" not in r for r in stub.requests)


def test_results_keep_input_order_and_progress(stub):
    seen = []
    client = EvalClient(
        stub.url, "ok", max_tokens=5, concurrency=4, on_progress=lambda d, t: seen.append((d, t))
    )
    out = run(client, jobs(10))
    assert [r.id for r in out.results] == [f"s{i}" for i in range(10)]
    assert seen[0] == (0, 10) and seen[-1] == (10, 10) and len(seen) == 11


def test_concurrency_limit_is_respected(stub):
    stub.delay_s = 0.05
    client = EvalClient(stub.url, "ok", max_tokens=5, concurrency=4)
    out = run(client, jobs(24))
    assert all(r.error is None for r in out.results)
    assert stub.max_in_flight == 4  # reached, never exceeded
    assert out.max_in_flight == 4


def test_http_errors_are_not_retried(stub):
    for model, code in (("http500", 500), ("http400", 400)):
        stub.requests.clear()
        client = EvalClient(stub.url, model, max_tokens=5, concurrency=1, backoff_s=0.01)
        res = run(client, jobs(1)).results[0]
        assert res.error == f"HTTP {code}: boom {code}"
        assert res.attempts == 1 and len(stub.requests) == 1


def test_connection_reset_before_response_is_retried(stub):
    client = EvalClient(stub.url, "reset-once", max_tokens=5, concurrency=1, backoff_s=0.01)
    res = run(client, jobs(1)).results[0]
    assert res.error is None and res.output == "Paris"
    assert res.attempts == 2 and len(stub.requests) == 2


def test_connection_refused_is_retried_a_bounded_number_of_times(free_port_url):
    client = EvalClient(
        free_port_url, "ok", max_tokens=5, concurrency=1, connect_retries=2, backoff_s=0.01
    )
    res = run(client, jobs(1)).results[0]
    assert res.attempts == 3
    assert res.error.startswith("connection failed after 3 attempts: ConnectError")


def test_request_timeout_is_an_error_not_a_retry(stub):
    client = EvalClient(stub.url, "slow", max_tokens=5, concurrency=1, request_timeout=0.3)
    res = run(client, jobs(1)).results[0]
    assert res.error.startswith("timeout")
    assert res.attempts == 1 and len(stub.requests) == 1
    assert res.latency_s < 4  # cut by the 0.3 s timeout, not by the 5 s reply (margin for a loaded machine)


def test_total_timeout_fails_the_evaluation(stub):
    client = EvalClient(
        stub.url, "slow", max_tokens=5, concurrency=1, request_timeout=10, total_timeout=0.3
    )
    with pytest.raises(EvalError) as exc:
        run(client, jobs(2))
    assert exc.value.code is Code.EVAL_FAILED and "0 of 2" in exc.value.message


def test_is_alive_exception_stops_the_run(stub):
    stub.delay_s = 0.2

    class Died(RuntimeError):
        pass

    calls = {"n": 0}

    def is_alive():
        calls["n"] += 1
        if calls["n"] >= 2:
            raise Died("engine exited with code -9")

    client = EvalClient(
        stub.url, "ok", max_tokens=5, concurrency=1, is_alive=is_alive, alive_interval_s=0.05
    )
    with pytest.raises(Died, match="code -9"):
        run(client, jobs(50))
    assert len(stub.requests) < 50


def test_is_alive_false_is_engine_crashed(free_port_url):
    client = EvalClient(
        free_port_url, "ok", max_tokens=5, concurrency=2, is_alive=lambda: False, backoff_s=0.01
    )
    with pytest.raises(EngineError) as exc:
        run(client, jobs(3))
    assert exc.value.code is Code.ENGINE_CRASHED


def test_engine_dead_after_the_last_streams_broke_is_engine_crashed(stub):
    """A killed server breaks the requests in flight a moment before its exit can be
    seen: with nothing left to send, the run must still end ENGINE_CRASHED, not return
    the broken samples as answers to score."""
    import time

    seen_dead_at: list[float] = []

    def is_alive() -> bool:
        if stub.cuts < 2:
            return True
        seen_dead_at.append(seen_dead_at[0] if seen_dead_at else time.monotonic() + 0.3)
        return time.monotonic() < seen_dead_at[0]  # exit seen 0.3 s after the cut

    client = EvalClient(stub.url, "cut", max_tokens=5, concurrency=2, is_alive=is_alive,
                        alive_interval_s=60)
    with pytest.raises(EngineError) as exc:
        run(client, jobs(2))
    assert exc.value.code is Code.ENGINE_CRASHED
    assert len(stub.requests) == 2  # broken streams are never sent again


def test_broken_stream_with_a_live_engine_is_a_sample_error(stub):
    client = EvalClient(stub.url, "cut", max_tokens=5, concurrency=1, is_alive=lambda: True,
                        crash_grace_s=0.2)
    res = run(client, jobs(1)).results[0]
    assert res.error.startswith("stream broken: RemoteProtocolError") and res.attempts == 1
