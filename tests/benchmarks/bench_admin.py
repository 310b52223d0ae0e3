"""Admin pages at a million per-record outcomes, on PostgreSQL behind gunicorn (2 workers).

    python -m tests.benchmarks.bench_admin            # generate (about 1-2 minutes), measure, write figures
    python -m tests.benchmarks.bench_admin --keep     # reuse the generated database (migrations still run)
    python -m tests.benchmarks.bench_admin --quick    # 100,000 rows, nothing written to docs/benchmarks.md

One tenant ("big") has 1,000,000 SyncRecords over 20 runs (the biggest 240,000); two others have
50,000 each. Rows are streamed in with COPY. The big tenant's connection has a discovered catalog
and 100 mapping rows (listed read-only on its page; one kind of 40 is also measured opened for
editing). gunicorn serves the app from its own database (`tajo_g_bench` unless
BENCH_DB says otherwise), so tests are not disturbed.

Each page is fetched once to warm up, then 5 times; printed: p50 (the median) and max, for the
tenant's owner and for a superuser. Target: p50 under 300 ms and max under 600 ms everywhere.
Not a test: nothing here asserts; the targets are printed beside the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx

from tests.benchmarks import servers
from tests.benchmarks.report import heading, write_section

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "tajo_g_bench")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "7"))
PASSWORD = "bench-password-0000"
TARGET_P50_MS, TARGET_MAX_MS = 300, 600


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


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_env(), check=True)


def _psql(sql: str, db: str = "postgres") -> str:
    out = subprocess.run(["psql", f"{PG}/{db}", "-Atqc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


# ----------------------------------------------------------------------------- data


def _django() -> None:
    os.environ.update(_env())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tajo_site.settings")
    import django

    django.setup()


def _run_sizes(total: int, runs: int, biggest: int) -> list[int]:
    rest = (total - biggest) // (runs - 1)
    return [biggest, *[rest] * (runs - 2), total - biggest - rest * (runs - 2)]


def _resource(i: int) -> str:
    return "deals" if i % 20 in (0, 1) else "custom_objects" if i % 20 == 2 else "contacts"


def _outcome(i: int) -> tuple[str, str, str]:
    share = i % 100
    if share < 2:
        return "failed", "invalid_email", "Brevo refused the email address (invalid_parameter)."
    if share < 5:
        return "skipped", "no_email", "The contact has no email address; nothing to write."
    if share < 40:
        return "updated", "", ""
    if share < 50:
        return "created", "", ""
    return "unchanged", "", ""


def _copy_records(tenant_id: int, run_id: int, count: int, prefix: str, started) -> None:
    """Stream `count` rows of one run into the table with COPY (text format, in chunks)."""
    from django.db import connection

    columns = (
        "tenant_id, run_id, resource, source_id, key, outcome, error_code, message, sent, trigger, created_at"
    )
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY connectors_syncrecord ({columns}) FROM STDIN") as copy,
    ):
        buffer = io.StringIO()
        for i in range(count):
            outcome, code, message = _outcome(i)
            email = f"{prefix}{i}@example.org"
            sent = (
                "\\N"
                if outcome in ("failed", "skipped", "unchanged")
                else json.dumps({"email": email, "attributes": {"FIRSTNAME": "Bench", "LASTNAME": f"P{i}"}})
            )
            stamp = (started + timedelta(milliseconds=i)).isoformat()
            buffer.write(
                f"{tenant_id}\t{run_id}\t{_resource(i)}\t{i + 1}\t{email}\t{outcome}\t{code}\t{message}\t"
                f"{sent}\tadmin\t{stamp}\n"
            )
            if i % 50_000 == 49_999:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def _catalog_and_mappings(connection) -> None:
    """A discovered catalog of realistic size and 100 mapping rows on the big tenant's connection."""
    from django.utils import timezone

    from mappings.models import Catalog, CatalogItem, CustomFieldMapping, ListMapping, TagMapping

    now = timezone.now()
    catalog = Catalog.objects.create(tenant=connection.tenant, connection=connection, discovered_at=now)
    items = []
    for side, kind, count, data_type in (
        ("ac", "field", 150, "text"),
        ("ac", "list", 100, ""),
        ("ac", "tag", 200, ""),
        ("brevo", "attribute", 150, "text"),
        ("brevo", "list", 100, ""),
    ):
        for n in range(1, count + 1):
            items.append(
                CatalogItem(
                    tenant=connection.tenant,
                    catalog=catalog,
                    side=side,
                    kind=kind,
                    external_id=f"ATTR_{n}" if kind == "attribute" else str(n),
                    label=f"{kind} number {n}",
                    data_type=data_type,
                    extra={"category": "normal"} if kind == "attribute" else {},
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
    CatalogItem.objects.bulk_create(items)
    common = {"tenant": connection.tenant, "connection": connection}
    CustomFieldMapping.objects.bulk_create(
        CustomFieldMapping(**common, ac_field_id=n, attribute=f"ATTR_{n}", transform="text")
        for n in range(1, 41)
    )
    ListMapping.objects.bulk_create(
        ListMapping(**common, ac_list_id=n, brevo_list_id=n) for n in range(1, 31)
    )
    TagMapping.objects.bulk_create(TagMapping(**common, ac_tag_id=n, brevo_list_id=n) for n in range(1, 31))


def generate(*, total: int) -> dict:
    """A fresh database with the three tenants, their runs and records; returns ids the pages need."""
    _psql(f"DROP DATABASE IF EXISTS {DB}")
    _psql(f"CREATE DATABASE {DB}")
    _manage("migrate", "--verbosity", "0")
    _django()
    from django.contrib.auth import get_user_model
    from django.db import connection as db
    from django.utils import timezone

    from connectors.models import ActiveCampaignAccount, BrevoAccount, Connection, SyncRun
    from tenants.models import Membership, Tenant

    users = get_user_model()
    users.objects.create_superuser("bench-admin", "admin@example.org", PASSWORD)
    owner = users.objects.create_user("bench-owner", "owner@example.org", PASSWORD, is_staff=True)
    started = time.perf_counter()
    plan = [
        ("big", total, 20, total * 24 // 100),
        ("small-a", total // 20, 5, 0),
        ("small-b", total // 20, 5, 0),
    ]
    ids: dict = {}
    for slug, count, runs, biggest in plan:
        tenant = Tenant.objects.create(slug=slug, name=slug.title())
        ac = ActiveCampaignAccount.objects.create(
            tenant=tenant, name="ac", api_url=f"https://{slug}.api-us1.com", api_key=f"{slug}-ac-key-0000"
        )
        brevo = BrevoAccount.objects.create(tenant=tenant, name="brevo", api_key=f"{slug}-brevo-key-0000")
        connection = Connection.objects.create(
            tenant=tenant, name="activecampaign", ac_account=ac, brevo_account=brevo
        )
        sizes = _run_sizes(count, runs, biggest) if biggest else [count // runs] * runs
        base = timezone.now() - timedelta(days=runs)
        for number, size in enumerate(sizes):
            created = base + timedelta(days=number)
            counters = {"contacts": {"read": size, "updated": size * 35 // 100, "failed": size // 50}}
            run = SyncRun.objects.create(
                tenant=tenant,
                connection=connection,
                mode="full",
                resources=["contacts", "deals", "custom_objects"],
                status="partial",
                created_at=created,
                started_at=created,
                finished_at=created + timedelta(minutes=size // 3000 + 1),
                counters=counters,
                progress_done=size,
                progress_total=size,
            )
            _copy_records(tenant.pk, run.pk, size, f"{slug}.person", created)
            if size == biggest:
                ids["biggest_run"] = run.pk
        if slug == "big":
            Membership.objects.create(user=owner, tenant=tenant, role="owner")
            _catalog_and_mappings(connection)
            ids["connection"] = connection.pk
    with db.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"generated {total + total // 10:,} records in {time.perf_counter() - started:.0f} s", flush=True)
    return ids


def existing_ids() -> dict:
    _manage("migrate", "--verbosity", "0")
    _django()
    from connectors.models import Connection, SyncRun

    connection = Connection.objects.get(tenant__slug="big")
    biggest = SyncRun.objects.filter(connection=connection).order_by("-progress_total", "id").first()
    return {"connection": connection.pk, "biggest_run": biggest.pk}


def page_ids(ids: dict) -> dict:
    from connectors.models import SyncRecord

    record = SyncRecord.objects.filter(run_id=ids["biggest_run"]).order_by("id")[1000]
    return {**ids, "record": record.pk}


# ----------------------------------------------------------------------------- serving and measuring


def start_gunicorn() -> tuple[subprocess.Popen, str]:
    return servers.start_gunicorn(["--workers", "2", "--timeout", "120"], env=_env())


class Browser:
    """Signs in through the admin's login form. Cookies are sent by hand: they are Secure (DEBUG off)
    and this client talks plain HTTP to loopback."""

    def __init__(self, url: str, username: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=120, follow_redirects=False)
        self.cookies: dict[str, str] = {}
        login = self.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        response = self._send(
            "POST",
            "/admin/login/",
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
                "next": "/admin/",
            },
        )
        if response.status_code != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{username} could not sign in ({response.status_code})")

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        response = self.client.request(method, path, headers=headers, **kwargs)
        for name, value in response.cookies.items():
            self.cookies[name] = value
        return response

    def get(self, path: str) -> httpx.Response:
        response = self._send("GET", path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
        return response

    def timed(self, path: str, repeat: int = 5) -> list[float]:
        self.get(path)  # warm-up: connection pools, template caches, PostgreSQL buffers
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            self.get(path)
            times.append((time.perf_counter() - started) * 1000)
        return times


def pages(ids: dict) -> list[tuple[str, str]]:
    records = "/admin/connectors/syncrecord/"
    return [
        ("records, no filter", records),
        ("records, outcome=failed", records + "?outcome__exact=failed"),
        ("records, resource=deals", records + "?resource=deals"),
        ("records of the biggest run", records + f"?run={ids['biggest_run']}"),
        ("search by e-mail, exact", records + "?q=big.person12345@example.org"),
        ("search by e-mail, partial", records + "?q=big.person1234"),
        ("search by ActiveCampaign id", records + "?q=123456"),
        ("records ?p=500", records + "?p=500"),
        ("record detail", records + f"{ids['record']}/change/"),
        ("run detail", f"/admin/connectors/syncrun/{ids['biggest_run']}/change/"),
        ("runs list", "/admin/connectors/syncrun/"),
        ("connection page (100 mappings)", f"/admin/connectors/connection/{ids['connection']}/change/"),
        # The same page with one kind's 40 rows opened for editing ("Edit or add rows here").
        (
            "connection page, 40 rows editable",
            f"/admin/connectors/connection/{ids['connection']}/change/?edit=customfieldmappings",
        ),
    ]


def measure(url: str, ids: dict) -> list[dict]:
    users = {"owner": Browser(url, "bench-owner"), "superuser": Browser(url, "bench-admin")}
    rows = []
    for name, path in pages(ids):
        row = {"page": name, "path": path}
        for who, browser in users.items():
            times = browser.timed(path)
            row[who] = {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}
        rows.append(row)
        print(
            f"{name:34} owner p50 {row['owner']['p50_ms']:7.1f} max {row['owner']['max_ms']:7.1f}"
            f"   superuser p50 {row['superuser']['p50_ms']:7.1f} max {row['superuser']['max_ms']:7.1f}",
            flush=True,
        )
    return rows


def app_cpu(ids: dict, rows: list[dict]) -> None:
    """Each page's CPU time in this process (Django test client, same database): what the app
    itself costs, which the other work on a loaded machine does not stretch as it does wall time."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username="bench-owner"))
    for row, (_, path) in zip(rows, pages(ids), strict=True):
        client.get(path)
        times = []
        for _ in range(5):
            started = time.process_time()
            client.get(path)
            times.append((time.process_time() - started) * 1000)
        row["owner_app_cpu_ms"] = round(statistics.median(times), 1)


def table(rows: list[dict]) -> list[str]:
    def cell(value: dict) -> str:
        mark = value["p50_ms"] < TARGET_P50_MS and value["max_ms"] < TARGET_MAX_MS
        return f"{value['p50_ms']:.0f} / {value['max_ms']:.0f}" + ("" if mark else " ✗")

    lines = [
        "| page | tenant owner p50 / max ms | superuser p50 / max ms | owner, app CPU p50 ms |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {row['page']} | {cell(row['owner'])} | {cell(row['superuser'])} | {row['owner_app_cpu_ms']:.0f} |"
        for row in rows
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="reuse the generated database")
    parser.add_argument("--quick", action="store_true", help="100,000 rows; figures not written")
    args = parser.parse_args()
    total = 100_000 if args.quick else 1_000_000
    exists = _psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB}'") == "1"
    ids = existing_ids() if args.keep and exists else generate(total=total)
    ids = page_ids(ids)
    load = os.getloadavg()[0]
    process, url = start_gunicorn()
    try:
        rows = measure(url, ids)
    finally:
        servers.stop(process)
    app_cpu(ids, rows)
    from connectors.models import SyncRecord

    count = SyncRecord.objects.count()
    lines = table(rows)
    print("\n".join(lines))
    if args.quick:
        return
    write_section(
        "admin",
        [
            "## " + heading("Admin pages at a million records"),
            "",
            f"`python -m tests.benchmarks.bench_admin`: {count:,} SyncRecords (one tenant 1,000,000 over"
            " 20 runs,"
            " the biggest 240,000; two others 50,000 each), PostgreSQL 15, gunicorn with 2 sync workers, one"
            " request at a time; each page warmed up once, then the median (p50) and max of 5. Targets: p50 <"
            f" {TARGET_P50_MS} ms, max < {TARGET_MAX_MS} ms (✗ marks a miss). Load average at the start:"
            f" {load:.1f}, at the end: {os.getloadavg()[0]:.1f} (other work shared the cores). The last"
            " column is the app's own CPU time for the page (Django test client in the benchmark"
            " process, database time not included), which that other work does not stretch.",
            "",
            *lines,
            "",
            "```json",
            json.dumps({"records": count, "pages": rows}, indent=2),
            "```",
        ],
    )


if __name__ == "__main__":
    main()
