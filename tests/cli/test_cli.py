"""The `oxide` command line, run as a process against the embedded MockServer.

Each test runs `python -m oxide_io ...` in a subprocess (what the console script
runs), pointed by OPENAI_BASE_URL at a MockServer this test process started on
127.0.0.1, and checks what it printed, its exit status and what the server saw.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from oxide_io import Client
from oxide_io.cli._table import BadValue, Param, find_method, methods
from oxide_io.testing import MockServer

KEY = "sk-cli-test-0123456789SECRET"
REPLY = re.compile(r'^You said: "(.*)"\. This reply comes from the oxide mock server\.$', re.S)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(api_key=KEY) as running:
        yield running


def oxide(
    *args: str,
    server: MockServer | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    key: str | None = KEY,
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OXIDE_"))}
    if key is not None:
        environment["OPENAI_API_KEY"] = key
    if server is not None:
        environment["OPENAI_BASE_URL"] = server.base_url
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "oxide_io", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("oxide: error: ")
    return lines[0]


# -- chat and responses -----------------------------------------------------------


def test_chat_streams_the_reply(server: MockServer) -> None:
    result = oxide("chat", "Hello there", "--system", "Be brief", "-m", "gpt-4o", server=server)
    assert result.returncode == 0, result.stderr
    assert REPLY.match(result.stdout.rstrip("\n"))
    assert result.stdout.endswith("\n")
    sent = server.requests[-1].json
    assert sent["stream"] is True
    assert sent["model"] == "gpt-4o"
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "Hello there"},
    ]


def test_chat_json_prints_the_final_completion(server: MockServer) -> None:
    result = oxide("chat", "Hi", "--json", server=server)
    assert result.returncode == 0, result.stderr
    completion = json.loads(result.stdout)
    assert completion["object"] == "chat.completion"
    assert REPLY.match(completion["choices"][0]["message"]["content"])


def test_chat_reads_the_prompt_from_stdin(server: MockServer) -> None:
    result = oxide("chat", server=server, stdin="a piped prompt")
    assert result.returncode == 0, result.stderr
    match = REPLY.match(result.stdout.rstrip("\n"))
    assert match is not None and match.group(1) == "a piped prompt"


def test_chat_with_an_empty_stdin_is_a_usage_error(server: MockServer) -> None:
    line = one_error_line(oxide("chat", server=server, stdin=""))
    assert "prompt" in line


def test_responses_streams_and_prints_json(server: MockServer) -> None:
    result = oxide("responses", "Tell me", "--system", "Short", server=server)
    assert result.returncode == 0, result.stderr
    assert REPLY.match(result.stdout.rstrip("\n"))
    assert server.requests[-1].json["instructions"] == "Short"
    result = oxide("responses", "Tell me", "--json", server=server)
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["object"] == "response" and response["status"] == "completed"


# -- api ---------------------------------------------------------------------------


def test_api_scalar_parameter(server: MockServer) -> None:
    result = oxide("api", "models.retrieve", "--model", "gpt-4o", server=server)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "gpt-4o"
    assert server.requests[-1].path == "/v1/models/gpt-4o"


def test_api_list_prints_the_page(server: MockServer) -> None:
    result = oxide("api", "models.list", server=server)
    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout)
    assert page["object"] == "list" and {m["id"] for m in page["data"]} >= {"gpt-4o"}


def test_api_json_and_number_parameters(server: MockServer, tmp_path: pathlib.Path) -> None:
    messages = [{"role": "user", "content": "json param"}]
    result = oxide(
        "api",
        "chat.completions.create",
        "--model",
        "gpt-4o-mini",
        "--messages",
        json.dumps(messages),
        "--max-tokens",
        "7",
        "--temperature",
        "0.5",
        "--metadata",
        '{"k": "v"}',
        server=server,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["object"] == "chat.completion"
    sent = server.requests[-1].json
    assert sent["messages"] == messages
    assert sent["max_tokens"] == 7 and sent["temperature"] == 0.5
    assert sent["metadata"] == {"k": "v"}
    # The same JSON from a file, and the API's own spelling of the option.
    path = tmp_path / "messages.json"
    path.write_text(json.dumps(messages), encoding="utf-8")
    result = oxide(
        "api",
        "chat.completions.create",
        "--model",
        "gpt-4o-mini",
        "--messages",
        f"@{path}",
        "--max_tokens",
        "3",
        server=server,
    )
    assert result.returncode == 0, result.stderr
    assert server.requests[-1].json["messages"] == messages
    assert server.requests[-1].json["max_tokens"] == 3


def test_api_stream_prints_one_json_object_per_event(server: MockServer) -> None:
    result = oxide(
        "api",
        "chat.completions.create",
        "--model",
        "gpt-4o-mini",
        "--messages",
        '[{"role": "user", "content": "s"}]',
        "--stream",
        "true",
        server=server,
    )
    assert result.returncode == 0, result.stderr
    chunks = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(chunks) > 2
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert REPLY.match(text)


def test_api_responses_with_plain_text_input_streams_events(server: MockServer) -> None:
    result = oxide(
        "api", "responses.create", "--model", "gpt-4o-mini", "--input", "plain words",
        "--stream", "true", server=server,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["type"] == "response.created"
    assert events[-1]["type"] == "response.completed"
    assert server.requests[-1].json["input"] == "plain words"


def test_api_file_upload_and_download(server: MockServer, tmp_path: pathlib.Path) -> None:
    source = tmp_path / "data.jsonl"
    content = os.urandom(200_000)
    source.write_bytes(content)
    result = oxide(
        "--progress", "api", "files.create", "--file", f"@{source}", "--purpose", "batch",
        server=server,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    uploaded = json.loads(result.stdout)
    assert uploaded["filename"] == "data.jsonl" and uploaded["bytes"] == len(content)
    assert "upload data.jsonl" in result.stderr  # the progress bar, on stderr
    target = tmp_path / "out.bin"
    result = oxide(
        "--progress", "api", "files.content", "--file-id", uploaded["id"], "-o", str(target),
        server=server,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == content
    assert "download out.bin" in result.stderr
    # Not a terminal: binary content may go to standard output.
    done = subprocess.run(
        [sys.executable, "-m", "oxide_io", "api", "files.content", "--file-id", uploaded["id"]],
        capture_output=True,
        env={**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url},
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout == content


def test_api_file_parameter_needs_an_existing_at_path(
    server: MockServer, tmp_path: pathlib.Path
) -> None:
    line = one_error_line(oxide("api", "files.create", "--file", "x", "--purpose", "batch"))
    assert "@PATH" in line
    missing = tmp_path / "missing.bin"
    line = one_error_line(
        oxide("api", "files.create", "--file", f"@{missing}", "--purpose", "batch", server=server)
    )
    assert "no such file" in line


def test_unknown_method_is_one_line_with_suggestions(server: MockServer) -> None:
    result = oxide("api", "chat.completion.create", server=server)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "unknown method 'chat.completion.create'" in line
    assert "chat.completions.create" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--max-tokens", "many"], "'many' is not an integer"),
        (["--messages", "[not json"], "expected JSON"),
        (["--logprobs", "perhaps"], "not a boolean"),
        (["--modle", "x"], "No such option '--modle'"),
        (["--reasoning-effort", "huge"], "'huge' is not one of"),
    ],
)
def test_bad_parameters_are_one_line(server: MockServer, args: list[str], expected: str) -> None:
    base = ["api", "chat.completions.create", "--model", "m", "--messages", "[]"]
    result = oxide(*base, *args, server=server)
    assert result.returncode == 2
    assert expected in one_error_line(result)
    assert not server.requests or server.requests[-1].json != {"model": "m", "messages": []}


def test_missing_required_parameter(server: MockServer) -> None:
    line = one_error_line(oxide("api", "models.retrieve", server=server))
    assert "Missing option '--model'" in line


def test_missing_key_is_one_line(server: MockServer) -> None:
    result = oxide("chat", "hi", server=server, key=None)
    assert result.returncode == 1
    assert "OPENAI_API_KEY" in one_error_line(result)


def test_the_key_is_never_printed(server: MockServer) -> None:
    wrong = "sk-wrong-but-secret-4242424242"
    result = oxide("api", "models.list", server=server, key=wrong)
    assert result.returncode == 1
    line = one_error_line(result)
    assert "AuthenticationError" in line
    assert wrong not in result.stdout + result.stderr
    # --debug shows the traceback (the key still scrubbed from the one-line error).
    result = oxide("--debug", "api", "models.list", server=server, key=wrong)
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_connection_error_is_one_line(server: MockServer) -> None:
    # Port 9 on 127.0.0.1 (discard) is closed here: the connection is refused.
    line = one_error_line(
        oxide("--max-retries", "0", "--base-url", "http://127.0.0.1:9/v1", "api", "models.list")
    )
    assert "APIConnectionError" in line


# -- mock-server, completion, packaging ---------------------------------------------


@pytest.mark.parametrize("mode", ["http1", "h2c", "tls"])
def test_mock_server_prints_its_url_and_answers(mode: str, tmp_path: pathlib.Path) -> None:
    args = {"http1": [], "h2c": ["--h2c"], "tls": ["--tls"]}[mode]
    process = subprocess.Popen(
        [sys.executable, "-m", "oxide_io", "mock-server", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.match(r"oxide mock server at (\S+) ", first)
        assert match, first
        base_url = match.group(1)
        assert base_url.startswith("https://127.0.0.1:" if mode == "tls" else "http://127.0.0.1:")
        printed = [process.stdout.readline() for _ in range(2)]
        assert printed[0].strip() == f"export OPENAI_BASE_URL={base_url}"
        assert printed[1].strip().startswith("export OPENAI_API_KEY=sk-mock")
        options: dict[str, object] = {"api_key": "sk-mock", "base_url": base_url}
        if mode == "tls":
            ca_line = process.stdout.readline()
            cafile = re.search(r"CA certificate: (\S+)", ca_line)
            assert cafile, ca_line
            options["verify"] = cafile.group(1)
        if mode == "h2c":
            options["h2c"] = True
        with Client(**options) as client:  # type: ignore[arg-type]
            raw = client.models.with_raw_response.list()
            assert raw.http_version == ("HTTP/1.1" if mode == "http1" else "HTTP/2")
            assert any(model.id == "gpt-4o" for model in raw.parse())
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_shell_completion_of_methods_and_options() -> None:
    script = oxide("completion", "bash")
    assert script.returncode == 0 and "_OXIDE_COMPLETE" in script.stdout
    env = {
        "_OXIDE_COMPLETE": "bash_complete",
        "COMP_WORDS": "oxide api chat.compl",
        "COMP_CWORD": "2",
    }
    result = subprocess.run(
        [sys.executable, "-m", "oxide_io"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert "plain,chat.completions.create" in result.stdout.splitlines()
    env["COMP_WORDS"] = "oxide api files.create --purpose "
    env["COMP_CWORD"] = "4"
    result = subprocess.run(
        [sys.executable, "-m", "oxide_io"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert "plain,fine-tune" in result.stdout.splitlines()


def test_import_oxide_io_does_not_import_click() -> None:
    code = "import sys, oxide_io; assert 'click' not in sys.modules, 'click imported'"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_without_click_the_message_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['click'] = None; from oxide_io.cli import main; sys.exit(main([]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "pip install 'oxide-client[cli]'" in result.stderr


# -- the method table and value conversion (in process) -------------------------------


def test_every_method_of_the_table_is_offered() -> None:
    table = methods()
    assert len(table) > 250
    assert {"chat.completions.create", "files.content", "responses.create"} <= set(table)
    assert table["files.create"].operation.body == "multipart"
    create = {p.name: p for p in table["chat.completions.create"].params}
    assert create["messages"].required and create["messages"].kind == "json"
    assert create["max_tokens"].kind == "int" and not create["max_tokens"].required


def test_one_method_is_found_without_walking_the_table() -> None:
    assert all(find_method(name) == method for name, method in methods().items())
    for name in ("models", "chat.completions", "with_raw_response.create", "models.__init__", ""):
        assert find_method(name) is None, name


def test_values_are_converted_by_type(tmp_path: pathlib.Path) -> None:
    assert Param("n", "int | NotGiven", False).convert("3") == 3
    assert Param("t", "float | None | NotGiven", False).convert("0.25") == 0.25
    assert Param("b", "bool | None | NotGiven", False).convert("FALSE") is False
    literal = Param("e", "Literal['low', 'high'] | None | NotGiven", False)
    assert literal.choices == ("low", "high") and literal.convert("low") == "low"
    either = Param("input", "str | Sequence[str]", True)
    assert either.convert("plain words") == "plain words"
    assert either.convert('["a", "b"]') == ["a", "b"]
    with pytest.raises(BadValue, match="expected JSON"):
        Param("m", "Iterable[ChatCompletionMessageParam]", True).convert("{nope")
    # A named alias of a union with str in it takes plain text; a TypedDict does not.
    assert Param("input", "ResponseInputParam | NotGiven", False).convert("hi") == "hi"
    assert Param("c", "ChatCompletionToolChoiceOptionParam", False).convert("auto") == "auto"
    with pytest.raises(BadValue, match="expected JSON"):
        Param("t", "ChatCompletionStreamOptionsParam | None", False).convert("yes")
    with pytest.raises(BadValue, match="cannot read"):
        Param("m", "Mapping[str, object]", True).convert(f"@{tmp_path / 'absent.json'}")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(BadValue, match="is not JSON"):
        Param("m", "Mapping[str, object]", True).convert(f"@{bad}")
