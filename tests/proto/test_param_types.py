"""Request parameter types (`oxide_proto.types.params`): what a type checker makes of a call.

One mypy run (they are slow) checks small programs against our package: a valid
chat and Responses call passes; a misspelt key, a wrong role and a wrong nested
type each fail where expected; and every request body the spec's own curl
examples send, written as a call of the generated method, type-checks, apart
from a few examples that contradict the spec's schemas (the official SDK's types
reject those same examples). At run time every params module imports, also on
Python 3.10, where `typing.Required` does not exist.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

import oxide_proto.types.params as params

ROOT = pathlib.Path(__file__).resolve().parents[2]
PARAMS_DIR = ROOT / "src" / "oxide_proto" / "types" / "params"
MODULES = sorted(p.stem for p in PARAMS_DIR.glob("*.py") if p.stem != "__init__")
PYTHON_310 = pathlib.Path("/root/.pyenv/versions/3.10.13/bin/python")
CODEGEN = ROOT / "tools" / "codegen"

# Spec examples that contradict the spec's own schemas; the official SDK's
# param types reject the first four the same way.
EXAMPLES_AT_ODDS = {
    # an input_image with `"file_id": null`, which the schema does not allow
    "runGrader",
    # text and image parts mixed in one list literal: mypy infers `list[object]`
    # against `str | Sequence[str] | Iterable[...]`
    "createModeration",
    # an input_image without its required `detail`
    "createResponse",
    # a static chunking strategy without its `static` object
    "createVectorStoreFileBatch",
    # `scope`, `max_requests_*` and an integer `expires_after`, none in the schema
    "CreateChatSessionMethod",
    # the Responses example again, under `client.beta.responses`
    "beta_createResponse",
}

VALID = """\
import oxide_io
from oxide_proto.types.params import ChatCompletionMessageParam

client = oxide_io.Client(api_key="sk-test")
messages: list[ChatCompletionMessageParam] = [
    {"role": "developer", "content": "Answer in French."},
    {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
    ]},
    {"role": "tool", "tool_call_id": "c1", "content": "42"},
]
completion = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=messages,
    tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    tool_choice={"type": "function", "function": {"name": "f"}},
    response_format={
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
    },
    metadata={"run": "1"},
)
response = client.responses.create(
    model="gpt-4o-mini",
    input=[{"role": "user", "content": "Hi"}],
    tools=[{"type": "function", "name": "f", "parameters": None, "strict": True}],
    text={"format": {"type": "json_object"}},
)
"""
# Each line after the first three holds one mistake; MISTAKES gives what mypy says.
MISTAKES_PROGRAM = """\
import oxide_io
from oxide_proto.types.params import ChatCompletionMessageParam, ChatCompletionUserMessageParam
client = oxide_io.Client(api_key="sk-test")
client.vector_stores.create(expires_after={"anchor": "last_active_at", "dayz": 3})
client.chat.completions.create(model="m", messages=[{"rol": "user", "content": "Hi"}])
user: ChatCompletionUserMessageParam = {"role": "usr", "content": "Hi"}
message: ChatCompletionMessageParam = {"role": "usr", "content": "Hi"}
client.vector_stores.create(chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": "8"}})
client.chat.completions.create(model="m", messages=[], tools=[{"type": "function", "function": {"name": 3}}])
"""  # noqa: E501
MISTAKES = {
    4: r'Argument "expires_after" to "create" of "SyncVectorStores" has incompatible type',
    5: r'List item 0 has incompatible type "dict\[str, str\]"; expected "ChatCompletionDeveloper',
    6: r"Incompatible types \(expression has type \"Literal\['usr'\]\", TypedDict item \"role\"",
    7: r"Type of TypedDict is ambiguous, none of \(\"ChatCompletionDeveloperMessageParam\"",
    8: r'Argument "chunking_strategy" to "create" of "SyncVectorStores" has incompatible type',
    9: r'expression has type "int", TypedDict item "name" has type "str"',
}


def _example_calls() -> tuple[str, dict[int, str]]:
    """A program calling each operation with its curl example's JSON body; line -> operation."""
    sys.path.insert(0, str(CODEGEN))
    try:
        import generate_models
        import generate_operations
        from operations_ir import py_name
    finally:
        sys.path.remove(str(CODEGEN))
    spec = generate_models.load_spec(generate_models.DEFAULT_SPEC)
    _, named = generate_operations.load(spec)
    by_id: dict[str, str] = {}
    for name, op in sorted(named.items()):
        by_id.setdefault(op.op_id, name)
    lines = ["import oxide_io", "", 'client = oxide_io.Client(api_key="sk-test")']
    where: dict[int, str] = {}
    for item in spec["paths"].values():
        for raw in item.values():
            if not isinstance(raw, dict) or raw.get("operationId") not in by_id:
                continue
            examples = raw.get("x-oaiMeta", {}).get("examples")
            for example in examples if isinstance(examples, list) else [examples]:
                curl = (example or {}).get("request", {}).get("curl", "")
                found = re.search(r"-d '(.*?)'", curl, re.S)
                if not found:
                    continue
                try:
                    body = json.loads(found.group(1))
                except ValueError:
                    continue  # placeholders or comments: not JSON
                name = by_id[raw["operationId"]]
                args = [f"{p}='x'" for p in named[name].path_params]
                args += [f"{py_name(k)}={v!r}" for k, v in body.items()]
                lines.append(f"client.{name}({', '.join(args)})")
                where[len(lines)] = raw["operationId"]
    return "\n".join(lines) + "\n", where


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Error lines per program, from one mypy run over all of them."""
    mypy_api = pytest.importorskip("mypy.api")
    tmp = tmp_path_factory.mktemp("param_types")
    examples, _ = _example_calls()
    programs = {
        "valid": VALID,
        "mistakes": MISTAKES_PROGRAM,
        "examples": examples,
    }
    for name, source in programs.items():
        (tmp / f"{name}.py").write_text(source, encoding="utf-8")
    stdout, stderr, _ = mypy_api.run(
        [
            *(str(tmp / f"{name}.py") for name in programs),
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp / "cache"),
            "--no-error-summary",
            "--hide-error-context",
            "--show-error-codes",
        ]
    )
    assert stderr == ""
    errors: dict[str, list[str]] = {name: [] for name in programs}
    for line in stdout.splitlines():
        path, _, rest = line.partition(":")
        if ": error:" in line:
            errors[pathlib.Path(path).stem].append(rest)
    return errors


def test_valid_calls_type_check(mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors["valid"] == []


@pytest.mark.parametrize(("line", "expected"), sorted(MISTAKES.items()))
def test_mistakes_are_caught(mypy_errors: dict[str, list[str]], line: int, expected: str) -> None:
    said = [e for e in mypy_errors["mistakes"] if e.startswith(f"{line}:")]
    assert any(re.search(expected, e) for e in said), said


def test_no_other_line_has_an_error(mypy_errors: dict[str, list[str]]) -> None:
    assert {int(e.split(":")[0]) for e in mypy_errors["mistakes"]} == set(MISTAKES)


def test_spec_examples_type_check(mypy_errors: dict[str, list[str]]) -> None:
    _, where = _example_calls()
    failing = {where.get(int(line.split(":")[0]), line) for line in mypy_errors["examples"]}
    assert failing == EXAMPLES_AT_ODDS
    assert len(where) > 100


@pytest.mark.parametrize("module", MODULES)
def test_every_module_imports_and_defines_its_names(module: str) -> None:
    loaded = importlib.import_module(f"oxide_proto.types.params.{module}")
    assert loaded.__all__
    for name in loaded.__all__:
        assert hasattr(loaded, name)


def test_index_resolves_every_name() -> None:
    names = dir(params)
    assert len(names) > 300
    for name in names:
        assert getattr(params, name) is not None
    with pytest.raises(AttributeError, match="NoSuchParam"):
        params.NoSuchParam  # noqa: B018


def test_typed_dicts_are_plain_dicts_at_run_time() -> None:
    from oxide_proto.types.params import ChatCompletionUserMessageParam

    message = ChatCompletionUserMessageParam(role="user", content="Hi")
    assert message == {"role": "user", "content": "Hi"}
    assert type(message) is dict


@pytest.mark.skipif(not PYTHON_310.exists(), reason="no Python 3.10 interpreter here")
def test_modules_import_on_python_310() -> None:
    # Python 3.10 here has none of our dependencies: the parent packages are
    # stood in for, so only the params modules themselves run.
    script = textwrap.dedent(
        f"""
        import importlib, sys, types
        src = {str(ROOT / "src")!r}
        for name in ("oxide_proto", "oxide_proto.types"):
            package = types.ModuleType(name)
            package.__path__ = [src + "/" + name.replace(".", "/")]
            sys.modules[name] = package
        index = importlib.import_module("oxide_proto.types.params")
        for module in {MODULES!r}:
            importlib.import_module("oxide_proto.types.params." + module)
        names = dir(index)
        for name in names:
            getattr(index, name)
        print(sys.version_info[:2], len(names))
        """
    )
    result = subprocess.run(
        [str(PYTHON_310), "-I", "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("(3, 10)")
