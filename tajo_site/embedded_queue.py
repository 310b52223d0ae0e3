"""The embedded queue for a machine without Redis: a Redis-protocol server inside the demo process.

Web server and workers run as separate processes and talk to it over loopback exactly as they
would to Redis, so jobs still run outside the web request. For local use only: it keeps
everything in memory. Production sets REDIS_URL to a real Redis.
"""

from __future__ import annotations

import socket
import threading

from rq.worker import Worker


def free_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]


def start_embedded_redis(port: int) -> tuple[str, object]:
    """Serve the Redis protocol on 127.0.0.1:port from a background thread; returns its URL."""
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, name="embedded-redis", daemon=True)
    thread.start()
    return f"redis://127.0.0.1:{port}/0", server


class EmbeddedWorker(Worker):
    """An RQ worker for the embedded queue, which does not implement CLIENT LIST."""

    def _set_ip_address(self, connection) -> None:
        self.ip_address = "embedded"
