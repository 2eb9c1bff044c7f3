"""`beta.agents.sessions.stream()` and `sessions.create(stream=True, ...)` against a real
HTTP server, in every runtime.

The server (a `http.server` on 127.0.0.1) plays one hosted turn. `GET
/v1/agents/sessions/{id}` says the session is idle (`sess_busy` is not). The
event stream (`GET .../events`, server-sent events) waits for the input, then
sends an idle event from before the turn, the turn's creation, a function call
to `add` (delivered twice, as a stream may), and waits for the tool result; the
first result is refused as not yet registered (the known race). Then come the
final message (`{"total": <the tool's output>}`, or "no answer" after a failed
tool), the turn's completion and the idle session. `POST /v1/agents/sessions` with
`"stream": true` answers with the same events (its body is the input); without, with
the new session. Every POST is recorded.
"""

from __future__ import annotations

import contextlib
import gc
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from oxide_proto import AgentOutputParseError, AgentToolError
from oxide_proto.helpers._agent_tools import agent_text_format
from tests.io.conftest import MakeClient

pytestmark = pytest.mark.anyio

WAIT = 10.0  # seconds the server waits for the client's next POST


@dataclass
class Total:
    total: int


def _turn(status: str) -> dict[str, Any]:
    return {
        "id": "turn_1",
        "object": "agent.session.turn",
        "agent_id": "agent_1",
        "created_at": 1,
        "session_id": "sess_1",
        "status": status,
    }


class _Agents(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.input = threading.Event()
        self.result = threading.Event()
        self.tool_output: Any = None
        self.refused_once = False


class _Handler(BaseHTTPRequestHandler):
    server: _Agents
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.endswith("/events"):
            # The client closes the stream once the turn is over.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._events()
            return
        session_id = path.rsplit("/", 1)[-1]
        status = "in_progress" if session_id == "sess_busy" else "idle"
        self._json(200, {"id": session_id, "object": "agent.session", "status": status})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        headers = {k.lower(): v for k, v in self.headers.items()}
        server = self.server
        with server.lock:
            server.posts.append((headers, body))
        if self.path.split("?")[0].endswith("/agents/sessions"):
            if body.get("stream") is not True:
                self._json(200, {"id": "sess_1", "object": "agent.session", "status": "idle"})
                return
            server.input.set()  # the created session's input is in the body
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._events()
            return
        event = body["events"][0]
        if event["type"] == "agent.session.input.tool_result":
            if not server.refused_once:
                server.refused_once = True
                error = {
                    "code": "invalid_request_error",
                    "message": f"Unknown pending tool call: {event['call_id']}",
                }
                self._json(400, {"error": error})
                return
            server.tool_output = event.get("output") if event["success"] else None
            server.result.set()
        else:
            server.input.set()
        self._json(200, {"object": "list", "data": []})

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        server = self.server
        if not server.input.wait(WAIT):
            return
        call = {
            "type": "function_call",
            "id": "item_call",
            "call_id": "call_1",
            "name": "add",
            "arguments": '{"a": 2, "b": 3}',
            "status": "completed",
            "turn_id": "turn_1",
        }
        idle = {"id": "sess_1", "object": "agent.session", "status": "idle"}
        base = {"session_id": "sess_1"}
        self._send({"type": "agent.session.idle", "event_id": "e0", "session": idle})
        self._send(
            {
                "type": "agent.session.turn.created",
                "event_id": "e1",
                "turn_id": "turn_1",
                **base,
                "turn": _turn("in_progress"),
            }
        )
        added = {"type": "agent.session.turn.item.added", "event_id": "e2", "item": call, **base}
        self._send(added)
        self._send(added)  # delivered twice: seen once
        if not server.result.wait(WAIT):
            return
        output = server.tool_output
        text = "no answer" if output is None else json.dumps({"total": json.loads(output)["sum"]})
        message = {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "turn_id": "turn_1",
            "phase": "final_answer",
            "content": [{"type": "output_text", "text": text}],
        }
        self._send(
            {
                "type": "agent.session.turn.item.done",
                "event_id": "e3",
                "output_index": 0,
                "item": message,
                **base,
            }
        )
        self._send(
            {
                "type": "agent.session.turn.completed",
                "event_id": "e4",
                "turn_id": "turn_1",
                **base,
                "turn": _turn("completed"),
            }
        )
        self._send({"type": "agent.session.idle", "event_id": "e5", "session": idle})

    def _send(self, event: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def agents_server() -> Iterator[_Agents]:
    server = _Agents()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.input.set()
        server.result.set()
        server.shutdown()
        server.server_close()
        thread.join(10)


def _client(make_client: MakeClient, server: _Agents) -> Any:
    port = server.server_address[1]
    return make_client(None, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)


async def test_a_turn_is_streamed_its_tool_call_answered_and_its_result_parsed(
    make_client: MakeClient, agents_server: _Agents
) -> None:
    client = _client(make_client, agents_server)
    manager = client.beta.agents.sessions.stream(
        "sess_1",
        input="add 2 and 3",
        output_type=Total,
        tool_handlers={"add": lambda args: {"sum": args["a"] + args["b"]}},
        idempotency_key="input-key-1",
        extra_headers={"X-Trace": "a1"},
    )
    async with manager as stream:
        result = await stream.get_final_result()
    assert result.output_parsed == Total(total=5)
    assert result.output_text == '{"total": 5}'
    assert (result.session_id, result.turn_id) == ("sess_1", "turn_1")
    posts = agents_server.posts
    assert [body["events"][0]["type"] for _, body in posts] == [
        "agent.session.input.message",
        "agent.session.input.tool_result",
        "agent.session.input.tool_result",
    ]
    headers, body = posts[0]
    assert headers["idempotency-key"] == "input-key-1"
    assert headers["x-trace"] == "a1"
    assert body["events"][0]["input"] == [
        {"role": "user", "content": [{"type": "input_text", "text": "add 2 and 3"}]}
    ]
    # The refused result went again with its own key, the same both times.
    (first, result_body), (second, _) = posts[1], posts[2]
    assert first["idempotency-key"] == second["idempotency-key"] != "input-key-1"
    assert result_body["events"][0] == {
        "type": "agent.session.input.tool_result",
        "turn_id": "turn_1",
        "call_id": "call_1",
        "success": True,
        "output": '{"sum":5}',
    }


async def test_iteration_yields_each_event_once_and_a_failed_tool_is_reported(
    make_client: MakeClient, agents_server: _Agents
) -> None:
    client = _client(make_client, agents_server)
    failures: list[AgentToolError] = []

    def broken(args: dict[str, Any]) -> Any:
        raise RuntimeError("secret detail")

    manager = client.beta.agents.sessions.stream(
        "sess_1",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "go"}]}],
        tool_handlers={"add": broken},
        on_tool_error=failures.append,
    )
    async with manager as stream:
        stream.with_result_collection()
        kinds = [event.type async for event in stream]
        # Collected while iterating: the result needs no more events.
        result = await stream.get_final_result()
    assert result.output_text == "no answer"
    assert [m.id for m in result.messages] == ["msg_1"]
    # The idle event before the turn does not end it; the repeated call comes once.
    assert kinds == [
        "agent.session.idle",
        "agent.session.turn.created",
        "agent.session.turn.item.added",
        "agent.session.turn.item.done",
        "agent.session.turn.completed",
        "agent.session.idle",
    ]
    sent = agents_server.posts[-1][1]["events"][0]
    assert sent == {
        "type": "agent.session.input.tool_result",
        "turn_id": "turn_1",
        "call_id": "call_1",
        "success": False,
        "error": "Tool handler failed.",
    }
    assert len(failures) == 1
    assert (failures[0].tool_name, failures[0].stage) == ("add", "execution")
    assert str(failures[0].error) == "secret detail"


async def test_a_call_no_handler_takes_leaves_no_result(
    make_client: MakeClient, agents_server: _Agents
) -> None:
    client = _client(make_client, agents_server)
    async with client.beta.agents.sessions.stream("sess_1", input="hi") as stream:
        seen = []
        async for event in stream:
            seen.append(event.type)
            if event.type == "agent.session.turn.item.added":
                break
        # The result is collected from the first event on: too late now.
        with pytest.raises(RuntimeError, match="before reading events"):
            await stream.get_final_result()
        with pytest.raises(RuntimeError, match="before reading events"):
            stream.with_result_collection()
    assert seen[-1] == "agent.session.turn.item.added"
    assert len(agents_server.posts) == 1  # the input only


async def test_a_busy_session_is_refused_before_any_input(
    make_client: MakeClient, agents_server: _Agents
) -> None:
    client = _client(make_client, agents_server)
    with pytest.raises(ValueError, match="idle session"):
        async with client.beta.agents.sessions.stream("sess_busy", input="hi"):
            pass
    with pytest.raises(ValueError, match="input must not be empty"):
        client.beta.agents.sessions.stream("sess_1", input="")
    assert agents_server.posts == []


async def test_an_answer_that_does_not_parse_keeps_the_result(
    make_client: MakeClient, agents_server: _Agents
) -> None:
    client = _client(make_client, agents_server)
    manager = client.beta.agents.sessions.stream(
        "sess_1", input="hi", output_type=Total, tool_handlers={"add": lambda args: None}
    )
    async with manager as stream:
        with pytest.raises(AgentOutputParseError) as caught:
            await stream.get_final_result()
    # The turn completed: its messages stay readable, only the parsing failed.
    assert caught.value.result.output_text == "no answer"
    assert caught.value.result.turn.status == "completed"
    assert agents_server.posts[-1][1]["events"][0]["output"] is None


async def test_a_function_tool_answers_the_call_with_its_checked_arguments(
    make_client: MakeClient, agents_server: _Agents
) -> None:
    from oxide_io.compat.lib.beta.agents import function_tool

    @function_tool
    def add(a: int, b: int) -> dict[str, int]:
        """Adds two numbers."""
        return {"sum": a + b}

    client = _client(make_client, agents_server)
    manager = client.beta.agents.sessions.stream(
        "sess_1", input="add 2 and 3", output_type=Total, tool_handlers={add.name: add}
    )
    async with manager as stream:
        result = await stream.get_final_result()
    assert result.output_parsed == Total(total=5)
    assert agents_server.posts[-1][1]["events"][0]["output"] == '{"sum":5}'


async def test_a_function_tool_reports_refused_arguments_as_their_stage(
    make_client: MakeClient, agents_server: _Agents
) -> None:
    from oxide_io.compat.lib.beta.agents import function_tool

    ran: list[str] = []

    @function_tool
    def add(a: str, b: str) -> str:
        ran.append(a)
        return a + b

    failures: list[AgentToolError] = []
    client = _client(make_client, agents_server)
    manager = client.beta.agents.sessions.stream(
        "sess_1", input="add", tool_handlers={"add": add}, on_tool_error=failures.append
    )
    async with manager as stream:
        result = await stream.get_final_result()
    assert result.output_text == "no answer"
    assert ran == []
    assert [(f.tool_name, f.stage, f.call_id) for f in failures] == [("add", "arguments", "call_1")]
    assert "expected a string" in str(failures[0].error)
    assert agents_server.posts[-1][1]["events"][0]["success"] is False


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
async def test_a_coroutine_tool_is_awaited_by_the_async_client_and_refused_by_the_blocking_one(
    make_client: MakeClient, agents_server: _Agents, runtime: str
) -> None:
    from oxide_io.compat.lib.beta.agents import function_tool

    @function_tool
    async def add(a: int, b: int) -> dict[str, int]:
        return {"sum": a + b}

    failures: list[AgentToolError] = []
    client = _client(make_client, agents_server)
    manager = client.beta.agents.sessions.stream(
        "sess_1", input="add", tool_handlers={"add": add}, on_tool_error=failures.append
    )
    async with manager as stream:
        result = await stream.get_final_result()
    if runtime == "sync":
        # Refused, and the coroutine closed: no "never awaited" warning (an error here).
        assert result.output_text == "no answer"
        assert [(f.stage, type(f.error)) for f in failures] == [("execution", TypeError)]
        assert "cannot await a coroutine tool handler" in str(failures[0].error)
        failures.clear()
        gc.collect()  # a coroutine left unclosed would warn now
    else:
        assert result.output_text == '{"total": 5}'
        assert failures == []


# -- sessions.create(stream=True, output_type=..., tool_handlers=...) ----------------


def _event_stream_class(runtime: str) -> type:
    from oxide_io.compat.lib.beta import agents

    if runtime == "sync":
        return agents.AgentSessionEventStream  # type: ignore[no-any-return]
    return agents.AsyncAgentSessionEventStream  # type: ignore[no-any-return]


async def test_create_streams_the_first_turn_answers_its_tool_call_and_parses_its_result(
    make_client: MakeClient, agents_server: _Agents, runtime: str
) -> None:
    from tests.io.blocking import unwrap

    client = _client(make_client, agents_server)
    stream = await client.beta.agents.sessions.create(
        environment={"type": "none"},
        agent={"model": "gpt-test", "instructions": "add"},
        input="add 2 and 3",
        stream=True,
        output_type=Total,
        tool_handlers={"add": lambda args: {"sum": args["a"] + args["b"]}},
        extra_headers={"X-Trace": "c1"},
    )
    assert isinstance(unwrap(stream), _event_stream_class(runtime))
    assert stream.response.status_code == 200
    result = await stream.get_final_result()
    assert result.output_parsed == Total(total=5)
    assert (result.session_id, result.turn_id) == ("sess_1", "turn_1")
    posts = agents_server.posts
    headers, created = posts[0]
    assert headers["openai-beta"] == "agents=v1"
    assert created["stream"] is True
    assert created["input"] == "add 2 and 3"
    # The agent's settings are kept; output_type adds the format asking for a Total.
    agent = created["agent"]
    assert (agent["model"], agent["instructions"]) == ("gpt-test", "add")
    assert agent["text"]["format"]["type"] == "json_schema"
    assert agent["text"]["format"]["schema"]["required"] == ["total"]
    # The tool result (refused once as not yet registered, then sent again).
    assert [body["events"][0]["type"] for _, body in posts[1:]] == [
        "agent.session.input.tool_result",
        "agent.session.input.tool_result",
    ]
    (first, result_body), (second, _) = posts[1], posts[2]
    assert first["idempotency-key"] == second["idempotency-key"]
    assert first["x-trace"] == "c1"
    assert result_body["events"][0] == {
        "type": "agent.session.input.tool_result",
        "turn_id": "turn_1",
        "call_id": "call_1",
        "success": True,
        "output": '{"sum":5}',
    }


async def test_a_created_stream_yields_each_event_once_and_answers_a_failed_tool(
    make_client: MakeClient, agents_server: _Agents
) -> None:
    client = _client(make_client, agents_server)

    def broken(args: dict[str, Any]) -> Any:
        raise RuntimeError("secret detail")

    stream = await client.beta.agents.sessions.create(
        environment={"type": "none"}, input="go", stream=True, tool_handlers={"add": broken}
    )
    async with stream:
        stream.with_result_collection()
        kinds = [event.type async for event in stream]
        result = await stream.get_final_result()
    assert kinds == [
        "agent.session.idle",
        "agent.session.turn.created",
        "agent.session.turn.item.added",
        "agent.session.turn.item.done",
        "agent.session.turn.completed",
        "agent.session.idle",
    ]
    assert result.output_text == "no answer"
    assert result.output_parsed is None
    sent = agents_server.posts[-1][1]["events"][0]
    assert (sent["success"], sent["error"]) == (False, "Tool handler failed.")


async def test_a_created_stream_without_handlers_leaves_calls_alone(
    make_client: MakeClient, agents_server: _Agents
) -> None:
    client = _client(make_client, agents_server)
    stream = await client.beta.agents.sessions.create(
        environment={"type": "none"}, input="hi", stream=True
    )
    seen = []
    async for event in stream:
        seen.append(event.type)
        if event.type == "agent.session.turn.item.added":
            break
    with pytest.raises(RuntimeError, match="before reading events"):
        await stream.get_final_result()
    await stream.aclose()
    assert seen[-1] == "agent.session.turn.item.added"
    assert len(agents_server.posts) == 1  # the creation only: no tool result


async def test_create_without_stream_sets_the_output_format_and_refuses_handlers(
    make_client: MakeClient, agents_server: _Agents
) -> None:
    client = _client(make_client, agents_server)
    session = await client.beta.agents.sessions.create(
        environment={"type": "none"}, output_type=Total
    )
    assert (session.id, session.status) == ("sess_1", "idle")
    (_, created), *_ = agents_server.posts
    assert created["agent"] == {"text": {"format": agent_text_format(Total)}}
    assert "stream" not in created
    with pytest.raises(ValueError, match="tool_handlers requires stream=True"):
        await client.beta.agents.sessions.create(
            environment={"type": "none"}, tool_handlers={"add": print}
        )
    with pytest.raises(ValueError, match=r"output_type or agent\.text\.format"):
        await client.beta.agents.sessions.create(
            environment={"type": "none"},
            agent={"text": {"format": {"type": "text"}}},
            output_type=Total,
        )
    with pytest.raises(TypeError, match="output_type is a pydantic model"):
        await client.beta.agents.sessions.create(environment={"type": "none"}, output_type=int)
    assert len(agents_server.posts) == 1  # a refused call sends nothing
