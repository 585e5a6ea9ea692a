from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from podium.plan import capabilities


def test_builtin_tables() -> None:
    v011 = capabilities.builtin("0.11.0")
    assert v011.has("--rope-scaling") and v011.has("--lora-extra-vocab-size")
    assert "fp8" in v011.choices("--kv-cache-dtype")
    assert "0.11.0" in capabilities.builtin_versions()


def test_version_order() -> None:
    vt = capabilities.version_tuple
    assert vt("0.11.1") > vt("0.11.0")
    assert vt("0.32.0+cpu") == (0, 32, 0)
    assert vt("0.11.1rc2") >= vt("0.11.1")


def test_probe_result_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake engine Python that prints a probe answer and counts its calls."""
    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path / "cache"))
    counter = tmp_path / "calls"
    fake = tmp_path / "bin" / "python"
    fake.parent.mkdir()
    answer = {"vllm_version": "9.9.9", "options": {"--max-model-len": {"takes_value": True}}}
    fake.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(counter)!r}, 'a').write('x')\n"
        f"print({json.dumps(json.dumps(answer))})\n"
    )
    fake.chmod(0o755)
    first = capabilities.installed(str(fake))
    second = capabilities.installed(str(fake))
    assert first is not None and first.version == "9.9.9" and first.source == "installed"
    assert second == first
    assert counter.read_text() == "x", "the probe ran once; the second answer came from the cache"


def test_missing_engine_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_CACHE_DIR", str(tmp_path))
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'No module named vllm' >&2\nexit 1\n")
    fake.chmod(0o755)
    assert capabilities.installed(str(fake)) is None
