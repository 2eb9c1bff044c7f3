"""Assistants run streams into an event handler, against a local server replaying a run.

The server answers the run-creating endpoints with one recorded-shape run stream:
the run is created, a message streams its text in three deltas (with an
annotation in between) and completes, a run step streams a function call's
arguments in two deltas and completes, the run completes. The handler must see
its callbacks in order, with snapshots that hold everything so far, and the
final run, messages and run steps. Blocking, asyncio and trio.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import oxide_io
from oxide_io import AssistantEventHandler, AsyncAssistantEventHandler, AsyncClient, Client
from tests.conformance.arguments import Synthesizer, load_spec

SYNTH = Synthesizer(load_spec())


def _object(schema: str, **fields: Any) -> dict[str, Any]:
    value = SYNTH.value({"$ref": f"#/components/schemas/{schema}"})
    assert isinstance(value, dict)
    return {**value, **fields}


RUN = _object("RunObject", id="run_1", thread_id="thread_1", status="queued")
MESSAGE = _object(
    "MessageObject", id="msg_1", thread_id="thread_1", content=[], status="in_progress"
)
STEP = _object(
    "RunStepObject",
    id="step_1",
    run_id="run_1",
    thread_id="thread_1",
    type="tool_calls",
    step_details={"type": "tool_calls", "tool_calls": []},
)
ANNOTATION = {
    "index": 0,
    "type": "file_citation",
    "text": "【0】",
    "file_citation": {"file_id": "file_1"},
    "start_index": 6,
    "end_index": 9,
}


def _text_delta(value: str, annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    text: dict[str, Any] = {"value": value}
    if annotations:
        text["annotations"] = annotations
    return {
        "id": "msg_1",
        "object": "thread.message.delta",
        "delta": {"content": [{"index": 0, "type": "text", "text": text}]},
    }


def _call_delta(**call: Any) -> dict[str, Any]:
    return {
        "id": "step_1",
        "object": "thread.run.step.delta",
        "delta": {"step_details": {"type": "tool_calls", "tool_calls": [{"index": 0, **call}]}},
    }


FULL_TEXT = "Hello, world【0】!"
DONE_MESSAGE = {
    **MESSAGE,
    "status": "completed",
    "content": [{"type": "text", "text": {"value": FULL_TEXT, "annotations": [ANNOTATION]}}],
}
DONE_MESSAGE["content"][0]["text"]["annotations"] = [
    {k: v for k, v in ANNOTATION.items() if k != "index"}
]
FUNCTION = {"name": "lookup", "arguments": '{"city": "Paris"}', "output": None}
DONE_STEP = {
    **STEP,
    "status": "completed",
    "step_details": {
        "type": "tool_calls",
        "tool_calls": [{"id": "call_1", "type": "function", "function": FUNCTION}],
    },
}
EVENTS = [
    ("thread.run.created", RUN),
    ("thread.run.in_progress", {**RUN, "status": "in_progress"}),
    ("thread.message.created", MESSAGE),
    ("thread.message.delta", _text_delta("Hello")),
    ("thread.message.delta", _text_delta(", world【0】", [ANNOTATION])),
    ("thread.message.delta", _text_delta("!")),
    ("thread.message.completed", DONE_MESSAGE),
    ("thread.run.step.created", STEP),
    (
        "thread.run.step.delta",
        _call_delta(id="call_1", type="function", function={"name": "lookup", "arguments": ""}),
    ),
    ("thread.run.step.delta", _call_delta(type="function", function={"arguments": '{"city": '})),
    ("thread.run.step.delta", _call_delta(type="function", function={"arguments": '"Paris"}'})),
    ("thread.run.step.completed", DONE_STEP),
    ("thread.run.completed", {**RUN, "status": "completed"}),
]
BODY = (
    "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in EVENTS)
    + "event: done\ndata: [DONE]\n\n"
).encode()

EXPECTED = [
    "run",
    "run",
    "message_created msg_1",
    "message_delta Hello",
    "text_created Hello",
    "text_delta Hello -> Hello",
    "message_delta Hello, world【0】",
    "text_delta , world【0】 -> Hello, world【0】 (1 annotations)",
    f"message_delta {FULL_TEXT}",
    f"text_delta ! -> {FULL_TEXT} (1 annotations)",
    f"text_done {FULL_TEXT}",
    "message_done completed",
    "run_step_created step_1",
    "run_step_delta step_1",
    "tool_call_created lookup ''",
    "tool_call_delta lookup ''",
    "run_step_delta step_1",
    """tool_call_delta lookup '{"city": '""",
    "run_step_delta step_1",
    """tool_call_delta lookup '{"city": "Paris"}'""",
    """tool_call_done lookup '{"city": "Paris"}'""",
    "run_step_done completed",
    "run",
    "end",
]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.seen.append((self.path, body))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    httpd: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _note(log: list[str], name: str, *args: Any) -> None:
    """One line per callback, showing what a snapshot holds."""
    if name in ("text_created", "text_done"):
        log.append(f"{name} {args[0].value}")
    elif name == "text_delta":
        delta, snapshot = args
        count = len(snapshot.annotations or [])
        more = f" ({count} annotations)" if count else ""
        log.append(f"{name} {delta.value} -> {snapshot.value}{more}")
    elif name == "message_delta":
        log.append(f"{name} {args[1].content[0].text.value}")
    elif name == "run_step_delta":
        log.append(f"{name} {args[1].id}")
    elif name in ("message_created", "run_step_created"):
        log.append(f"{name} {args[0].id}")
    elif name in ("message_done", "run_step_done"):
        log.append(f"{name} {args[0].status}")
    elif name.startswith("tool_call"):
        call = args[-1]
        log.append(f"{name} {call.function.name} {call.function.arguments!r}")
    else:
        log.append(name)


class Recording(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    def on_event(self, event: Any) -> None:
        if event.event.startswith("thread.run.") and ".step." not in event.event:
            self.log.append("run")

    def on_end(self) -> None:
        self.log.append("end")

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_") and name not in ("on_event", "on_end", "on_exception"):
            return lambda *args: _note(self.log, name[3:], *args)
        return super().__getattribute__(name)


class AsyncRecording(AsyncAssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    async def on_event(self, event: Any) -> None:
        if event.event.startswith("thread.run.") and ".step." not in event.event:
            self.log.append("run")

    async def on_end(self) -> None:
        self.log.append("end")

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_") and name not in ("on_event", "on_end", "on_exception"):

            async def note(*args: Any) -> None:
                _note(self.log, name[3:], *args)

            return note
        return super().__getattribute__(name)


def _check(handler: Any, run: Any, messages: list[Any], steps: list[Any]) -> None:
    assert handler.log == EXPECTED
    assert run.status == "completed"
    assert [m.content[0].text.value for m in messages] == [FULL_TEXT]
    assert [s.step_details.tool_calls[0].function.arguments for s in steps] == [
        FUNCTION["arguments"]
    ]


def test_runs_stream_blocking(server: Any) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    with Client(api_key="sk-test", base_url=base, max_retries=0) as client:
        server.seen.clear()
        with pytest.warns(DeprecationWarning):
            manager = client.beta.threads.runs.stream(
                thread_id="thread_1", assistant_id="asst_1", event_handler=Recording()
            )
            with manager as handler:
                handler.until_done()
                assert handler.current_message_snapshot.content[0].text.value == FULL_TEXT
                _check(
                    handler,
                    handler.get_final_run(),
                    handler.get_final_messages(),
                    handler.get_final_run_steps(),
                )
        assert server.seen == [
            ("/v1/threads/thread_1/runs", {"assistant_id": "asst_1", "stream": True})
        ]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_runs_stream_async(server: Any, anyio_backend: str) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    async with AsyncClient(api_key="sk-test", base_url=base, max_retries=0) as client:
        server.seen.clear()
        with pytest.warns(DeprecationWarning):
            manager = client.beta.threads.runs.stream(
                thread_id="thread_1", assistant_id="asst_1", event_handler=AsyncRecording()
            )
            async with manager as handler:
                await handler.until_done()
                _check(
                    handler,
                    await handler.get_final_run(),
                    await handler.get_final_messages(),
                    await handler.get_final_run_steps(),
                )
        assert server.seen[0][0] == "/v1/threads/thread_1/runs"


def test_the_other_stream_helpers_call_their_endpoints(server: Any) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    with Client(api_key="sk-test", base_url=base, max_retries=0) as client:
        server.seen.clear()
        runs = client.beta.threads.runs
        with pytest.warns(DeprecationWarning):
            with runs.submit_tool_outputs_stream(
                tool_outputs=[{"tool_call_id": "call_1", "output": "sunny"}],
                run_id="run_1",
                thread_id="thread_1",
            ) as handler:
                deltas = list(handler.text_deltas)
            with client.beta.threads.create_and_run_stream(assistant_id="asst_1") as plain:
                plain.until_done()
            with runs.create_and_stream(thread_id="thread_1", assistant_id="asst_1") as again:
                assert again.get_final_run().status == "completed"
        assert deltas == ["Hello", ", world【0】", "!"]
        assert [path for path, _ in server.seen] == [
            "/v1/threads/thread_1/runs/run_1/submit_tool_outputs",
            "/v1/threads/runs",
            "/v1/threads/thread_1/runs",
        ]
        assert server.seen[0][1] == {
            "tool_outputs": [{"tool_call_id": "call_1", "output": "sunny"}],
            "stream": True,
        }


def test_a_handler_serves_one_stream(server: Any) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    handler = AssistantEventHandler()
    with pytest.raises(RuntimeError, match="no stream yet"):
        iter(handler)
    client = Client(api_key="sk-test", base_url=base, max_retries=0)
    with client, pytest.warns(DeprecationWarning):
        runs = client.beta.threads.runs
        with runs.stream(thread_id="t", assistant_id="a", event_handler=handler):
            pass
        again = runs.stream(thread_id="t", assistant_id="a", event_handler=handler)
        with pytest.raises(RuntimeError, match="already handles a stream"), again:
            pass
    assert oxide_io.AssistantEventHandler is AssistantEventHandler
