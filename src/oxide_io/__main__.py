"""`python -m oxide_io ...`: the `oxide` command line (see `oxide_io.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
