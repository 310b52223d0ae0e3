"""Webhook benchmarks with PostgreSQL and Redis; prints figures and appends them to docs/benchmarks.md.

    python -m tests.benchmarks.bench_webhooks             # both scenarios (about 2 minutes)
    python -m tests.benchmarks.bench_webhooks --quick     # shorter, for a smoke run (nothing written)

1. Intake: one gunicorn web process (gthread) serves the Django app from a fresh PostgreSQL
   database and Redis; a client process keeps N keep-alive connections busy with distinct
   AC-shaped `update` bodies for a fixed time. Printed: accepted webhooks per second, p50 and
   p99 latency, and a check that every accepted webhook is one stored, queued event.
   Target: at least 500 accepted/s with p99 under 100 ms.
2. Intake to Brevo: the sandbox (`python -m sandbox`, ActiveCampaign at its default
   5 requests/s) posts real webhooks to the gunicorn process as contacts change; one RQ worker
   (`manage.py tajo_worker`) applies them. Printed: delay from intake to the Brevo write
   (p50, p95, max) for changes paced one a second, and for a burst that queues behind the AC budget.

Not a test: nothing here asserts; targets are printed beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.benchmarks import servers
from tests.benchmarks.report import heading, write_section

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "tajo_bench_webhooks"
REDIS_DB = 12


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-secret-key-" + "x" * 30,
        "FIELD_ENCRYPTION_KEY": "YmVuY2htYXJrLW9ubHktZmllbGQta2V5LTAwMDAwMDA=",
        "TAJO_ALLOW_PRIVATE_URLS": "true",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{PG}/{DB}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "LOG_LEVEL": "WARNING",
    }


def _manage(*args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(),
        check=True,
        text=True,
        capture_output=capture,
    )
    return result.stdout if capture else ""


def _shell(code: str) -> dict:
    """Run Django code in a fresh process; it prints one JSON line prefixed by RESULT."""
    out = _manage("shell", "-c", code, capture=True)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def fresh_database() -> None:
    admin = {**_env(), "DATABASE_URL": f"{PG}/postgres"}
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB}"], check=True, env=admin)
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {DB}"], check=True, env=admin)
    _manage("migrate", "--verbosity", "0")
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=True, capture_output=True)


def start_gunicorn(threads: int) -> tuple[subprocess.Popen, str]:
    options = ["--workers", "1", "--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "30"]
    return servers.start_gunicorn(options, env=_env())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


# ----------------------------------------------------------------------------- scenario 1: intake


SEED_INTAKE = """
import json
from connectors.models import ActiveCampaignAccount, BrevoAccount, Connection
from connectors.webhooks.services import intake_path
from tenants.models import Tenant
t = Tenant.objects.create(slug="bench", name="Bench")
ac = ActiveCampaignAccount.objects.create(
    tenant=t, name="ac", api_url="https://bench.api-us1.com", api_key="bench-ac-key-0000")
br = BrevoAccount.objects.create(tenant=t, name="brevo", api_key="bench-brevo-key-0000")
c = Connection.objects.create(tenant=t, name="activecampaign", ac_account=ac, brevo_account=br)
print("RESULT " + json.dumps({"path": intake_path(c), "id": c.pk}))
"""

COUNT_EVENTS = """
import json
from connectors.webhooks.models import WebhookEvent
from connectors import queues
q = queues.LaneView(queues.SHORT_QUEUE)
print("RESULT " + json.dumps({"events": WebhookEvent.objects.filter(status="received").count(),
                              "other": WebhookEvent.objects.exclude(status="received").count(),
                              "queued": q.count}))
"""


def update_body(i: int) -> bytes:
    return urlencode(
        [
            ("type", "update"),
            ("date_time", "2024-05-21T10:14:32-05:00"),
            ("initiated_from", "admin"),
            ("initiated_by", "admin"),
            ("list", "0"),
            ("contact[id]", str(100_000 + i)),
            ("contact[email]", f"bench.{i}@example.org"),
            ("contact[first_name]", "Bench"),
            ("contact[last_name]", f"Person {i}"),
            ("contact[phone]", "+15125550143"),
            ("contact[ip]", "0.0.0.0"),
            ("contact[tags]", "vip, wholesale"),
            ("contact[orgname]", ""),
            ("contact[fields][1]", "Acme"),
            ("contact[fields][2]", "Retail"),
            ("contact[fields][3]", "gold"),
        ]
    ).encode()


async def _client(port: int, path: str, start: int, step: int, deadline: float, out: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = start
    while time.perf_counter() < deadline:
        body = update_body(i)
        i += step
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        began = time.perf_counter()
        writer.write(head + body)
        raw = await reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = int(re.search(rb"(?i)content-length: *(\d+)", raw).group(1))
        await reader.readexactly(length)
        out.append((status, time.perf_counter() - began))
        if re.search(rb"(?i)connection: *close", raw):
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()


def _load(port: int, path: str, connections: int, seconds: float, offset: int, queue: mp.Queue) -> None:
    results: list[tuple[int, float]] = []

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(
            *(_client(port, path, offset + n, connections, deadline, results) for n in range(connections))
        )

    asyncio.run(main())
    queue.put(results)


def load(url: str, path: str, *, connections: int, seconds: float, offset: int) -> list[tuple[int, float]]:
    """Drive the server from a separate process, so the client never shares a GIL with it."""
    port = int(url.rsplit(":", 1)[1])
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(target=_load, args=(port, path, connections, seconds, offset, queue))
    proc.start()
    results = queue.get()
    proc.join()
    return results


def scenario_intake(*, seconds: float, connections: int, threads: int) -> dict:
    fresh_database()
    seeded = _shell(SEED_INTAKE)
    server, url = start_gunicorn(threads)
    try:
        load(url, seeded["path"], connections=connections, seconds=2.0, offset=10_000_000)  # warm-up
        before = _shell(COUNT_EVENTS)
        started = time.perf_counter()
        results = load(url, seeded["path"], connections=connections, seconds=seconds, offset=0)
        elapsed = time.perf_counter() - started
    finally:
        servers.stop(server)
    accepted = [latency for status, latency in results if status == 200]
    after = _shell(COUNT_EVENTS)
    counts = {key: after[key] - before[key] for key in after}
    return {
        "seconds": round(elapsed, 1),
        "connections": connections,
        "gunicorn": f"1 process, gthread, {threads} threads",
        "requests": len(results),
        "accepted": len(accepted),
        "not_accepted": len(results) - len(accepted),
        "accepted_per_second": round(len(accepted) / seconds),
        "p50_ms": round(percentile(accepted, 0.50) * 1000, 1),
        "p99_ms": round(percentile(accepted, 0.99) * 1000, 1),
        "stored_events": counts["events"] + counts["other"],
        "queued_jobs": counts["queued"],
    }


# ----------------------------------------------------------------------------- scenario 2: to Brevo

SEED_SANDBOX = """
import json
from connectors.models import ActiveCampaignAccount, BrevoAccount, Connection
from connectors.webhooks.services import webhooks_register
from mappings.services import catalog_discover
from tenants.models import Tenant
t = Tenant.objects.create(slug="bench", name="Bench")
ac = ActiveCampaignAccount.objects.create(
    tenant=t, name="ac", api_url=AC_URL, api_key=AC_KEY, requests_per_second=5.0)
br = BrevoAccount.objects.create(tenant=t, name="brevo", api_url=BREVO_URL, api_key=BREVO_KEY)
c = Connection.objects.create(tenant=t, name="activecampaign", ac_account=ac, brevo_account=br)
catalog_discover(connection=c)
hook = webhooks_register(connection=c, base_url=BASE)
print("RESULT " + json.dumps({"hook": hook.id}))
"""

EVENT_TIMES = """
import json
from connectors.webhooks.models import WebhookEvent
rows = [
    {"key": e.key, "status": e.status, "received": e.received_at.timestamp(),
     "processed": e.processed_at.timestamp() if e.processed_at else None, "outcomes": e.outcomes}
    for e in WebhookEvent.objects.filter(event_type="update").order_by("pk")
]
print("RESULT " + json.dumps(rows))
"""


def start_sandbox() -> tuple[subprocess.Popen, dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--contacts", "300", "--ac-rate", "5"],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    apis: dict[str, str] = {}
    while len(apis) < 4:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox stopped before printing its URLs")
        match = re.match(r"(ActiveCampaign|Brevo): api_url=(\S+) api_key=(\S+)", line.strip())
        if match:
            apis[match.group(1) + "_url"], apis[match.group(1) + "_key"] = match.group(2), match.group(3)
    return process, apis


def _valid_contacts(base: str, count: int) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    cid = 1
    while len(found) < count:
        snap = httpx.get(f"{base}/_sandbox/ac/contacts/{cid}", timeout=10)
        if snap.status_code == 200:
            email = snap.json()["contact"]["email"]
            if re.fullmatch(r"[a-z0-9._+-]+@[a-z0-9.-]+\.[a-z]{2,}", email or ""):
                found.append((cid, email.lower()))
        cid += 1
    return found


def _delays(rows: list[dict], brevo_times: dict[str, float]) -> dict:
    done = [r for r in rows if r["processed"]]
    to_processed = [r["processed"] - r["received"] for r in done]
    to_brevo = [brevo_times[r["key"]] - r["received"] for r in done if r["key"] in brevo_times]
    return {
        "events": len(rows),
        "processed": sum(1 for r in rows if r["status"] == "processed"),
        "p50_s": round(percentile(to_brevo, 0.50), 2),
        "p95_s": round(percentile(to_brevo, 0.95), 2),
        "max_s": round(max(to_brevo), 2) if to_brevo else None,
        "p50_until_done_s": round(percentile(to_processed, 0.50), 2),
    }


def _wait_processed(expected: int, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        rows = _shell(EVENT_TIMES)
        if sum(1 for r in rows if r["processed"]) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(1.0)


def _brevo_times(base: str, emails: list[str]) -> dict[str, float]:
    times = {}
    for email in emails:
        contact = httpx.get(f"{base}/_sandbox/brevo/contacts", params={"email": email}, timeout=10)
        if contact.status_code == 200:
            stamp = contact.json()["modifiedAt"].replace("Z", "+00:00")
            times[email] = datetime.fromisoformat(stamp).timestamp()
    return times


def scenario_to_brevo(*, paced: int, burst: int) -> dict:
    fresh_database()
    sandbox, apis = start_sandbox()
    server, url = start_gunicorn(8)
    worker = None
    try:
        base = apis["ActiveCampaign_url"]
        code = SEED_SANDBOX
        for name, value in (
            ("AC_URL", base),
            ("AC_KEY", apis["ActiveCampaign_key"]),
            ("BREVO_URL", apis["Brevo_url"]),
            ("BREVO_KEY", apis["Brevo_key"]),
            ("BASE", url),
        ):
            code = code.replace(name, repr(value))
        _shell(code)
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "tajo_worker"],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        contacts = _valid_contacts(base, paced + burst)
        stats_before = httpx.get(f"{base}/_sandbox/stats", timeout=10).json()["requests"]

        for n, (cid, _) in enumerate(contacts[:paced]):  # one change a second
            httpx.post(f"{base}/_sandbox/ac/contacts/{cid}", json={"firstName": f"Paced {n}"}, timeout=10)
            time.sleep(1.0)
        rows = _wait_processed(paced, timeout=60 + 5 * paced)
        paced_result = _delays(rows, _brevo_times(base, [e for _, e in contacts[:paced]]))
        stats_after = httpx.get(f"{base}/_sandbox/stats", timeout=10).json()["requests"]
        ac_requests = sum(v["count"] for k, v in stats_after.items() if " /api/3" in k) - sum(
            v["count"] for k, v in stats_before.items() if " /api/3" in k
        )

        for n, (cid, _) in enumerate(contacts[paced:]):  # all at once
            httpx.post(f"{base}/_sandbox/ac/contacts/{cid}", json={"firstName": f"Burst {n}"}, timeout=10)
        rows = _wait_processed(paced + burst, timeout=60 + 5 * burst)[paced:]
        burst_result = _delays(rows, _brevo_times(base, [e for _, e in contacts[paced:]]))
    finally:
        if worker is not None:
            servers.stop(worker)
        servers.stop(server)
        servers.stop(sandbox)
    return {
        "ac_rate_per_second": 5,
        "ac_requests_per_webhook": round(ac_requests / max(1, paced), 1),
        "paced_1_per_second": paced_result,
        "burst": {"changes": burst, **burst_result},
    }


# ----------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke run, nothing written)")
    parser.add_argument("--seconds", type=float, default=20.0, help="intake measurement time (default 20)")
    parser.add_argument(
        "--connections", type=int, default=16, help="concurrent client connections (default 16)"
    )
    parser.add_argument(
        "--threads", type=int, default=8, help="gunicorn threads in the one process (default 8)"
    )
    parser.add_argument("--only", choices=["intake", "brevo"], action="append")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    wanted = set(args.only or ["intake", "brevo"])
    results: dict[str, dict] = {}
    if "intake" in wanted:
        r = results["intake"] = scenario_intake(
            seconds=3.0 if args.quick else args.seconds, connections=args.connections, threads=args.threads
        )
        print(
            f"intake: {r['accepted_per_second']} accepted webhooks/s (target >= 500), p50 {r['p50_ms']} ms, "
            f"p99 {r['p99_ms']} ms (target < 100 ms); {r['accepted']} accepted, {r['not_accepted']} not; "
            f"{r['stored_events']} stored, {r['queued_jobs']} queued ({r['gunicorn']}, "
            f"{r['connections']} connections)"
        )
    if "brevo" in wanted:
        r = results["brevo"] = scenario_to_brevo(paced=5 if args.quick else 20, burst=5 if args.quick else 30)
        p, b = r["paced_1_per_second"], r["burst"]
        print(
            f"intake -> Brevo at AC {r['ac_rate_per_second']} req/s "
            f"({r['ac_requests_per_webhook']} AC requests "
            f"per webhook): paced p50 {p['p50_s']} s, p95 {p['p95_s']} s, max {p['max_s']} s; burst of "
            f"{b['changes']}: p50 {b['p50_s']} s, p95 {b['p95_s']} s, max {b['max_s']} s"
        )
    if not args.no_write and not args.quick:
        write_report(results)


def write_report(results: dict[str, dict]) -> None:
    lines = [f"## {heading('Webhook benchmarks')}\n"]
    if "intake" in results:
        r = results["intake"]
        lines.append(
            f"Intake ({r['gunicorn']}, {r['connections']} keep-alive connections, {r['seconds']} s, "
            "PostgreSQL "
            f"and Redis on the same machine): **{r['accepted_per_second']} accepted webhooks/s**, p50 "
            f"{r['p50_ms']} ms, **p99 {r['p99_ms']} ms** (targets: ≥ 500/s, p99 < 100 ms). "
            f"{r['stored_events']} events stored and {r['queued_jobs']} jobs queued "
            f"for {r['accepted']} accepted.\n"
        )
    if "brevo" in results:
        r = results["brevo"]
        p, b = r["paced_1_per_second"], r["burst"]
        lines.append(
            f"Intake to Brevo write (sandbox AC at the default {r['ac_rate_per_second']} requests/s, one RQ "
            f"worker, {r['ac_requests_per_webhook']} AC requests per webhook): one change a second — p50 "
            f"{p['p50_s']} s, p95 {p['p95_s']} s, max {p['max_s']} s; "
            f"a burst of {b['changes']} changes — p50 {b['p50_s']} s, p95 {b['p95_s']} s, max {b['max_s']} s "
            "(the burst queues behind the AC budget).\n"
        )
    lines += ["```json", json.dumps(results, indent=2), "```"]
    write_section("webhooks", lines)


if __name__ == "__main__":
    main()
