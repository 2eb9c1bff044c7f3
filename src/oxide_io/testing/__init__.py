"""oxide_io.testing: an OpenAI-like API server to run the demo and test against.

`MockServer` serves chat completions, Responses, models, embeddings and a paged
file list with the API's wire formats — JSON and streamed server-sent events —
over HTTP/1.1 and HTTP/2, plain or TLS, and the Responses, Realtime and Live
WebSockets (`client.responses.connect()` / `session()`, `client.realtime.connect()`,
`client.live.connect()`), from a background thread of the current
process; Azure OpenAI's deployment URLs reach the same endpoints. It needs no
network and no key, so code written for the API can be exercised end to end::

    from oxide_io.testing import MockServer, Fail, CutStream

    with MockServer() as server:
        server.enqueue(Fail(429, retry_after=0))       # first attempt: rate limited
        server.enqueue(CutStream(after_events=2))      # a stream that breaks off
        ...  # point a client at server.base_url
        print(server.requests[-1].json)

The behaviours a test can script live here too: `Fail`, `Delay`,
`SlowFirstToken`, `CutStream`, `Truncate`, `Malformed`, `Stall`, `Gzip`,
`ToolCalls` (with `ToolCall`), `ComputerCall`, `OutputItems` and `Reply`; `RateLimit`
makes it enforce a rate limit with the API's headers. Run it as a process with
``python -m oxide_io.testing --port 8000``.
"""

from ._app import RecordedRequest as RecordedRequest
from ._behaviours import Behaviour as Behaviour
from ._behaviours import ComputerCall as ComputerCall
from ._behaviours import CutStream as CutStream
from ._behaviours import Delay as Delay
from ._behaviours import Fail as Fail
from ._behaviours import Gzip as Gzip
from ._behaviours import Malformed as Malformed
from ._behaviours import OutputItems as OutputItems
from ._behaviours import Reply as Reply
from ._behaviours import SlowFirstToken as SlowFirstToken
from ._behaviours import Stall as Stall
from ._behaviours import ToolCall as ToolCall
from ._behaviours import ToolCalls as ToolCalls
from ._behaviours import Truncate as Truncate
from ._catalog import FILES as FILES
from ._catalog import MODELS as MODELS
from ._catalog import embedding as embedding
from ._generation import ReplyText as ReplyText
from ._generation import default_reply as default_reply
from ._rate_limit import RateLimit as RateLimit
from ._rate_limit import RateLimiter as RateLimiter
from ._server import MockServer as MockServer

__all__ = [
    "FILES",
    "MODELS",
    "Behaviour",
    "ComputerCall",
    "CutStream",
    "Delay",
    "Fail",
    "Gzip",
    "Malformed",
    "MockServer",
    "RateLimit",
    "RateLimiter",
    "RecordedRequest",
    "OutputItems",
    "Reply",
    "ReplyText",
    "SlowFirstToken",
    "Stall",
    "ToolCall",
    "ToolCalls",
    "Truncate",
    "default_reply",
    "embedding",
]
