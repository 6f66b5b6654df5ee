"""Choosing free loopback ports for brokers and controllers."""

import socket

from streams.errors import LocalKafkaError


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct ports that were free on 127.0.0.1 a moment ago.

    The OS picks each (bind to port 0); a port can still be taken before the broker binds it,
    which the broker start-up reports and the caller retries with new ports.
    """
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def require_free(port: int) -> None:
    """Raise a clear error when ``port`` is already taken on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise LocalKafkaError(
                f"port {port} on 127.0.0.1 is already taken ({exc.strerror}); stop what holds "
                "it (`ledger kafka stop` if it is an earlier broker) or choose another port."
            ) from exc
