"""Instructions per call under valgrind's callgrind: oxide against the h11 floor.

The measuring code lives in the package (`oxide_io._bench.instructions`); this
script is its entry point: `python bench/bench_instructions.py --help`.
"""

import sys

from oxide_io._bench.instructions import main

if __name__ == "__main__":
    sys.exit(main(["table", *sys.argv[1:]]))
