"""Print the options the installed vLLM's OpenAI API server accepts, as one JSON object.

SELF-CONTAINED: standard library + vllm only, no ``podium`` import, so it runs in any
engine environment (a Neuron image, a CUDA image, the CPU build)::

    ENGINE_PYTHON engine_probe.py > vllm-X.Y.Z.json

Output::

    {"probe_version": 1, "vllm_version": "0.32.0", "python": "3.11.9",
     "parser": "vllm.entrypoints.launchers.cli_args:make_arg_parser",
     "options": {"--max-model-len": {"takes_value": true, "choices": null,
                                      "negatable": false, ...}, ...}}

Each option is keyed by its canonical long spelling (the first ``--`` option string).
``negatable`` is true when vLLM also accepts ``--no-<name>`` (argparse's
BooleanOptionalAction); ``takes_value`` is false for flags (``--enforce-eager``).
``choices`` lists the accepted values when vLLM's parser enforces a list (strings; JSON
``null`` inside the list means the option also accepts the literal ``None``).
``choices_source`` says where the list comes from: ``"argparse"`` (the parser rejects
other values) or the vLLM registry that the engine checks the value against after
parsing (``--quantization``, ``--load-format``). ``metavar`` is vLLM's display hint.

The parser is read from vLLM's own code, the way ``python -m
vllm.entrypoints.openai.api_server`` builds it; the entry point moved across versions,
so the known locations are tried in order.
"""

from __future__ import annotations

import sys

# Run as a script, this file's folder (podium/plan, which has a types.py) would come
# first on sys.path and shadow the standard library: drop it before anything else.
if sys.path and __file__ and sys.path[0] == __import__("os").path.dirname(__file__):
    del sys.path[0]

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

PROBE_VERSION = 1

# (module, function) that adds every API-server option to a FlexibleArgumentParser.
PARSER_BUILDERS = (
    ("vllm.entrypoints.launchers.cli_args", "make_arg_parser"),  # 0.2x - 0.32
    ("vllm.entrypoints.openai.cli_args", "make_arg_parser"),  # 0.4 - 0.11+
)
FLEXIBLE_PARSER_MODULES = ("vllm.utils.argparse_utils", "vllm.utils")

# Options whose values vLLM checks after parsing (the parser takes any string): read the
# accepted list from the registry vLLM validates against. (module, attribute) in order.
VALIDATED_CHOICES = {
    "--quantization": (("vllm.model_executor.layers.quantization", "QUANTIZATION_METHODS"),),
    "--load-format": (
        ("vllm.model_executor.model_loader", "_LOAD_FORMAT_TO_MODEL_LOADER"),
        ("vllm.config.load", "LoadFormat"),  # an Enum in 0.10 - 0.11
        ("vllm.config", "LoadFormat"),
    ),
}
DEPRECATED_CHOICES = {
    "--quantization": (
        ("vllm.model_executor.layers.quantization", "DEPRECATED_QUANTIZATION_METHODS"),
    ),
}


def _import_first(candidates):
    errors = []
    for module_name, attr in candidates:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            errors.append(f"{module_name}: {exc}")
            continue
        if hasattr(module, attr):
            return f"{module_name}:{attr}", getattr(module, attr)
        errors.append(f"{module_name}: no {attr}")
    raise ImportError("; ".join(errors))


def _values(candidates) -> tuple[str, list[str]] | None:
    """The first registry found among ``candidates``, as (where, sorted names)."""
    try:
        where, found = _import_first(candidates)
    except ImportError:
        return None
    if isinstance(found, type) and hasattr(found, "__members__"):  # Enum
        names = [m.value for m in found]
    else:
        names = list(found)
    return where, sorted({str(n) for n in names})


def _jsonable(value):
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, float) and value != value:  # NaN
            return None
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "value") and isinstance(value.value, str | int):  # enums
        return value.value
    return repr(value)


def _takes_value(action: argparse.Action) -> bool:
    if isinstance(action, argparse.BooleanOptionalAction):
        return False
    return action.nargs != 0


def describe_action(action: argparse.Action) -> dict:
    longs = [s for s in action.option_strings if s.startswith("--")]
    negatable = isinstance(action, argparse.BooleanOptionalAction)
    aliases = [
        s
        for s in action.option_strings
        if s != longs[0] and not (negatable and s.startswith("--no-"))
    ]
    choices = None
    if action.choices is not None:
        choices = [c if c is None else str(_jsonable(c)) for c in action.choices]
    metavar = action.metavar if isinstance(action.metavar, str) else None
    return {
        "takes_value": _takes_value(action),
        "choices": choices,
        "negatable": negatable,
        "nargs": _jsonable(action.nargs),
        "dest": action.dest,
        "aliases": aliases,
        "default": _jsonable(action.default),
        "metavar": metavar,
        "type": getattr(action.type, "__name__", None) if action.type else None,
        "deprecated": bool(getattr(action, "deprecated", False)),
    }


def probe() -> dict:
    started = time.monotonic()
    # vLLM logs to stdout: keep stdout clean for the JSON.
    with contextlib.redirect_stdout(sys.stderr):
        import vllm

        where, make_arg_parser = _import_first(PARSER_BUILDERS)
        _, flexible = _import_first((m, "FlexibleArgumentParser") for m in FLEXIBLE_PARSER_MODULES)
        parser = make_arg_parser(flexible(description="podium engine probe"))
        deprecated = getattr(parser, "_deprecated", set())

    options = {}
    for action in parser._actions:
        longs = [s for s in action.option_strings if s.startswith("--")]
        if not longs or isinstance(action, argparse._HelpAction):
            continue
        info = describe_action(action)
        info["deprecated"] = info["deprecated"] or action in deprecated
        info["choices_source"] = "argparse" if info["choices"] is not None else None
        options[longs[0]] = info
    with contextlib.redirect_stdout(sys.stderr):
        for option, candidates in VALIDATED_CHOICES.items():
            found = _values(candidates)
            if option in options and options[option]["choices"] is None and found:
                options[option]["choices_source"], options[option]["choices"] = found
        for option, candidates in DEPRECATED_CHOICES.items():
            found = _values(candidates)
            if option in options and found:
                options[option]["deprecated_choices"] = found[1]
    return {
        "probe_version": PROBE_VERSION,
        "vllm_version": getattr(vllm, "__version__", "unknown"),
        "python": platform.python_version(),
        "parser": where,
        "probe_seconds": round(time.monotonic() - started, 2),
        "options": dict(sorted(options.items())),
    }


def main() -> int:
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
    try:
        result = probe()
    except Exception as exc:  # report, do not crash: the caller reads stdout
        print(json.dumps({"probe_version": PROBE_VERSION, "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    json.dump(result, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
