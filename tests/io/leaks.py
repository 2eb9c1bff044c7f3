"""What a test counts to prove nothing leaked: this process's sockets to a given server port.

The embedded server runs in this process too, so a plain count of file
descriptors mixes both ends; `client_sockets(port)` counts only the sockets whose
peer is `port` (the client ends), read from /proc. `open_fds()` is the plain count.
"""

from __future__ import annotations

import os

__all__ = ["client_sockets", "open_fds"]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _socket_inodes() -> set[str]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed while listing
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def client_sockets(port: int) -> int:
    """How many open sockets of this process are connected to `port` on the peer side."""
    mine = _socket_inodes()
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[9] in mine:
                count += 1
    return count
