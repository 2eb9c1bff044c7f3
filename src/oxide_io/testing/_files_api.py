"""Uploads and binary answers: files, speech, uploads in parts and vector store processing.

`POST /v1/files` takes a multipart form (`file`, `purpose`) and keeps the file;
`GET /v1/files/{id}` and `GET /v1/files/{id}/content` give it back, `DELETE
/v1/files/{id}` forgets it. A file id of
the form `file-pattern-<size>` has `size` bytes of `pattern_bytes()` as content,
generated as it is sent, so a test can download tens of megabytes without the
server holding them. `POST /v1/audio/speech` answers bytes of `audio/mpeg`;
`POST /v1/audio/transcriptions` and `/translations` (a multipart form with
`file` and `model`) answer a transcript naming the file, in the `response_format`
asked (`json`, `verbose_json`, `diarized_json`, `text`, `srt`, `vtt`), or as
`transcript.text.*` events with `stream=true`. `POST
/v1/agents/environments/{id}/files` stages an uploaded file in a hosted agent
environment.
Binary answers go out in pieces (`is_download`), so the stream faults a test
scripts (`Stall`, `CutStream`, `SlowFirstToken`, ...) apply to them as to event
streams.
`POST /v1/uploads`, `/parts` and `/complete` assemble a file from parts (checking
`md5` when given). Vector store files and file batches stay `in_progress` for
`PROCESSING_POLLS` retrievals, each answered with `openai-poll-after-ms:
POLL_AFTER_MS`, then are `completed`.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import re
import threading
from typing import Any

import attrs

from ._wire import Answer, dumps, error_answer, json_answer, new_id, sse, stream_answer

__all__ = [
    "PATTERN_CHUNK",
    "POLL_AFTER_MS",
    "PROCESSING_POLLS",
    "FilesState",
    "files_api_answer",
    "is_download",
    "parse_form",
    "pattern_bytes",
]

PROCESSING_POLLS = 2
POLL_AFTER_MS = 5
PATTERN_CHUNK = 64 * 1024
_CREATED = 1_715_367_049
_BINARY = (("content-type", "application/octet-stream"),)
_PATTERN_ID = re.compile(r"file-pattern-(\d+)")
_SPEECH_PIECE = 1024


def is_download(method: str, path: str) -> bool:
    """Whether the answer is a binary body sent in pieces (file contents, speech)."""
    parts = path.strip("/").split("/")[1:]  # without "v1"
    if method == "GET":
        return len(parts) == 3 and parts[0] == "files" and parts[2] == "content"
    return method == "POST" and parts == ["audio", "speech"]


def _pieces(content: bytes, size: int) -> tuple[bytes, ...]:
    return tuple(content[i : i + size] for i in range(0, len(content), size))


def pattern_bytes(size: int) -> bytes:
    """The first `size` bytes of the content of `file-pattern-<n>` files: 0, 1, ... 255, 0, ..."""
    return (bytes(range(256)) * (size // 256 + 1))[:size]


@attrs.define
class _File:
    id: str
    filename: str
    purpose: str
    content: bytes
    content_type: str | None


@attrs.define
class FilesState:
    """What the server keeps between requests: files, uploads, processing counters."""

    files: dict[str, _File] = attrs.field(factory=dict)
    uploads: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    parts: dict[str, bytes] = attrs.field(factory=dict)
    polls_left: dict[str, int] = attrs.field(factory=dict)
    lock: threading.Lock = attrs.field(factory=threading.Lock)


def parse_form(content_type: str, body: bytes) -> dict[str, tuple[str | None, str | None, bytes]]:
    """A multipart/form-data body as {name: (filename, content type, bytes)}."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    form: dict[str, tuple[str | None, str | None, bytes]] = {}
    if not message.is_multipart():
        return form
    for part in message.iter_parts():
        disposition = part.get("content-disposition")
        if disposition is None:
            continue
        name = disposition.params.get("name")
        payload: Any = part.get_payload(decode=True) or b""
        form[name] = (disposition.params.get("filename"), part.get("content-type"), bytes(payload))
    return form


def _file_json(file: _File) -> dict[str, Any]:
    return {
        "id": file.id,
        "object": "file",
        "bytes": len(file.content),
        "created_at": _CREATED,
        "filename": file.filename,
        "purpose": file.purpose,
        "status": "processed",
    }


def _polled(state: FilesState, key: str) -> str:
    with state.lock:
        left = state.polls_left.get(key, 0)
        state.polls_left[key] = max(left - 1, 0)
    return "in_progress" if left > 0 else "completed"


def _with_poll_after(answer: Answer) -> Answer:
    poll_after = ("openai-poll-after-ms", str(POLL_AFTER_MS))
    return attrs.evolve(answer, headers=(*answer.headers, poll_after))


def _vector_store_file(store: str, file_id: str, status: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "vector_store.file",
        "usage_bytes": 0,
        "created_at": _CREATED,
        "vector_store_id": store,
        "status": status,
        "last_error": None,
    }


def _batch(store: str, batch_id: str, total: int, status: str) -> dict[str, Any]:
    done = status == "completed"
    counts = {
        "in_progress": 0 if done else total,
        "completed": total if done else 0,
        "failed": 0,
        "cancelled": 0,
        "total": total,
    }
    return {
        "id": batch_id,
        "object": "vector_store.files_batch",
        "created_at": _CREATED,
        "vector_store_id": store,
        "status": status,
        "file_counts": counts,
    }


def files_api_answer(state: FilesState, method: str, path: str, request: Any) -> Answer | None:
    """The answer to a files, speech, uploads or vector store request; None for other paths."""
    parts = path.strip("/").split("/")[1:]  # without "v1"
    body = request.json if isinstance(request.json, dict) else {}
    if method == "POST" and parts == ["files"]:
        form = parse_form(request.headers.get("content-type", ""), request.body)
        if "file" not in form or "purpose" not in form:
            return error_answer(400, "Missing required parameter: 'file'.", param="file")
        filename, content_type, content = form["file"]
        purpose = form["purpose"][2].decode()
        file = _File(new_id("file-"), filename or "upload", purpose, content, content_type)
        with state.lock:
            state.files[file.id] = file
        return json_answer(_file_json(file))
    if method == "GET" and len(parts) in (2, 3) and parts[0] == "files":
        return _file_answer(state, parts[1], content=len(parts) == 3 and parts[2] == "content")
    if method == "DELETE" and len(parts) == 2 and parts[0] == "files":
        return _delete_file_answer(state, parts[1])
    if method == "POST" and parts == ["audio", "speech"]:
        text = str(body.get("input", ""))
        audio = b"ID3\x04\x00" + hashlib.sha256(text.encode()).digest() * 64
        return Answer(200, (("content-type", "audio/mpeg"),), events=_pieces(audio, _SPEECH_PIECE))
    if (
        method == "POST"
        and parts[:1] == ["audio"]
        and parts[1:]
        in (
            ["transcriptions"],
            ["translations"],
        )
    ):
        form = parse_form(request.headers.get("content-type", ""), request.body)
        return _transcript_answer(parts[1], form)
    if (
        method == "POST"
        and len(parts) == 4
        and parts[:2] + parts[3:] == ["agents", "environments", "files"]
    ):
        return _environment_file_answer(state, parts[2], body)
    if parts[:1] == ["uploads"]:
        return _uploads_answer(state, method, parts[1:], request, body)
    if parts[:1] == ["vector_stores"] and len(parts) >= 3:
        return _vector_store_answer(state, method, parts[1], parts[2:], body)
    return None


_TEXT = (("content-type", "text/plain; charset=utf-8"),)
_TRANSCRIPT_FORMATS = {
    "transcriptions": ("json", "verbose_json", "diarized_json", "text", "srt", "vtt"),
    "translations": ("json", "verbose_json", "text", "srt", "vtt"),
}


def _transcript_answer(kind: str, form: dict[str, tuple[str | None, str | None, bytes]]) -> Answer:
    for name in ("file", "model"):
        if name not in form:
            return error_answer(
                400,
                f"Missing required parameter: '{name}'.",
                param=name,
                code="missing_required_parameter",
            )
    field = form.get("response_format")
    asked = field[2].decode() if field else "json"
    if asked not in _TRANSCRIPT_FORMATS[kind]:
        choices = ", ".join(repr(f) for f in _TRANSCRIPT_FORMATS[kind])
        return error_answer(
            400,
            f"Invalid value: '{asked}'. Supported values are: {choices}.",
            param="response_format",
        )
    filename, _, content = form["file"]
    text = f"Transcript of {filename or 'audio'} ({len(content)} bytes)."
    # One second per kilobyte: a duration that follows the upload, for assertions.
    duration = round(len(content) / 1000, 3)
    stream = form.get("stream")
    if kind == "transcriptions" and stream is not None and stream[2] == b"true":
        events = [
            sse({"type": "transcript.text.delta", "delta": word})
            for word in re.findall(r"\S+\s*", text)
        ]
        events.append(sse({"type": "transcript.text.done", "text": text}))
        return stream_answer(events)
    if asked == "text":
        return Answer(200, _TEXT, f"{text}\n".encode())
    if asked == "srt":
        return Answer(
            200, _TEXT, f"1\n00:00:00,000 --> {_clock(duration, ',')}\n{text}\n\n".encode()
        )
    if asked == "vtt":
        cue = f"00:00:00.000 --> {_clock(duration, '.')}"
        return Answer(200, _TEXT, f"WEBVTT\n\n{cue}\n{text}\n\n".encode())
    usage = {"type": "duration", "seconds": duration}
    if asked == "json":
        return json_answer({"text": text, "usage": usage})
    segment = {"id": "seg_0", "start": 0.0, "end": duration, "text": text}
    if asked == "diarized_json":
        segment = {"type": "transcript.text.segment", **segment, "speaker": "A"}
        return json_answer(
            {"task": "transcribe", "duration": duration, "text": text, "segments": [segment]}
        )
    task = "transcribe" if kind == "transcriptions" else "translate"
    verbose = {"task": task, "language": "english", "duration": duration, "text": text}
    return json_answer(verbose | {"segments": [], "usage": usage})


def _environment_file_answer(
    state: FilesState, environment_id: str, body: dict[str, Any]
) -> Answer:
    """A file staged in a hosted agent environment: an uploaded one (`file_id`) or inline `data`."""
    path = body.get("path")
    if not isinstance(path, str) or not path.startswith("/workspace/"):
        return error_answer(400, "'path' must be an absolute path under /workspace/.", param="path")
    if body.get("type") == "file_id":
        with state.lock:
            file = state.files.get(str(body.get("file_id")))
        if file is None:
            return error_answer(404, f"No such File object: {body.get('file_id')}", param="file_id")
        size = len(file.content)
    else:
        size = len(str(body.get("data", "")).encode())
    return json_answer(
        {
            "object": "agent.environment.file",
            "environment_id": environment_id,
            "path": path,
            "size_bytes": size,
        }
    )


def _clock(seconds: float, mark: str) -> str:
    whole = int(seconds)
    millis = round((seconds - whole) * 1000)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}{mark}{millis:03d}"


def _file_answer(state: FilesState, file_id: str, *, content: bool) -> Answer:
    pattern = _PATTERN_ID.fullmatch(file_id)
    if pattern is not None:
        size = int(pattern.group(1))
        if not content:
            return json_answer(_file_json(_File(file_id, f"{file_id}.bin", "user_data", b"", None)))
        # One chunk object repeated: the body streams out without the server holding it.
        chunk = pattern_bytes(PATTERN_CHUNK)
        events = (chunk,) * (size // PATTERN_CHUNK)
        if size % PATTERN_CHUNK:
            events += (chunk[: size % PATTERN_CHUNK],)
        return Answer(200, _BINARY, events=events)
    with state.lock:
        file = state.files.get(file_id)
    if file is None:
        return error_answer(404, f"No such File object: {file_id}", param="id")
    if content:
        return Answer(200, _BINARY, events=_pieces(file.content, PATTERN_CHUNK))
    return json_answer(_file_json(file))


def _delete_file_answer(state: FilesState, file_id: str) -> Answer:
    with state.lock:
        file = state.files.pop(file_id, None)
    if file is None:
        return error_answer(404, f"No such File object: {file_id}", param="id")
    return json_answer({"id": file_id, "object": "file", "deleted": True})


def _uploads_answer(
    state: FilesState, method: str, parts: list[str], request: Any, body: dict[str, Any]
) -> Answer | None:
    if method != "POST":
        return None
    if not parts:
        upload: dict[str, Any] | None = {
            "id": new_id("upload_"),
            "object": "upload",
            "bytes": body.get("bytes"),
            "created_at": _CREATED,
            "expires_at": _CREATED + 3600,
            "filename": body.get("filename"),
            "purpose": body.get("purpose"),
            "status": "pending",
            "mime_type": body.get("mime_type"),
        }
        assert upload is not None
        with state.lock:
            state.uploads[upload["id"]] = upload
        return json_answer(upload)
    with state.lock:
        upload = state.uploads.get(parts[0])
    if upload is None:
        return error_answer(404, f"No such Upload: {parts[0]}")
    if parts[1:] == ["parts"]:
        form = parse_form(request.headers.get("content-type", ""), request.body)
        if "data" not in form:
            return error_answer(400, "Missing required parameter: 'data'.", param="data")
        part_id = new_id("part_")
        with state.lock:
            state.parts[part_id] = form["data"][2]
        return json_answer(
            {"id": part_id, "object": "upload.part", "created_at": _CREATED, "upload_id": parts[0]}
        )
    if parts[1:] == ["complete"]:
        with state.lock:
            content = b"".join(state.parts.get(p, b"") for p in body.get("part_ids", ()))
        md5 = body.get("md5")
        if md5 is not None and hashlib.md5(content).hexdigest() != md5:
            return error_answer(400, "The md5 checksum does not match the parts.", param="md5")
        if len(content) != upload["bytes"]:
            return error_answer(
                400, f"Expected {upload['bytes']} bytes but the parts hold {len(content)}."
            )
        name, purpose = str(upload["filename"]), str(upload["purpose"])
        file = _File(new_id("file-"), name, purpose, content, None)
        with state.lock:
            state.files[file.id] = file
        done = {**upload, "status": "completed", "file": _file_json(file)}
        return Answer(200, (("content-type", "application/json"),), dumps(done))
    return None


def _vector_store_answer(
    state: FilesState, method: str, store: str, parts: list[str], body: dict[str, Any]
) -> Answer | None:
    if parts == ["files"] and method == "POST":
        file_id = str(body.get("file_id"))
        with state.lock:
            state.polls_left[f"{store}/{file_id}"] = PROCESSING_POLLS
        return json_answer(_vector_store_file(store, file_id, "in_progress"))
    if len(parts) == 2 and parts[0] == "files" and method == "GET":
        status = _polled(state, f"{store}/{parts[1]}")
        return _with_poll_after(json_answer(_vector_store_file(store, parts[1], status)))
    if parts == ["file_batches"] and method == "POST":
        batch_id = new_id("vsfb_")
        total = len(body.get("file_ids") or ()) + len(body.get("files") or ())
        with state.lock:
            state.polls_left[f"{store}/{batch_id}"] = PROCESSING_POLLS
            state.polls_left[f"{store}/{batch_id}/total"] = total
        return json_answer(_batch(store, batch_id, total, "in_progress"))
    if len(parts) == 2 and parts[0] == "file_batches" and method == "GET":
        status = _polled(state, f"{store}/{parts[1]}")
        with state.lock:
            total = state.polls_left.get(f"{store}/{parts[1]}/total", 0)
        return _with_poll_after(json_answer(_batch(store, parts[1], total, status)))
    return None
