"""The memory footprint of one call, cold (callgrind's cache simulator): oxide against the floor.

The measuring code lives in the package (`oxide_io._bench.footprint`); this
script is its entry point: `python bench/bench_footprint.py --help`.
"""

import sys

from oxide_io._bench.footprint import main

if __name__ == "__main__":
    sys.exit(main(["table", *sys.argv[1:]]))
