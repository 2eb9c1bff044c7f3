"""A deliberately plain SSE parser, written line by line from the WHATWG text.

It is the oracle the fast `SSEDecoder` is compared against: the whole stream is
decoded first, then walked one character at a time. Slow, obviously correct, no
limits.
"""

from __future__ import annotations

from oxide_proto import ServerSentEvent


def reference_events(stream: bytes) -> list[ServerSentEvent]:
    # "UTF-8 decode": one leading BOM is skipped, invalid bytes become U+FFFD.
    if stream.startswith(b"\xef\xbb\xbf"):
        stream = stream[3:]
    text = stream.decode("utf-8", "replace")
    lines: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\r":
            lines.append("".join(current))
            current = []
            if i + 1 < len(text) and text[i + 1] == "\n":
                i += 1
        elif ch == "\n":
            lines.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    # Whatever follows the last line end is an unfinished line: discarded at EOF.

    events: list[ServerSentEvent] = []
    data = ""
    event_type = ""
    id_buffer: str | None = None
    retry: int | None = None
    for line in lines:
        if line == "":
            last_id = id_buffer
            if data == "":
                event_type = ""
                continue
            if data.endswith("\n"):
                data = data[:-1]
            events.append(ServerSentEvent(event_type or None, data, last_id, retry))
            data = ""
            event_type = ""
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "event":
            event_type = value
        elif name == "data":
            data += value + "\n"
        elif name == "id" and "\0" not in value:
            id_buffer = value
        elif name == "retry" and value != "" and all(c in "0123456789" for c in value):
            retry = int(value)
    return events
