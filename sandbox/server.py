"""The sandbox HTTP server: AC under ``/api/3``, Brevo under ``/v3``, controls under ``/_sandbox``.

`build_app(config)` gives the ASGI app; `SandboxServer(config)` runs it with
uvicorn in a background thread (tests, demo) and exposes the URLs, keys and
the in-memory state of both simulators.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount

from sandbox.activecampaign.state import ACState
from sandbox.brevo import BrevoSimulator
from sandbox.config import SandboxConfig
from sandbox.control import control_routes
from sandbox.faults import FaultInjector, FaultPlan
from sandbox.instance import Sandbox
from sandbox.stats import RequestStats, StatsRecorder
from sandbox.webhook_control import webhook_routes


class SandboxApp(Starlette):
    """Starlette app that remembers the server's own ``send`` so a fault can drop the socket."""

    sandbox: Sandbox

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["sandbox.raw_send"] = send
        await super().__call__(scope, receive, send)


def build_app(config: SandboxConfig | None = None) -> SandboxApp:
    config = config or SandboxConfig()
    sandbox = Sandbox(config)
    ac_app = sandbox.ac_api.app(
        keys=(config.ac_key, *config.ac_extra_keys),
        rate=config.ac_rate,
        retry_after=config.ac_retry_after_seconds,
        legacy=config.ac_legacy,
    )
    routes: list[BaseRoute] = [*control_routes(sandbox), *webhook_routes(sandbox)]
    routes.append(Mount("/api/3", app=ac_app))
    routes.append(Mount("/v3", routes=sandbox.brevo.routes()))
    prefixes = {"ac": ("/api/3",), "brevo": ("/v3",), "both": ("/api/3", "/v3")}[config.fault_scope]
    sandbox.faults = FaultPlan(
        config.faults, seed=config.seed, prefixes=prefixes, retry_after=config.ac_retry_after_seconds
    )
    app = SandboxApp(
        routes=routes,
        middleware=[
            Middleware(StatsRecorder, stats=sandbox.stats),
            Middleware(FaultInjector, plan=sandbox.faults),
        ],
    )
    app.sandbox = sandbox
    return app


BACKLOG = 2048


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind (port 0 = any free port) and listen before serving, so the real port is known up front.

    Listening here, not only when uvicorn starts, means a client that connects as soon as it
    learns the port is queued by the kernel instead of refused.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Any, config: SandboxConfig) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=config.access_log,
        lifespan="off",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
        backlog=BACKLOG,
    )


class SandboxServer:
    """Run the sandbox in a background thread: ``with SandboxServer(SandboxConfig.fast()) as sb: ...``."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.app = build_app(self.config)
        self.sandbox = self.app.sandbox
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float = 10.0) -> SandboxServer:
        if self._thread is not None:
            return self
        self._socket = bind_socket(self.config.host, self.config.port)
        self.port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn_config(self.app, self.config))
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("sandbox server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what callers need -------------------------------------------------

    @property
    def base_url(self) -> str:
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        return f"http://{host}:{self.port}"

    @property
    def ac_api_url(self) -> str:
        """What a user pastes as the AC API URL; the client appends ``/api/3``."""
        return self.base_url

    @property
    def brevo_api_url(self) -> str:
        return self.base_url + "/v3"

    @property
    def ac_key(self) -> str:
        return self.config.ac_key

    @property
    def brevo_key(self) -> str:
        return self.config.brevo_key

    @property
    def ac(self) -> ACState:
        return self.sandbox.ac

    @property
    def brevo(self) -> BrevoSimulator:
        return self.sandbox.brevo

    @property
    def stats(self) -> RequestStats:
        return self.sandbox.stats
