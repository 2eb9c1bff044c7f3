"""Generates `src/oxide_proto/types/` from the OpenAI OpenAPI spec.

    python tools/codegen/generate_models.py [--spec PATH] [--out DIR] [--check]

Reads the spec (the JSON copy when present: same content, parsed by the
stdlib), builds attrs classes for every component schema, groups them per API
area, writes one module per area plus the lazy index `__init__.py`, and formats
the result with ruff. `--check` regenerates into a temporary directory and fails
if the committed files differ (the CI check).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import pathlib
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import emit  # noqa: E402
import grouping  # noqa: E402
import supplement as sdk_supplement  # noqa: E402
from schema_ir import AliasDef, Builder, Model, use_same_types  # noqa: E402

ROOT = HERE.parent.parent
DEFAULT_SPEC = ROOT / "spec" / "openai-openapi.prism.json"
DEFAULT_OUT = ROOT / "src" / "oxide_proto" / "types"


def load_spec(path: pathlib.Path, *, supplement: bool = True) -> dict[str, Any]:
    """The spec at `path`, with what the pinned official SDK adds to it (`spec/sdk-supplement.json`,
    see `supplement.py`) unless `supplement` is false."""
    if path.suffix == ".json":
        spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    else:
        import yaml  # only needed for the YAML original

        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if supplement and sdk_supplement.SUPPLEMENT.exists():
        spec = sdk_supplement.merge(spec, sdk_supplement.load())
    return spec


def area_titles(spec: dict[str, Any]) -> dict[str, str]:
    titles = {grouping.module_of_tag(t["name"]): t["name"] for t in spec.get("tags", [])}
    titles.setdefault("webhooks", "Webhooks")
    return titles


WEBHOOK_EVENT = "WebhookEvent"


def add_webhook_event(spec: dict[str, Any], model: Model) -> None:
    """`WebhookEvent`: the union of the payloads of the spec's `webhooks` section.

    The spec names no schema for "any webhook delivery", yet that is what decoding
    one gives (`client.webhooks.unwrap()`): the alias lets it be typed precisely.
    """
    members = []
    for name in sorted(spec.get("webhooks", {})):
        for operation in spec["webhooks"][name].values():
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            members.append(("ref", model.names[schema["$ref"].rsplit("/", 1)[1]]))
    if not members:
        return
    doc = "Any webhook event the API delivers, told apart by its `type`."
    union = ("union", tuple(sorted(set(members))))
    model.aliases[WEBHOOK_EVENT] = AliasDef(WEBHOOK_EVENT, doc, union, WEBHOOK_EVENT)


def generate(spec: dict[str, Any], out: pathlib.Path) -> list[pathlib.Path]:
    model = Builder(spec["components"]["schemas"]).build()
    use_same_types(model, spec.get("x-sdk-same-types", {}))
    add_webhook_event(spec, model)
    placement = grouping.assign(spec, model)
    if WEBHOOK_EVENT in model.aliases:  # its members' area, not the one of no schema
        placement[WEBHOOK_EVENT] = "webhooks"
    titles = area_titles(spec)
    modules = sorted(set(placement.values()))
    index: dict[str, str] = dict(placement)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for module in modules:
        spec_aliases = {
            spec_name: name
            for spec_name, name in model.spec_aliases.items()
            if placement[name] == module and spec_name not in placement and spec_name.isidentifier()
        }
        for spec_name in spec_aliases:
            index[spec_name] = module
        title = titles.get(module, module.replace("_", " ").title())
        source = emit.emit_module(module, title, model, placement, spec_aliases)
        path = out / f"{module}.py"
        path.write_text(source, encoding="utf-8")
        written.append(path)
    init = out / "__init__.py"
    init.write_text(emit.emit_index(index), encoding="utf-8")
    written.append(init)
    for stale in sorted(out.glob("*.py")):
        if stale not in written:
            stale.unlink()
    files = [str(p) for p in written]
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run([*ruff, "check", "--fix", "--quiet", "--select", "I,F401", *files], check=True)
    subprocess.run([*ruff, "format", "--quiet", *files], check=True)
    for path in written:
        mark_long_lines(path)
    # Drops the file-level RUF023 noqa where every `__slots__` happens to be sorted.
    tidy = ["check", "--fix", "--quiet", "--exit-zero", "--select", "RUF100,RUF023,E501"]
    subprocess.run([*ruff, *tidy, *files], check=True)
    return written


def mark_long_lines(path: pathlib.Path) -> None:
    """Lines the formatter cannot break (very long spec names) get a noqa of their own."""
    lines = path.read_text(encoding="utf-8").split("\n")
    marked = [line + "  # noqa: E501" if len(line) > 100 else line for line in lines]
    if marked != lines:
        path.write_text("\n".join(marked), encoding="utf-8")


def stale_files(generate_into: Callable[[pathlib.Path], object], out: pathlib.Path) -> list[str]:
    """The `.py` files in `out` that generating afresh would change, add or remove."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = pathlib.Path(tmp) / out.name
        generate_into(fresh)
        names = sorted(p.name for p in fresh.glob("*.py"))
        committed = sorted(p.name for p in out.glob("*.py"))
        _, mismatch, errors = filecmp.cmpfiles(fresh, out, names, shallow=False)
        return sorted(set(mismatch + errors) | set(names) ^ set(committed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=pathlib.Path, default=DEFAULT_SPEC)
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    spec = load_spec(args.spec)
    if not args.check:
        generate(spec, args.out)
        return 0
    stale = stale_files(lambda out: generate(spec, out), args.out)
    if stale:
        print(f"out of date: {stale}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
