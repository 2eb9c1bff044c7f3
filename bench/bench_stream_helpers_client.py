"""Stream helpers end to end: `chat.completions.stream()` events per second, oxide against the SDK.

The measuring code lives in the package (`oxide_io._bench.stream_helpers`), so
that `oxide bench` runs it from an installed wheel too; this script is its entry
point.
"""

import sys

from oxide_io._bench.stream_helpers import main

if __name__ == "__main__":
    sys.exit(main())
