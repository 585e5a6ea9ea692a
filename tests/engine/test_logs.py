"""Finding vLLM's own error line in a log, and the hint that goes with it."""

from __future__ import annotations

from pathlib import Path

from podium.engine.logs import error_line, hint_for, tail

ENGINE_CORE_FAILURE = """\
(APIServer pid=10) INFO 12-03 16:50:51 [model.py:733] Resolved architecture: LlamaForCausalLM
(EngineCore pid=20) ERROR 12-03 16:51:25 [core.py:1100] EngineCore failed to start.
(EngineCore pid=20) ERROR 12-03 16:51:25 [core.py:1100] Traceback (most recent call last):
(EngineCore pid=20) ERROR 12-03 16:51:25 [core.py:1100] ValueError: To serve at least one request with the models's max seq len (100000), (5.49 GiB KV cache is needed, which is larger than the available KV cache memory (1.0 GiB).
Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}
"""

ARGPARSE_FAILURE = """\
/x/api_server.py:24: DeprecationWarning: `vllm.entrypoints.openai.api_server` is deprecated
  warnings.warn(
usage: api_server.py [-h] [--headless] ...
api_server.py: error: argument --dtype: invalid choice: 'float64' (choose from auto, half)
"""


def test_root_cause_beats_the_wrapper() -> None:
    line = error_line(ENGINE_CORE_FAILURE.splitlines())
    assert line is not None and "ValueError: To serve at least one request" in line
    assert "max-model-len" in hint_for(line)


def test_argparse_error() -> None:
    line = error_line(ARGPARSE_FAILURE.splitlines())
    assert (
        line
        == "api_server.py: error: argument --dtype: invalid choice: 'float64' (choose from auto, half)"
    )
    assert "--vllm.*" in hint_for(line)


def test_no_error_line() -> None:
    assert error_line(["INFO all good", ""]) is None
    assert "SIGKILL" in hint_for(None, -9)
    assert hint_for(None, 1) == "read the engine log for the cause"


def test_tail(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert tail(log, 3) == ["line 97", "line 98", "line 99"]
    assert tail(tmp_path / "missing.log") == []


WORKER_FAILURE = """\
(VllmWorker-0 pid=13) ERROR 12-03 17:13:57 [multiproc_executor.py:953] ValueError: Available memory on node 0 (19.18/23.54 GiB) on startup is less than desired CPU memory utilization (0.92, 21.66 GiB).
(EngineCore pid=12) ERROR 12-03 17:14:03 [core.py:1510] Exception: WorkerProc initialization failed due to an exception in a background process. See stack trace for root cause.
Exception: WorkerProc initialization failed due to an exception in a background process. See stack trace for root cause.
    raise RuntimeError(
RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {'EngineCore': 1}
"""


def test_worker_root_cause_and_memory_hint() -> None:
    line = error_line(WORKER_FAILURE.splitlines())
    assert line is not None and "ValueError: Available memory on node 0" in line
    assert "VLLM_CPU_KVCACHE_SPACE" in hint_for(line)
