"""oxide's benchmarks, inside the package so that `oxide bench` runs them from an installed wheel.

- `client`: whole clients against the local mock server (per-request and per-chunk
  CPU, import time, client construction, the concurrency sweep, profiling);
- `stream_helpers`: `chat.completions.stream()` helper events per second;
- `websocket`: an agent's tool loop over a WebSocket, HTTP keep-alive or a new
  connection per call;
- `floor`: the hand-written h11 client the others are measured against;
- `server`: the mock server in a child process;
- `report` and `charts`: the report of `oxide bench`, Markdown or JSON, and its charts.

The scripts in the repository's `bench/` folder are entry points over these
modules. Nothing here is imported by `import oxide_io`; the official SDK, trio
and matplotlib are used when installed (the `bench` extra installs them).
"""

__all__ = ["SECTIONS"]

# The sections of the report, in its order (`oxide bench --only ...`).
SECTIONS = ("requests", "chunks", "events", "import", "concurrency", "websocket")
