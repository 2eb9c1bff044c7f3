"""Regenerates everything derived from the OpenAPI spec, in one command.

    python -m tools.regen [--spec PATH] [--check]     (or scripts/regen)

1. The JSON copy `spec/openai-openapi.prism.json` is made from the YAML spec:
   the same document, with every schema that says `nullable` but has no
   sibling `type` rewritten as `anyOf: [schema, {type: null}]` (OpenAPI 3.1
   dropped `nullable`; Prism's validator, and the generators, understand only
   the `anyOf` form). The generators read this copy because the standard
   library parses JSON in a fraction of the time YAML takes.
2. Each step of `STEPS` runs in order: the SDK supplement (read from the
   installed official SDK), the models, the request parameter
   types, the operation table and resources, unasync for the blocking twin of
   the resources, then the compat layer's table of the official type names.
   Every generator formats its output with the ruff of the environment (pinned
   in constraints.txt).

`--spec PATH` takes a new YAML spec: it is copied to `spec/openai-openapi.yml`
before the rest runs. `--check` writes nothing: it fails (exit 1) when the JSON
copy or any generated file differs from what the spec gives, naming the step.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC_YAML = ROOT / "spec" / "openai-openapi.yml"
SPEC_JSON = ROOT / "spec" / "openai-openapi.prism.json"


@dataclasses.dataclass(frozen=True)
class Step:
    """One generator: a script under the repository that takes `--check`."""

    name: str
    script: str
    # Whether the script reads the spec (then it is given `--spec <JSON copy>`).
    reads_spec: bool = True
    extra: tuple[str, ...] = ()

    def argv(self, spec_json: pathlib.Path, check: bool) -> list[str]:
        args = [sys.executable, str(ROOT / self.script), *self.extra]
        if self.reads_spec:
            args += ["--spec", str(spec_json)]
        if check:
            args.append("--check")
        return args


# The generation steps, in the order they must run. A new generator is one more
# line here (it must accept `--check`, and `--spec PATH` when it reads the spec).
STEPS: list[Step] = [
    # What the pinned official SDK calls beyond the spec (spec/sdk-supplement.json),
    # read from the installed SDK: the generators after it merge it into the spec.
    Step("sdk supplement", "tools/sdk_supplement.py", reads_spec=False),
    Step("models", "tools/codegen/generate_models.py"),
    Step("params", "tools/codegen/generate_params.py"),
    Step("operations", "tools/codegen/generate_operations.py"),
    Step("unasync", "tools/unasync.py", reads_spec=False),
    # The official names' table of oxide_io.compat: read from the installed official
    # SDK and the regenerated types, so it runs last.
    Step("compat types", "tools/codegen/generate_compat_types.py", reads_spec=False),
]

# Keywords that annotate a schema rather than constrain it: they stay on the
# outer schema when a `nullable` one is rewritten, in this order.
_ANNOTATIONS = ("description", "default", "example", "title")


def without_nullable(node: Any) -> Any:
    """`node` with every `nullable` schema lacking a `type` rewritten as an `anyOf`.

    A schema with a `type` keeps its `nullable` (the generators read it there); a
    `nullable: false` is dropped, as it says nothing.
    """
    if isinstance(node, list):
        return [without_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: without_nullable(value) for key, value in node.items()}
    if "nullable" not in node or "type" in node:
        return node
    if not node["nullable"]:
        return {key: value for key, value in node.items() if key != "nullable"}
    outer = {key: node[key] for key in _ANNOTATIONS if key in node}
    inner = {k: v for k, v in node.items() if k not in _ANNOTATIONS and k != "nullable"}
    return {**outer, "anyOf": [inner, {"type": "null"}]}


def load_yaml(text: str) -> Any:
    """The YAML document, with timestamps left as the strings they are written as.

    JSON has no date type: a `created: 2024-01-01` example must stay a string,
    not become a `datetime.date` that cannot be serialized.
    """
    try:
        import yaml
    except ImportError:
        raise SystemExit(
            "tools.regen needs PyYAML to read the spec: pip install -c constraints.txt pyyaml"
        ) from None
    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster

    class Loader(base):  # type: ignore[misc]
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return yaml.load(text, Loader=Loader)


def spec_json(yaml_text: str) -> str:
    """The JSON copy of a YAML spec, byte for byte as committed (compact, ASCII)."""
    return json.dumps(without_nullable(load_yaml(yaml_text)), separators=(",", ":"))


def run(spec: pathlib.Path, check: bool, steps: list[Step] | None = None) -> int:
    """Converts the spec and runs every step; returns the number of failed steps."""
    steps = STEPS if steps is None else steps
    started = time.monotonic()
    if not check and spec.resolve() != SPEC_YAML.resolve():
        shutil.copyfile(spec, SPEC_YAML)
        print(f"== spec: copied {spec} to {SPEC_YAML.relative_to(ROOT)}")
    converted = spec_json(spec.read_text(encoding="utf-8"))
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        if check:
            committed = SPEC_JSON.read_text(encoding="utf-8") if SPEC_JSON.exists() else None
            if committed != converted:
                print(f"out of date: {SPEC_JSON.relative_to(ROOT)} (run python -m tools.regen)")
                failed += 1
            # The generated code is checked against the spec given, not the copy.
            target = pathlib.Path(tmp) / SPEC_JSON.name
            target.write_text(converted, encoding="utf-8")
        else:
            target = SPEC_JSON
            if not SPEC_JSON.exists() or SPEC_JSON.read_text(encoding="utf-8") != converted:
                SPEC_JSON.write_text(converted, encoding="utf-8")
                print(f"== spec: wrote {SPEC_JSON.relative_to(ROOT)}")
        for step in steps:
            print(f"== {step.name}{' --check' if check else ''}", flush=True)
            env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
            if subprocess.run(step.argv(target, check), cwd=ROOT, env=env).returncode:
                print(f"step {step.name} failed ({step.script})")
                failed += 1
                if not check:  # later steps build on this one's output
                    break
    print(f"== {'checked' if check else 'regenerated'} in {time.monotonic() - started:.0f} s")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--spec", type=pathlib.Path, default=SPEC_YAML, help="the YAML spec (default: %(default)s)"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if anything is out of date"
    )
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        parser.error(f"no spec at {args.spec}")
    return 1 if run(args.spec, args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
