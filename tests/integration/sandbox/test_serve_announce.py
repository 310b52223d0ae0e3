"""The sandbox command prints its address lines only once the socket accepts connections."""

from __future__ import annotations

import io
import socket
import threading

from sandbox.cli import _AnnouncingServer, serve
from sandbox.config import SandboxConfig
from sandbox.server import bind_socket, build_app, uvicorn_config


def _connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def test_a_bound_socket_already_queues_connections() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert _connects(sock.getsockname()[1])
    finally:
        sock.close()


def test_announce_runs_after_the_server_accepts() -> None:
    config = SandboxConfig.fast(contacts=0)
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    seen: list[tuple[bool, bool]] = []
    server: _AnnouncingServer

    def announce() -> None:
        seen.append((server.started, _connects(port)))
        server.should_exit = True

    server = _AnnouncingServer(uvicorn_config(build_app(config), config), announce)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    thread.join(20)
    sock.close()
    assert not thread.is_alive()
    assert seen == [(True, True)]


def test_serve_writes_both_lines_through_the_announcement(monkeypatch) -> None:
    calls: list[str] = []
    original = _AnnouncingServer.startup

    async def startup(self, sockets=None) -> None:
        calls.append("startup")
        await original(self, sockets)
        self.should_exit = True

    monkeypatch.setattr(_AnnouncingServer, "startup", startup)

    class Out(io.StringIO):
        def write(self, text: str) -> int:
            calls.append("write")
            return super().write(text)

    out = Out()
    thread = threading.Thread(target=serve, args=(SandboxConfig.fast(contacts=0), out), daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive()
    assert calls[0] == "startup" and calls.count("write") == 2
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ActiveCampaign: api_url=http://127.0.0.1:")
    assert lines[1].startswith("Brevo: api_url=http://127.0.0.1:")
