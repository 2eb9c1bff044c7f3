# Sourced by scripts/demo and scripts/test: makes .venv and installs oxide into it.
# PYTHON picks the interpreter (3.10 to 3.13); the extras to install follow.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi
stamp=".venv/.installed-$(cat pyproject.toml | cksum | cut -d' ' -f1)-${1:-none}"
if [ ! -e "$stamp" ]; then
    if [ -n "${1:-}" ]; then
        .venv/bin/python -m pip install -q -e ".[$1]"
    else
        .venv/bin/python -m pip install -q -e .
    fi
    touch "$stamp"
fi
