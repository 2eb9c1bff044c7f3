# Sourced by scripts/demo and scripts/test: makes .venv and installs oxide into it.
# PYTHON picks the interpreter (3.10 to 3.13); a .venv made by another version is
# made again. The argument names what to add: a dependency group of pyproject.toml
# (test, docs, bench, fuzz) or an extra in brackets ([trio]); versions come from
# constraints.txt, so every clone tests against the same packages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
want=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ -x .venv/bin/python ]; then
    have=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    if [ "$have" != "$want" ]; then
        echo "== .venv has Python $have, $PYTHON is $want: making it again"
        rm -rf .venv
    fi
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    # --group needs pip 25.1 or newer.
    .venv/bin/python -m pip install -q --upgrade 'pip>=25.1'
fi
what=${1:-}
stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)-${what:-none}"
if [ ! -e "$stamp" ]; then
    case "$what" in
        "") target=(-e .) ;;
        \[*) target=(-e ".$what") ;;
        *) target=(-e . --group "$what") ;;
    esac
    .venv/bin/python -m pip install -q -c constraints.txt "${target[@]}"
    touch "$stamp"
fi
