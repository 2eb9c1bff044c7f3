"""An agent loop's transport: one WebSocket against HTTP keep-alive against a connection per call.

The measuring code lives in the package (`oxide_io._bench.websocket`), so that
`oxide bench` runs it from an installed wheel too; this script is its entry point.
"""

import sys

from oxide_io._bench.websocket import main

if __name__ == "__main__":
    sys.exit(main())
