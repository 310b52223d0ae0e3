"""How fast the sandbox serves: requests per second per scenario (a script, not a test).

Starts ``python -m sandbox --fast`` in a subprocess (one server process,
as in the demo and the tests), then drives it from client processes with
httpx keep-alive connections and prints one line per scenario:

    .venv/bin/python tests/benchmarks/bench_sandbox.py [--contacts 10000] [--seconds 5] [--clients 4]

Client processes compete with the server for the same cores; the figure is
what one server process sustains on this machine, a floor for a dedicated one.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^(ActiveCampaign|Brevo): api_url=(\S+) api_key=(\S+)$")


def start_sandbox(contacts: int) -> tuple[subprocess.Popen, dict[str, tuple[str, str]]]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tajo_site.settings_test")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--port",
            "0",
            "--fast",
            "--contacts",
            str(contacts),
            "--profile",
            "fields=5,tags=3,lists=2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    apis: dict[str, tuple[str, str]] = {}
    assert proc.stdout is not None
    while len(apis) < 2:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"sandbox exited early with {proc.wait()}")
        m = LINE.match(line.strip())
        if m:
            apis[m[1]] = (m[2], m[3])
    return proc, apis


def _worker(url: str, key: str, paths: list[str], seconds: float, out: mp.Queue) -> None:
    done = 0
    errors = 0
    with httpx.Client(base_url=url, headers={"Api-Token": key}, timeout=30) as client:
        deadline = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < deadline:
            r = client.get(paths[i % len(paths)])
            i += 1
            if r.status_code == 200:
                done += 1
            else:
                errors += 1
    out.put((done, errors))


def run(url: str, key: str, paths: list[str], clients: int, seconds: float) -> tuple[float, int]:
    out: mp.Queue = mp.Queue()
    procs = [mp.Process(target=_worker, args=(url, key, paths, seconds, out)) for _ in range(clients)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return done / min(elapsed, seconds + 0.5), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    proc, apis = start_sandbox(args.contacts)
    url, key = apis["ActiveCampaign"]
    pages = max(1, args.contacts // 100)
    scenarios = {
        "GET /api/3/users/me (small)": ["/api/3/users/me"],
        "GET /api/3/contacts?limit=100 (keyset pages)": [
            f"/api/3/contacts?orders[id]=ASC&id_greater={(i % pages) * 100}&limit=100" for i in range(50)
        ],
        "GET /api/3/fieldValues?limit=100 (bulk join)": [
            f"/api/3/fieldValues?limit=100&offset={(i % pages) * 100}" for i in range(50)
        ],
        "GET /api/3/contactTags?limit=100": [
            f"/api/3/contactTags?limit=100&offset={(i % pages) * 100}" for i in range(50)
        ],
    }
    try:
        print(f"sandbox: {args.contacts} contacts, {args.clients} client processes, {os.cpu_count()} cores")
        for name, paths in scenarios.items():
            rate, errors = run(url, key, paths, args.clients, args.seconds)
            print(f"{name:48s} {rate:8.0f} req/s  errors={errors}")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
