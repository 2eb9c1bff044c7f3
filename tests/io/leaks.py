"""What a test counts to prove nothing leaked: this process's sockets to a given server port.

The embedded server runs in this process too, so a plain count of file
descriptors mixes both ends; `client_sockets(port)` counts only the sockets whose
peer is `port` (the client ends), read from /proc. `open_fds()` is the plain count.
"""

from __future__ import annotations

import os

__all__ = ["client_sockets", "describe_fds", "fd_targets", "open_fds"]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def fd_targets() -> dict[int, str]:
    """What each open descriptor of this process names (`socket:[inode]`, a path, ...)."""
    targets = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets[int(fd)] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed while listing
    return targets


_TCP_STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
    "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
    "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}  # fmt: skip


def _tcp_rows() -> dict[str, tuple[int, int, str]]:
    """Socket inode -> (local port, remote port, TCP state) for this process's namespace."""
    rows = {}
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local = int(fields[1].rsplit(":", 1)[1], 16)
            remote = int(fields[2].rsplit(":", 1)[1], 16)
            rows[fields[9]] = (local, remote, _TCP_STATES.get(fields[3], fields[3]))
    return rows


def describe_fds(before: dict[int, str], names: dict[int, str] | None = None) -> list[str]:
    """The descriptors open now that were not in `before` (from `fd_targets`), one line
    each: a TCP socket as its ports (named by `names`, port -> name) and state.

    A TCP socket missing from the kernel's table (reset by its peer, or never
    connected) shows as a bare socket.
    """
    names = names or {}
    tcp = _tcp_rows()
    lines = []
    for fd, target in sorted(fd_targets().items()):
        if before.get(fd) == target:
            continue
        if target.startswith("socket:[") and target[8:-1] in tcp:
            local, remote, state = tcp[target[8:-1]]
            local_name = names.get(local, str(local))
            remote_name = names.get(remote, str(remote))
            lines.append(f"fd {fd}: tcp {local_name} -> {remote_name} {state}")
        else:
            lines.append(f"fd {fd}: {target}")
    return lines


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
