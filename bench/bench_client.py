"""Client overhead: oxide's clients against the official SDK's, side by side in one run.

The measuring code lives in the package (`oxide_io._bench.client`), so that
`oxide bench` runs it from an installed wheel too; this script is its entry point.
`python bench/bench_client.py --help` lists the sections and options.
"""

import sys

from oxide_io._bench.client import main

if __name__ == "__main__":
    sys.exit(main())
