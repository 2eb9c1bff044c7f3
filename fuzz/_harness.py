"""What every fuzz target shares: splitting input into reads, replaying seeds, the CLI.

Each target module defines `check(data)` (its invariant, which raises on a bug)
and `_seeds()` (the seed corpus it can regenerate), and ends with
`harness.main(check, _seeds)`:

    python fuzz/fuzz_X.py WORK_DIR fuzz/seeds/X           # fuzz with atheris
    python fuzz/fuzz_X.py --replay fuzz/seeds/X           # run check() on each seed
    python fuzz/fuzz_X.py --write-seeds fuzz/seeds/X      # regenerate the seeds
"""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Callable

Check = Callable[[bytes], None]


def split(data: bytes, seed: int, max_piece: int) -> list[bytes]:
    """`data` cut as a network might: byte by byte when `seed` is 0, else into
    pieces of 1 to `max_piece` bytes chosen by a small LCG from `seed`, so a
    failing input reproduces exactly."""
    if seed == 0:
        return [data[i : i + 1] for i in range(len(data))]
    chunks, i, state = [], 0, seed
    while i < len(data):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        size = 1 + state % max_piece
        chunks.append(data[i : i + size])
        i += size
    return chunks


def replay(check: Check, directory: str | pathlib.Path) -> int:
    """Runs `check` on every file in `directory`; returns how many ran."""
    count = 0
    for path in sorted(pathlib.Path(directory).iterdir()):
        if path.is_file():
            check(path.read_bytes())
            count += 1
    return count


def write_seeds(seeds: Callable[[], dict[str, bytes]], directory: str | pathlib.Path) -> None:
    target = pathlib.Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for name, data in seeds().items():
        (target / name).write_bytes(data)


def main(check: Check, seeds: Callable[[], dict[str, bytes]]) -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--replay":
        for directory in sys.argv[2:]:
            print(f"{directory}: {replay(check, directory)} inputs ok")
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--write-seeds":
        write_seeds(seeds, sys.argv[2])
        return
    import atheris

    atheris.instrument_all()
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()
