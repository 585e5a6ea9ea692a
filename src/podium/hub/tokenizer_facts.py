"""What the tokenizer files of a model say: which exist, the chat template, the eos id.

Reads JSON only (no ``tokenizers``, no ``transformers``): the eos token string from
tokenizer_config.json (or special_tokens_map.json) is mapped to its id through
tokenizer.json's added_tokens, then its vocabulary, then added_tokens.json / vocab.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
)


@dataclass(frozen=True)
class TokenizerFacts:
    files: list[str]
    has_tokenizer: bool
    has_chat_template: bool
    eos_token: str | None
    eos_ids: list[int]
    auto_map: dict[str, str]


def _load(path: Path) -> Any:
    """JSON content of ``path``, or None when missing or unreadable: a broken tokenizer
    file is reported as a missing tokenizer by the preflight, not as a crash here."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _content(token: Any) -> str | None:
    if isinstance(token, dict):
        token = token.get("content")
    return token if isinstance(token, str) and token else None


def token_id(folder: Path, token: str, tokenizer_json: Any = None) -> int | None:
    """The id of ``token`` in the tokenizer files of ``folder``, or None."""
    tj = tokenizer_json if tokenizer_json is not None else _load(folder / "tokenizer.json")
    if isinstance(tj, dict):
        for added in tj.get("added_tokens") or []:
            if isinstance(added, dict) and added.get("content") == token:
                return int(added["id"])
        vocab = (tj.get("model") or {}).get("vocab")
        if isinstance(vocab, dict) and isinstance(vocab.get(token), int):
            return int(vocab[token])
        if isinstance(vocab, list):  # Unigram: [[piece, score], ...]
            for i, entry in enumerate(vocab):
                if isinstance(entry, list) and entry and entry[0] == token:
                    return i
    for name in ("added_tokens.json", "vocab.json"):
        table = _load(folder / name)
        if isinstance(table, dict) and isinstance(table.get(token), int):
            return int(table[token])
    return None


def _chat_template(folder: Path, tok_config: dict[str, Any]) -> bool:
    tmpl = tok_config.get("chat_template")
    if isinstance(tmpl, str) and tmpl.strip():
        return True
    if isinstance(tmpl, list) and any(isinstance(t, dict) and t.get("template") for t in tmpl):
        return True
    jinja = folder / "chat_template.jinja"
    if jinja.is_file() and jinja.stat().st_size > 0:
        return True
    data = _load(folder / "chat_template.json")
    if isinstance(data, dict) and data.get("chat_template"):
        return True
    templates = folder / "additional_chat_templates"
    return templates.is_dir() and any(templates.glob("*.jinja"))


def flatten_auto_map(auto_map: Any) -> dict[str, str]:
    """``{"AutoTokenizer": ["tok.A", null]}`` -> ``{"AutoTokenizer": "tok.A"}``."""
    if not isinstance(auto_map, dict):
        return {}
    out = {}
    for key, value in auto_map.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value if v)
        if value:
            out[str(key)] = str(value)
    return out


def read_tokenizer(folder: Path) -> TokenizerFacts:
    files = [name for name in TOKENIZER_FILES if (folder / name).is_file()]
    tok_config = _load(folder / "tokenizer_config.json")
    tok_config = tok_config if isinstance(tok_config, dict) else {}
    special = _load(folder / "special_tokens_map.json")
    special = special if isinstance(special, dict) else {}
    tokenizer_json = _load(folder / "tokenizer.json")

    has_tokenizer = (
        isinstance(tokenizer_json, dict)
        or "tokenizer.model" in files
        or {"vocab.json", "merges.txt"} <= set(files)
        or "vocab.txt" in files
    )
    eos = _content(tok_config.get("eos_token")) or _content(special.get("eos_token"))
    eos_ids = []
    if eos is not None:
        found = token_id(folder, eos, tokenizer_json)
        if found is not None:
            eos_ids.append(found)
    return TokenizerFacts(
        files=files,
        has_tokenizer=has_tokenizer,
        has_chat_template=_chat_template(folder, tok_config),
        eos_token=eos,
        eos_ids=eos_ids,
        auto_map=flatten_auto_map(tok_config.get("auto_map")),
    )
