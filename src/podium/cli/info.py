"""Reference commands: ``podium flags``, ``podium model-types``, ``podium targets``."""

from __future__ import annotations

from typing import Annotated

import typer


def flags(
    json_out: Annotated[bool, typer.Option("--json", help="The JSON schema of a submission.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="The docs page (docs/flags.md).")] = False,
) -> None:
    from podium.cli.render import out, print_json
    from podium.spec import docs
    from podium.spec.flags import FLAGS

    if json_out:
        print_json(docs.json_schema())
        return
    if markdown:
        print(docs.markdown())
        return
    from rich.table import Table

    t = Table("flag", "type", "default", "allowed", "help")
    for f in FLAGS:
        t.add_row(f.option, f.kind.value, "" if f.default is None else str(f.default), docs.allowed_text(f), f.help)
    out.print(t)


def model_types(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    from podium.cli.render import out, print_json
    from podium.spec.model_types import ALIASES, MODEL_TYPES

    rows = [
        {
            "key": mt.key,
            "hf_model_types": list(mt.hf_model_types),
            "architectures": list(mt.architectures),
            "since": mt.since,
            "multimodal": mt.multimodal,
            "beta": mt.beta,
            "note": mt.note,
        }
        for mt in MODEL_TYPES.values()
    ]
    if json_out:
        print_json({"model_types": rows, "aliases": ALIASES, "auto": True})
        return
    from rich.table import Table

    t = Table("key", "architectures", "since", "notes")
    for r in rows:
        notes = ", ".join(x for x in ("multimodal" if r["multimodal"] else "", "beta" if r["beta"] else "", r["note"]) if x)
        t.add_row(r["key"], ", ".join(r["architectures"]), r["since"], notes)
    out.print(t)
    out.print("auto: detect from config.json; aliases: " + ", ".join(f"{a} -> {k}" for a, k in ALIASES.items()))


def targets(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    from podium.cli.render import out, print_json
    from podium.plan.targets import DEFAULT_TARGET, all_targets

    rows = [t.to_dict() for t in all_targets()]
    if json_out:
        print_json({"targets": rows, "default": DEFAULT_TARGET})
        return
    from rich.table import Table

    t = Table("name", "backend", "devices", "cores", "device memory", "description")
    for r in rows:
        t.add_row(
            r["name"] + (" (default)" if r["name"] == DEFAULT_TARGET else ""),
            r["backend"],
            str(r["device_count"]),
            str(r["total_cores"]),
            f"{r['device_memory_gib'] * r['device_count']:g} GiB",
            r["description"],
        )
    out.print(t)
