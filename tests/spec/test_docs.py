"""Docs and schema are generated from the flag table and stay true."""

from __future__ import annotations

from pathlib import Path

from podium.spec import docs
from podium.spec.flags import FLAGS
from podium.spec.parse import parse_flat

ROOT = Path(__file__).resolve().parents[2]


def test_docs_flags_md_is_generated_from_the_table() -> None:
    committed = (ROOT / "docs" / "flags.md").read_text()
    assert committed == docs.markdown() + "\n", "run: podium flags --markdown > docs/flags.md"


def test_schema_lists_every_flag_with_the_wire_key_the_parser_accepts() -> None:
    schema = docs.json_schema()
    assert set(schema["properties"]) == {f.wire_key for f in FLAGS}
    assert schema["required"] == ["hf_repo"]
    # every wire key round-trips through the flat parser
    payload = {"hf_repo": "a/b", "vllm.max_model_len": "8", "vllm_inference.max_tokens": "4"}
    assert set(payload) <= set(schema["properties"])
    assert parse_flat(payload).vllm == {"max-model-len": 8}


def test_help_lists_every_flag() -> None:
    epilog = docs.flags_epilog()
    for f in FLAGS:
        assert f.option in epilog
