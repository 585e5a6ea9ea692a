"""Read safetensors headers without reading tensor data.

A safetensors file starts with an 8-byte little-endian unsigned header length N, then N
bytes of JSON: ``{"__metadata__": {...}, "<tensor>": {"dtype": "BF16", "shape": [..],
"data_offsets": [begin, end]}, ...}``, then the tensor bytes. The parameter count and
the bytes per dtype come from the header alone, so a 70B model is counted by reading a
few hundred kilobytes.

    >>> summary = read_summary(Path("model.safetensors"))  # doctest: +SKIP
    >>> summary.num_parameters, summary.parameters_by_dtype
    (134515008, {'BF16': 134515008})
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.errors import Code, HubError

# The safetensors library refuses headers above 100 MB; so do we.
MAX_HEADER_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class HeaderSummary:
    """What the headers of one or more safetensors files say."""

    num_parameters: int = 0
    num_bytes: int = 0
    parameters_by_dtype: dict[str, int] = field(default_factory=dict)
    tensor_names: frozenset[str] = frozenset()

    def __add__(self, other: HeaderSummary) -> HeaderSummary:
        by_dtype = dict(self.parameters_by_dtype)
        for dtype, n in other.parameters_by_dtype.items():
            by_dtype[dtype] = by_dtype.get(dtype, 0) + n
        return HeaderSummary(
            self.num_parameters + other.num_parameters,
            self.num_bytes + other.num_bytes,
            by_dtype,
            self.tensor_names | other.tensor_names,
        )


def _invalid(path: Path | str, why: str) -> HubError:
    name = Path(path).name
    return HubError(
        f"weights file {name} is not a valid safetensors file: {why}",
        "re-save the weights with safetensors (save_pretrained(..., safe_serialization=True))",
        code=Code.CONFIG_INVALID,
        details={"file": name},
    )


def read_header(path: Path) -> dict[str, Any]:
    """The JSON header of ``path``; reads 8 + N bytes, never the tensors."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise _invalid(path, f"file is {size} bytes, too short for a header")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER_BYTES or n > size - 8:
            raise _invalid(path, f"header length {n} is absurd for a file of {size} bytes")
        raw = f.read(n)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _invalid(path, f"header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise _invalid(path, "header is not a JSON object")
    return header


def summarize(tensors: Iterable[tuple[str, str, list[int], int]]) -> HeaderSummary:
    """Sum ``(name, dtype, shape, nbytes)`` rows into a :class:`HeaderSummary`."""
    params = nbytes = 0
    by_dtype: dict[str, int] = {}
    names = set()
    for name, dtype, shape, size in tensors:
        n = math.prod(shape)
        params += n
        nbytes += size
        by_dtype[dtype] = by_dtype.get(dtype, 0) + n
        names.add(name)
    return HeaderSummary(params, nbytes, by_dtype, frozenset(names))


def _rows(path: Path, header: dict[str, Any]) -> Iterable[tuple[str, str, list[int], int]]:
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape = str(info["dtype"]), [int(d) for d in info["shape"]]
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise _invalid(path, f"tensor {name!r} has no valid dtype/shape/data_offsets") from None
        yield name, dtype, shape, end - begin


def read_summary(path: Path) -> HeaderSummary:
    """Parameter count and bytes of one local safetensors file."""
    return summarize(_rows(path, read_header(path)))


def summary_from_hub_metadata(metadata: Any) -> HeaderSummary:
    """The same summary from huggingface_hub's ``get_safetensors_metadata`` result
    (``SafetensorsRepoMetadata``: files_metadata -> tensors -> dtype, shape, data_offsets)."""
    total = HeaderSummary()
    for file_meta in metadata.files_metadata.values():
        total = total + summarize(
            (name, t.dtype, list(t.shape), t.data_offsets[1] - t.data_offsets[0])
            for name, t in file_meta.tensors.items()
        )
    return total
