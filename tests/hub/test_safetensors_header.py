"""Safetensors headers: counts without data, and refusal of broken headers."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from podium.errors import Code, HubError
from podium.hub.safetensors_header import MAX_HEADER_BYTES, read_header, read_summary


def _write(path: Path, header: dict, data: bytes = b"") -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def test_counts_by_dtype_from_header_only(tmp_path: Path) -> None:
    # The data section is deliberately absent: only the header is read.
    header = {
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "BF16", "shape": [3, 4], "data_offsets": [0, 24]},
        "b": {"dtype": "F32", "shape": [5], "data_offsets": [24, 44]},
        "c": {"dtype": "I8", "shape": [2, 2, 2], "data_offsets": [44, 52]},
    }
    s = read_summary(_write(tmp_path / "m.safetensors", header, b"\0" * 52))
    assert s.num_parameters == 12 + 5 + 8 and s.num_bytes == 52
    assert s.parameters_by_dtype == {"BF16": 12, "F32": 5, "I8": 8}
    assert s.tensor_names == {"a", "b", "c"}


def test_agrees_with_the_safetensors_library(tmp_path: Path) -> None:
    import numpy as np
    import safetensors.numpy as st
    path = tmp_path / "x.safetensors"
    st.save_file({"w": np.zeros((7, 3), np.float16), "v": np.zeros(11, np.float32)}, str(path))
    s = read_summary(path)
    assert s.num_parameters == 32 and s.parameters_by_dtype == {"F16": 21, "F32": 11}
    assert s.num_bytes == 21 * 2 + 11 * 4


@pytest.mark.parametrize(
    "content,why",
    [
        (struct.pack("<Q", 10**15) + b"{}", "absurd"),
        (struct.pack("<Q", MAX_HEADER_BYTES + 1) + b"{}", "absurd"),
        (struct.pack("<Q", 100) + b"{}", "absurd"),  # longer than the file
        (b"\x01\x02", "too short"),
        (struct.pack("<Q", 4) + b"nope", "not JSON"),
        (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
        (struct.pack("<Q", 13) + b'{"t": {"x":1}}'[:13], "not JSON"),
    ],
)
def test_broken_headers_are_refused(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(HubError) as info:
        read_header(path)
    assert info.value.code is Code.CONFIG_INVALID and why in info.value.message
    assert "bad.safetensors" in info.value.message


def test_tensor_without_offsets(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.safetensors", {"t": {"dtype": "F32", "shape": [1]}}, b"\0" * 4)
    with pytest.raises(HubError, match="'t'"):
        read_summary(path)
