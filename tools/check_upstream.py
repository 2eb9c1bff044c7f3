"""Reports what the newest official `openai` release changes against the pinned one.

    python tools/check_upstream.py                  # the newest release on the index
    python tools/check_upstream.py --version 3.70.0 # a given release

Installs the release into a temporary virtual environment (nothing in the repository
or its .venv changes), walks both SDKs' clients the way `tools/sdk_supplement.py`
does, and prints the methods added and removed and, for methods in both, the
parameters added, removed or whose required-ness changed. The pinned release is
the one installed here (constraints.txt pins it). To adopt a newer release: change
the pin, reinstall, run `python tools/sdk_supplement.py --generate`, and update the
known differences in tests/io/test_operations_surface.py.

Exit status: 0 when nothing changed, 1 when something did, 2 when the release
could not be installed.
"""

from __future__ import annotations

import argparse
import inspect
import json
import pathlib
import subprocess
import sys
import tempfile
import venv
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
Surface = dict[str, dict[str, Any]]


def surface() -> Surface:
    """Method name -> its positional parameters and keyword parameters (name -> required)."""
    import openai

    sys.path.insert(0, str(ROOT / "tools"))
    from sdk_supplement import methods

    out: Surface = {"__version__": {"version": openai.__version__}}
    client = openai.OpenAI(api_key="sk-check", base_url="http://127.0.0.1:9")
    for name, func in methods(client).items():
        params = list(inspect.signature(func).parameters.values())[1:]
        out[name] = {
            "positional": [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD],
            "keywords": {p.name: p.default is p.empty for p in params if p.kind is p.KEYWORD_ONLY},
        }
    return out


def upstream(version: str | None) -> Surface:
    """The surface of `openai` (the newest, or `version`) installed in a throwaway venv."""
    with tempfile.TemporaryDirectory(prefix="oxide-upstream-") as tmp:
        env = pathlib.Path(tmp) / "venv"
        venv.EnvBuilder(with_pip=True).create(env)
        python = env / "bin" / "python"
        spec = f"openai=={version}" if version else "openai"
        install = [str(python), "-m", "pip", "install", "--quiet", "--upgrade", spec]
        done = subprocess.run(install, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pip install {spec} failed:\n{done.stderr.strip()}")
        dump = subprocess.run(
            [str(python), __file__, "--dump"], capture_output=True, text=True, check=True
        )
        found: Surface = json.loads(dump.stdout)
        return found


def compare(pinned: Surface, newer: Surface) -> list[str]:
    """The differences, one line each, sorted by method."""
    lines = []
    names = (set(pinned) | set(newer)) - {"__version__"}
    for name in sorted(names):
        if name not in pinned:
            lines.append(f"+ {name}")
            continue
        if name not in newer:
            lines.append(f"- {name}")
            continue
        old, new = pinned[name], newer[name]
        if old["positional"] != new["positional"]:
            lines.append(f"~ {name}: positional {old['positional']} -> {new['positional']}")
        for key in sorted(set(new["keywords"]) - set(old["keywords"])):
            lines.append(f"~ {name}: + {key}{' (required)' if new['keywords'][key] else ''}")
        for key in sorted(set(old["keywords"]) - set(new["keywords"])):
            lines.append(f"~ {name}: - {key}")
        for key in sorted(set(old["keywords"]) & set(new["keywords"])):
            if old["keywords"][key] != new["keywords"][key]:
                now = "required" if new["keywords"][key] else "optional"
                lines.append(f"~ {name}: {key} is now {now}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="the release to compare with (default: the newest)")
    parser.add_argument("--dump", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump:  # run inside the temporary venv: print its SDK's surface
        print(json.dumps(surface()))
        return 0
    pinned = surface()
    try:
        newer = upstream(args.version)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(exc, file=sys.stderr)
        return 2
    old, new = pinned["__version__"]["version"], newer["__version__"]["version"]
    lines = compare(pinned, newer)
    print(f"openai {old} (pinned) -> {new}: {len(lines)} change(s)")
    for line in lines:
        print(f"  {line}")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
