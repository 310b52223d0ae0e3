"""The production recipe's gunicorn: slow uploads do not starve `/healthz`; access lines are masked.

Starts gunicorn exactly as the README's recipe does (`-c python:tajo_site.gunicorn_conf`, here
with one worker, the hardest case) on a loopback port, holds slow uploads open, and asks for
`/healthz`. A control run with gunicorn's sync worker shows the same clients do block it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _gunicorn(*extra: str) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    log = ROOT / "var" / f"gunicorn-security-{port}.log"
    log.parent.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tajo_site.settings_test",
        "TAJO_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "TAJO_MAX_REQUEST_BYTES": "200000",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [GUNICORN, "-c", "python:tajo_site.gunicorn_conf", *extra, "tajo_site.asgi:application"]
            if not extra
            else [GUNICORN, "-c", "python:tajo_site.gunicorn_conf", *extra],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise AssertionError("gunicorn did not start:\n" + tail)
                time.sleep(0.3)
            yield base, log
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.unlink(missing_ok=True)


def _slow_uploads(base: str, count: int) -> list[socket.socket]:
    port = int(base.rsplit(":", 1)[1])
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(
            b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nusername="
        )
        sockets.append(sock)
    time.sleep(0.5)  # let the server take them up
    return sockets


def _healthz_seconds(base: str, timeout: float) -> float | None:
    started = time.monotonic()
    try:
        response = httpx.get(base + "/healthz", timeout=timeout)
    except httpx.TimeoutException:
        return None
    assert response.status_code == 200
    return time.monotonic() - started


def test_slow_uploads_do_not_block_healthz_with_the_recipes_workers() -> None:
    with _gunicorn() as (base, log):
        held = _slow_uploads(base, 4)
        try:
            seconds = _healthz_seconds(base, timeout=10)
            assert seconds is not None and seconds < 5, f"/healthz took {seconds}s behind slow uploads"
            secret = "S3cretValueInTheIntakeUrl0123456789abcd"
            httpx.get(f"{base}/hooks/ac/1/{secret}?token=tajo_{'q' * 30}&api_key=plainkey123", timeout=10)
        finally:
            for sock in held:
                sock.close()
        # Bodies over TAJO_MAX_REQUEST_BYTES are refused before Django spools them.
        declared = httpx.post(base + "/api/v1/runs", content=b"x" * 300_000, timeout=10)
        assert declared.status_code == 413
        streamed = httpx.post(base + "/api/v1/runs", content=iter([b"x" * 100_000] * 3), timeout=10)
        assert streamed.status_code in (411, 413)
        time.sleep(1.0)  # the access line is written after the response
        text = log.read_text(errors="replace")
        assert "/hooks/ac/1/****abcd" in text, text[-2000:]
        assert secret not in text and "tajo_qqqq" not in text and "plainkey123" not in text


def test_control_sync_workers_are_blocked_by_the_same_clients() -> None:
    """Without the recipe's workers the same two slow clients starve the only worker."""
    with _gunicorn("--worker-class", "sync", "tajo_site.wsgi:application") as (base, _log):
        held = _slow_uploads(base, 2)
        try:
            assert _healthz_seconds(base, timeout=3) is None, "a sync worker answered behind a slow upload"
        finally:
            for sock in held:
                sock.close()
