"""Sync benchmarks on the sandbox with PostgreSQL; prints figures and writes docs/benchmarks.md.

    python -m tests.benchmarks.bench_sync            # every scenario (about 5 minutes)
    python -m tests.benchmarks.bench_sync --quick    # smaller sizes, for a smoke run

Each scenario starts two `python -m sandbox` processes, one whose ActiveCampaign API is used
and one whose Brevo API is used: the real vendors are separate machines, so Brevo applying an
import must not slow ActiveCampaign's answers (nor compete with the worker for a CPU's GIL).
Then a fresh PostgreSQL database, and the sync run as a worker would: `manage.py tajo_sync
--inline` in a separate process whose peak RSS is read from the kernel.
Not a test: nothing here asserts; targets are printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.benchmarks.report import heading, write_section

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# Several benchmark runs may share one PostgreSQL and one Redis: each picks its own names.
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "tajo_bench")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "14"))
PROFILE = "fields=5,tags=3,lists=2,deals=0,scores=0,automations=0,events=0,orders=0,records=0"


@dataclass
class Sandbox:
    """The ActiveCampaign API of one sandbox process and the Brevo API of another."""

    ac_process: subprocess.Popen
    brevo_process: subprocess.Popen
    ac_url: str
    ac_key: str
    brevo_url: str
    brevo_key: str

    @property
    def base(self) -> str:
        return self.ac_url

    def stats(self) -> dict:
        """Requests by endpoint: ActiveCampaign's from its process, Brevo's from the other."""
        ac = httpx.get(f"{self.ac_url}/_sandbox/stats", timeout=60).json()
        brevo_base = self.brevo_url.removesuffix("/v3")
        brevo = httpx.get(f"{brevo_base}/_sandbox/stats", timeout=60).json()
        requests = {k: v for k, v in ac["requests"].items() if " /api/3/" in k}
        requests.update({k: v for k, v in brevo["requests"].items() if " /v3/" in k})
        return {"requests": requests}

    def stop(self) -> None:
        for process in (self.ac_process, self.brevo_process):
            process.terminate()
        for process in (self.ac_process, self.brevo_process):
            process.wait(timeout=20)


def _env(db: str, redis_db: int = REDIS_DB) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-secret-key-" + "x" * 30,
        "FIELD_ENCRYPTION_KEY": "YmVuY2htYXJrLW9ubHktZmllbGQta2V5LTAwMDAwMDA=",
        "TAJO_ALLOW_PRIVATE_URLS": "true",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{PG}/{db}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "LOG_LEVEL": "WARNING",
    }


def _manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs)


def _sandbox_process(args: list[str]) -> tuple[subprocess.Popen, dict[str, tuple[str, str]]]:
    """Start `python -m sandbox` with `args`; returns it and its (api_url, api_key) by API."""
    command = [sys.executable, "-m", "sandbox", "--port", "0", *args]
    process = subprocess.Popen(command, cwd=ROOT, env=_env("postgres"), stdout=subprocess.PIPE, text=True)
    lines: dict[str, tuple[str, str]] = {}
    while len(lines) < 2:
        line = process.stdout.readline()
        if not line:
            process.kill()
            raise RuntimeError("the sandbox stopped before printing its URLs")
        match = re.match(r"(ActiveCampaign|Brevo): api_url=(\S+) api_key=(\S+)", line.strip())
        if match:
            lines[match.group(1)] = (match.group(2), match.group(3))
    return process, lines


def start_sandbox(
    contacts: int, *, ac_rate: float, fast_brevo: bool = True, extra: tuple[str, ...] = ()
) -> Sandbox:
    ac_args = ["--contacts", str(contacts), "--profile", PROFILE, "--ac-rate", str(ac_rate), "--warm"]
    # The Brevo side holds no ActiveCampaign data; its own limits are off unless asked for (the
    # worker paces itself to the budget the benchmark gives the Brevo account).
    brevo_args = ["--contacts", "0", *(["--brevo-rates", "off"] if fast_brevo else [])]
    ac_process, ac_lines = _sandbox_process([*ac_args, *extra])
    try:
        brevo_process, brevo_lines = _sandbox_process([*brevo_args, *extra])
    except BaseException:
        ac_process.kill()
        raise
    return Sandbox(ac_process, brevo_process, *ac_lines["ActiveCampaign"], *brevo_lines["Brevo"])


def fresh_db(name: str) -> dict[str, str]:
    name = name.replace("tajo_bench", DB_PREFIX, 1)
    admin = _env("postgres")
    subprocess.run(
        ["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True, env=admin
    )
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True, env=admin)
    env = _env(name)
    _manage(env, "migrate", "--verbosity", "0")
    return env


SEED = """
import os
from connectors.models import ActiveCampaignAccount, BrevoAccount, Connection
from tenants.models import Tenant
e = os.environ
t, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
ac, _ = ActiveCampaignAccount.objects.update_or_create(
    tenant=t, name="ac",
    defaults={
        "api_url": e["AC_API_URL"], "api_key": e["AC_API_KEY"], "requests_per_second": float(e["AC_RATE"])
    },
)
br, _ = BrevoAccount.objects.update_or_create(
    tenant=t, name="brevo",
    defaults={"api_url": e["BREVO_API_URL"], "api_key": e["BREVO_API_KEY"], "budget": e["BREVO_BUDGET"]},
)
Connection.objects.get_or_create(
    tenant=t, name="activecampaign", defaults={"ac_account": ac, "brevo_account": br}
)
"""


def seed(env: dict[str, str], sandbox: Sandbox, rate: float, brevo_budget: str = "unpaced") -> None:
    import redis

    # Limiter windows from an earlier run of the same database ids must not carry over.
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    run_env = dict(
        env,
        AC_API_URL=sandbox.ac_url,
        AC_API_KEY=sandbox.ac_key,
        BREVO_API_URL=sandbox.brevo_url,
        BREVO_API_KEY=sandbox.brevo_key,
        AC_RATE=str(rate),
        BREVO_BUDGET=brevo_budget,
    )
    _manage(run_env, "shell", "-c", SEED, stdout=subprocess.DEVNULL)
    config = ROOT / "docs" / "examples" / "benchmark.yaml"
    _manage(
        run_env,
        "tajo_config",
        "import",
        str(config),
        "--tenant",
        "bench",
        "--create-missing",
        stdout=subprocess.DEVNULL,
    )


def timed_sync(env: dict[str, str], *args: str) -> tuple[float, int, str]:
    """Run a sync in a worker process; returns (seconds, peak RSS in KiB, output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "tajo_sync", "bench/activecampaign", "--inline", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode not in (0,):
        raise RuntimeError(f"sync failed: {result.stdout}\n{result.stderr}")
    # ru_maxrss of children is the max over all children so far: run the big ones last.
    return seconds, max(peak, before), result.stdout


def last_run_seconds(env: dict[str, str]) -> float:
    """The last run's own duration (started to finished), without the process start-up."""
    out = subprocess.run(
        [
            "psql",
            env["DATABASE_URL"],
            "-Atc",
            "SELECT EXTRACT(EPOCH FROM finished_at - started_at) FROM connectors_syncrun "
            "ORDER BY id DESC LIMIT 1",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return float(out)


def ac_requests(stats: dict) -> int:
    return sum(v["count"] for k, v in stats["requests"].items() if " /api/3/" in k)


def brevo_requests(stats: dict) -> dict[str, dict[str, int]]:
    """Brevo requests by rate-limit bucket, then by endpoint ("POST /v3/contacts/import": 12)."""
    from connectors.providers.brevo import bucket_for

    out: dict[str, dict[str, int]] = {}
    for key, counts in stats["requests"].items():
        method, _, path = key.partition(" ")
        if not path.startswith("/v3/"):
            continue
        bucket = bucket_for(method, path[len("/v3") :])
        out.setdefault(bucket, {})[key] = counts["count"]
    return out


def _minus(after: dict[str, dict[str, int]], before: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for bucket, endpoints in after.items():
        for key, n in endpoints.items():
            n -= before.get(bucket, {}).get(key, 0)
            if n:
                out.setdefault(bucket, {})[key] = n
    return out


def run_floor(ac: int, ac_rate: float, brevo: dict[str, dict[str, int]], brevo_budget: str) -> dict:
    """The least time these requests allow: the slower of the AC floor and every Brevo bucket's
    floor at `brevo_budget` (Brevo adds nothing when unpaced)."""
    _setup_django()
    from connectors.providers.brevo import ADVANCED_BUDGETS, GENERAL_BUDGETS
    from connectors.sync.cost import bucket_seconds

    budgets = {"general": GENERAL_BUDGETS, "advanced": ADVANCED_BUDGETS}.get(brevo_budget, {})
    buckets = {
        bucket: bucket_seconds(sum(endpoints.values()), *budgets.get(bucket, (None, None)))
        for bucket, endpoints in brevo.items()
    }
    ac_seconds = ac / ac_rate
    brevo_seconds = max(buckets.values(), default=0.0)
    return {
        "ac_s": ac_seconds,
        "brevo_s_by_bucket": buckets,
        "floor_s": max(ac_seconds, brevo_seconds),
        "bound_by": "ActiveCampaign" if ac_seconds >= brevo_seconds else "Brevo",
    }


def _setup_django() -> None:
    """The floor's arithmetic is the product's own: load it with the benchmark's settings."""
    import django
    from django.apps import apps

    if apps.ready:
        return
    for key, value in _env("postgres").items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tajo_site.settings")
    django.setup()


def change_every_contact(sandbox: Sandbox, n: int) -> None:
    """Give each of the `n` AC contacts a new first name, so the next full run updates them all."""
    from concurrent.futures import ThreadPoolExecutor

    def change(ids: range) -> None:
        with httpx.Client(base_url=sandbox.base, timeout=60) as control:
            for contact_id in ids:
                control.post(
                    f"/_sandbox/ac/contacts/{contact_id}", json={"firstName": f"Changed{contact_id}"}
                )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(change, [range(start, n + 1, 4) for start in range(1, 5)]))


def _measured_run(env: dict[str, str], sandbox: Sandbox, n: int, brevo_budget: str, *args: str) -> dict:
    """One `tajo_sync --inline` of the contacts at 5 AC requests/s, against its floor."""
    stats = sandbox.stats()
    before_ac, before_brevo = ac_requests(stats), brevo_requests(stats)
    seconds, _, _ = timed_sync(env, "--resources", "contacts", *args)
    run_seconds = last_run_seconds(env)
    stats = sandbox.stats()
    requests = ac_requests(stats) - before_ac
    brevo = _minus(brevo_requests(stats), before_brevo)
    floor = run_floor(requests, 5.0, brevo, brevo_budget)
    contacts_bucket = sum(brevo.get("contacts", {}).values())
    return {
        "contacts": n,
        "ac_requests": requests,
        "brevo_requests": brevo,
        "brevo_contacts_per_1000": contacts_bucket / n * 1000,
        "contacts_batch_calls": sum(
            v for k, v in brevo.get("contacts", {}).items() if k.endswith("/contacts/batch")
        ),
        **floor,
        "measured_s": seconds,
        "run_s": run_seconds,
        "efficiency": floor["floor_s"] / seconds,
        "efficiency_run": floor["floor_s"] / run_seconds,
        "per_1000": requests / n * 1000,
    }


def scenario_rate_limit(n: int, brevo_budget: str) -> dict:
    """AC at 5 requests/s: a backfill of `n` new contacts, then a full run after every one of them
    changed in AC (an update of `n` contacts Brevo holds). With `brevo_budget` "unpaced" only AC's
    limit binds; with "general" Brevo's contacts bucket (10 a second) is a second limit, and the
    floor is the slower of the two."""
    sandbox = start_sandbox(n, ac_rate=5.0)
    try:
        env = fresh_db("tajo_bench_rate")
        seed(env, sandbox, 5.0, brevo_budget)
        backfill = _measured_run(env, sandbox, n, brevo_budget)
        change_every_contact(sandbox, n)
        update = _measured_run(env, sandbox, n, brevo_budget, "--full")
        stats = sandbox.stats()
        throttled = sum(v.get("429", 0) for k, v in stats["requests"].items() if " /api/3/" in k)
    finally:
        sandbox.stop()
    return {"brevo_budget": brevo_budget, "backfill": backfill, "update": update, "ac_429": throttled}


def _children_cpu() -> float:
    """CPU seconds of the waited-for child processes so far (the sync; the sandboxes still run).

    Steadier than wall time on a shared machine: what the sync itself costs, whatever else runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def scenario_throughput(n: int) -> dict:
    sandbox = start_sandbox(n, ac_rate=0)
    try:
        env = fresh_db("tajo_bench_fast")
        seed(env, sandbox, 0)
        cpu_before = _children_cpu()
        seconds, _, out = timed_sync(env, "--resources", "contacts")
        worker_cpu = _children_cpu() - cpu_before
        run_seconds = last_run_seconds(env)
        records = int(re.search(r"(\d+) read", out).group(1))
        # Incremental after 1% changed.
        changed = max(1, n // 100)
        with httpx.Client(base_url=sandbox.base, timeout=60) as control:
            for contact_id in (
                range(1, n + 1, 100)[:changed] if changed <= n // 100 else range(1, changed + 1)
            ):
                control.post(f"/_sandbox/ac/contacts/{contact_id}/touch")
        before = ac_requests(sandbox.stats())
        inc_seconds, _, inc_out = timed_sync(env, "--incremental", "--resources", "contacts")
        inc_requests = ac_requests(sandbox.stats()) - before
        full_requests = before
    finally:
        sandbox.stop()
    return {
        "contacts": n,
        "seconds": seconds,
        "per_second": records / seconds,
        "run_s": run_seconds,
        "per_second_run": records / run_seconds,
        "worker_cpu_s": worker_cpu,
        "changed": changed,
        "incremental_s": inc_seconds,
        "incremental_requests": inc_requests,
        "full_requests": full_requests,
        "incremental_summary": inc_out.strip().splitlines()[-1] if inc_out.strip() else "",
    }


def scenario_memory(small: int, large: int) -> dict:
    peaks = {}
    for n in (small, large):
        sandbox = start_sandbox(n, ac_rate=0)
        try:
            env = fresh_db(f"tajo_bench_mem_{n}")
            seed(env, sandbox, 0)
            script = (
                "import resource, subprocess, sys; "
                "p = subprocess.run(sys.argv[1:]); "
                "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
            )
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    script,
                    sys.executable,
                    "manage.py",
                    "tajo_sync",
                    "bench/activecampaign",
                    "--inline",
                    "--resources",
                    "contacts",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            peaks[n] = int(re.search(r"PEAK (\d+)", out).group(1))
        finally:
            sandbox.stop()
    return {
        "small": small,
        "large": large,
        "rss_small_mib": peaks[small] / 1024,
        "rss_large_mib": peaks[large] / 1024,
        "ratio": peaks[large] / peaks[small],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (a smoke run, figures not comparable)"
    )
    parser.add_argument("--only", choices=["rate", "throughput", "memory"], action="append")
    parser.add_argument(
        "--budget",
        choices=["unpaced", "general"],
        action="append",
        help="Brevo budgets of the rate-limit scenario (default both)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    wanted = set(args.only or ["rate", "throughput", "memory"])
    results: dict[str, dict] = {}
    if "rate" in wanted:
        for budget, key in (("unpaced", "rate"), ("general", "rate_brevo_general")):
            if args.budget and budget not in args.budget:
                continue
            results[key] = scenario_rate_limit(10_000 // scale, budget)
            for run in ("backfill", "update"):
                r = results[key][run]
                print(
                    f"rate limit (Brevo {budget}), {run}: {r['contacts']} contacts, "
                    f"{r['ac_requests']} AC requests, floor {r['floor_s']:.1f}s ({r['bound_by']}), "
                    f"measured {r['measured_s']:.1f}s (run {r['run_s']:.1f}s), "
                    f"efficiency {r['efficiency']:.2f} (run {r['efficiency_run']:.2f}; target >= 0.90), "
                    f"{r['per_1000']:.0f} AC requests per 1,000 contacts, "
                    f"{r['brevo_contacts_per_1000']:.1f} Brevo contacts-bucket requests per 1,000 "
                    f"(target <= 15), /contacts/batch {r['contacts_batch_calls']}",
                    flush=True,
                )
            print(f"  AC 429s {results[key]['ac_429']}", flush=True)
    if "throughput" in wanted:
        results["throughput"] = scenario_throughput(50_000 // scale)
        r = results["throughput"]
        print(
            f"throughput: {r['contacts']} contacts in {r['seconds']:.1f}s = {r['per_second']:.0f}/s "
            f"(run alone {r['run_s']:.1f}s = {r['per_second_run']:.0f}/s; target >= 3,676/s; "
            f"sync process CPU {r['worker_cpu_s']:.1f}s); "
            f"incremental after {r['changed']} changed: "
            f"{r['incremental_requests']} AC requests in {r['incremental_s']:.1f}s "
            f"vs full backfill {r['full_requests']} requests in {r['seconds']:.1f}s",
            flush=True,
        )
    if "memory" in wanted:
        results["memory"] = scenario_memory(10_000 // scale, 100_000 // scale)
        r = results["memory"]
        print(
            f"memory: peak RSS {r['rss_small_mib']:.0f} MiB for {r['small']} contacts, "
            f"{r['rss_large_mib']:.0f} MiB for {r['large']}: ratio {r['ratio']:.2f} (target about 1.03)",
            flush=True,
        )
    if not args.no_write and not args.quick:
        write_report(results)


def write_report(results: dict[str, dict]) -> None:
    write_section(
        "sync",
        [
            f"### {heading('Raw figures of the latest run')}\n",
            "```json",
            json.dumps(results, indent=2),
            "```",
        ],
    )


if __name__ == "__main__":
    main()
