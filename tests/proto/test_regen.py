"""tools.regen: the YAML-to-JSON spec conversion and the one list of generation steps.

The full `python -m tools.regen --check` runs in scripts/test; these tests pin the
conversion rules on small documents and check that a stale JSON copy is reported.
"""

from __future__ import annotations

import pathlib

import pytest

from tools import regen

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_nullable_without_type_becomes_any_of_with_annotations_outside() -> None:
    schema = {
        "anyOf": [{"type": "string"}],
        "x-oaiTypeLabel": "string",
        "example": "gpt-image-1",
        "nullable": True,
        "description": "The model.",
        "default": "dall-e-2",
    }
    assert regen.without_nullable(schema) == {
        "description": "The model.",
        "default": "dall-e-2",
        "example": "gpt-image-1",
        "anyOf": [{"anyOf": [{"type": "string"}], "x-oaiTypeLabel": "string"}, {"type": "null"}],
    }
    # Key order is part of the committed bytes: annotations first, in a fixed order.
    assert list(regen.without_nullable(schema)) == ["description", "default", "example", "anyOf"]


def test_nullable_alone_becomes_any_of_empty_schema_or_null() -> None:
    assert regen.without_nullable({"allOf": [{"$ref": "#/x"}, {"nullable": True}]}) == {
        "allOf": [{"$ref": "#/x"}, {"anyOf": [{}, {"type": "null"}]}]
    }


def test_nullable_with_type_is_kept_and_false_is_dropped() -> None:
    typed = {"type": "string", "nullable": True}
    assert regen.without_nullable(typed) == typed
    assert regen.without_nullable({"$ref": "#/x", "nullable": False, "description": "d"}) == {
        "$ref": "#/x",
        "description": "d",
    }


def test_nested_schemas_are_rewritten_inside_out() -> None:
    doc = {"properties": {"a": {"oneOf": [{"$ref": "#/b", "nullable": True}], "nullable": True}}}
    assert regen.without_nullable(doc) == {
        "properties": {
            "a": {
                "anyOf": [
                    {"oneOf": [{"anyOf": [{"$ref": "#/b"}, {"type": "null"}]}]},
                    {"type": "null"},
                ]
            }
        }
    }


def test_yaml_dates_stay_strings_and_json_is_compact() -> None:
    text = "info:\n  created: 2024-01-01\n  when: 2024-01-01T00:00:00Z\n  n: 3\n"
    assert regen.spec_json(text) == (
        '{"info":{"created":"2024-01-01","when":"2024-01-01T00:00:00Z","n":3}}'
    )


def test_check_reports_a_json_copy_that_differs_from_the_spec(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "other.yml"
    spec.write_text("openapi: 3.1.0\n", encoding="utf-8")
    assert regen.run(spec, check=True, steps=[]) == 1
    assert "out of date: spec/openai-openapi.prism.json" in capsys.readouterr().out


def test_a_failing_step_is_named_and_counted(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "fails.py"
    script.write_text("import sys\nsys.exit(1 if '--check' in sys.argv else 0)\n")
    spec = tmp_path / "s.yml"
    spec.write_text("a: 1\n", encoding="utf-8")
    steps = [regen.Step("stale", str(script), reads_spec=False)]
    # The JSON copy differs too (a one-key spec): two failures, each named.
    assert regen.run(spec, check=True, steps=steps) == 2
    out = capsys.readouterr().out
    assert "step stale failed" in out


def test_every_step_script_exists_and_has_a_check_mode() -> None:
    names = [s.name for s in regen.STEPS]
    assert names.index("unasync") > names.index("operations")  # it copies the resources
    for step in regen.STEPS:
        source = (ROOT / step.script).read_text(encoding="utf-8")
        assert "--check" in source, step
        assert ("--spec" in source) == step.reads_spec, step
