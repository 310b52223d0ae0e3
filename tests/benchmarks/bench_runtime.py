"""Runtime benchmarks: slice length, recovery from killed workers, fairness across tenants.

    python -m tests.benchmarks.bench_runtime                 # every scenario (about 10 minutes)
    python -m tests.benchmarks.bench_runtime --only kills    # one of: slices, kills, fairness
    python -m tests.benchmarks.bench_runtime --quick         # smaller sizes, for a smoke run

Real processes throughout: `python -m sandbox` per simulated account, `manage.py
tajo_worker` as the one worker (killed with SIGKILL for the recovery figures), a fresh
PostgreSQL database and a Redis db of its own (`BENCH_REDIS_DB`, default 8; not shared with
anything running meanwhile). Settings are the defaults (30 s slices, 5 s heartbeat and
checkpoints, 30 s stale period, 5 s watchdog). Not a test: nothing here asserts; targets are
printed beside the figures, which go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.benchmarks.bench_sync import ROOT, Sandbox, _manage, fresh_db, start_sandbox
from tests.benchmarks.report import PATH, heading, write_section

# A database of its own (dropped and created again): name another with BENCH_DB.
DB = os.environ.get("BENCH_DB", "bench_runtime")
LOG = Path(os.environ.get("BENCH_WORKER_LOG", "/tmp/tajo-bench-worker.log"))

SEED = """
import os
from connectors.models import ActiveCampaignAccount, BrevoAccount, Connection
from tenants.models import Tenant
e = os.environ
t, _ = Tenant.objects.get_or_create(slug=e["SLUG"], defaults={"name": e["SLUG"]})
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


def seed_tenant(env: dict[str, str], sandbox: Sandbox, slug: str, *, rate: float, budget: str) -> None:
    run_env = dict(
        env,
        SLUG=slug,
        AC_API_URL=sandbox.ac_url,
        AC_API_KEY=sandbox.ac_key,
        BREVO_API_URL=sandbox.brevo_url,
        BREVO_API_KEY=sandbox.brevo_key,
        AC_RATE=str(rate),
        BREVO_BUDGET=budget,
    )
    _manage(run_env, "shell", "-c", SEED, stdout=subprocess.DEVNULL)
    config = ROOT / "docs" / "examples" / "benchmark.yaml"
    _manage(
        run_env,
        "tajo_config",
        "import",
        str(config),
        "--tenant",
        slug,
        "--create-missing",
        stdout=subprocess.DEVNULL,
    )


def fresh(env_name: str = DB) -> dict[str, str]:
    """A fresh database and a Redis db of its own (`BENCH_REDIS_DB`, default 8): run ids and
    queue names repeat across databases, so sharing a Redis db with another benchmark mixes
    their jobs."""
    import redis

    env = fresh_db(env_name)
    env["REDIS_URL"] = f"redis://127.0.0.1:6379/{int(os.environ.get('BENCH_REDIS_DB', '8'))}"
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    return env


def sql(env: dict[str, str], query: str) -> list[list[str]]:
    out = subprocess.run(
        ["psql", env["DATABASE_URL"], "-AtF", "\t", "-c", query], capture_output=True, text=True, check=True
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    log = LOG.open("a")
    return subprocess.Popen(
        [sys.executable, "manage.py", "tajo_worker", "--verbosity", "1"],
        cwd=ROOT,
        env={**env, "LOG_LEVEL": "INFO"},
        start_new_session=True,
        stdout=log,
        stderr=log,
    )


def descendants(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found] + [d for child in found for d in descendants(int(child))]


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """The worker and its work horse: RQ puts the horse in a process group of its own, so killing
    the worker's group alone would leave the slice running."""
    if process.poll() is None:
        horses = descendants(process.pid)
        os.killpg(process.pid, sig)
        for pid in horses:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
    process.wait(timeout=30)


def start_run(env: dict[str, str], slug: str) -> int:
    out = _manage(env, "tajo_sync", f"{slug}/activecampaign", capture_output=True, text=True).stdout
    match = re.search(r"#(\d+)", out) or re.search(r"run (\d+)", out, re.IGNORECASE)
    if not match:
        raise RuntimeError(f"tajo_sync printed no run id: {out}")
    return int(match.group(1))


def run_row(env: dict[str, str], run_id: int) -> dict:
    rows = sql(
        env,
        "SELECT status, progress_done, EXTRACT(EPOCH FROM heartbeat_at), EXTRACT(EPOCH FROM created_at), "
        "EXTRACT(EPOCH FROM started_at), EXTRACT(EPOCH FROM finished_at), ac_requests "
        f"FROM connectors_syncrun WHERE id = {int(run_id)}",
    )
    status, done, beat, created, started, finished, ac = rows[0]
    number = lambda v: float(v) if v else None  # noqa: E731
    return {
        "status": status,
        "done": int(done or 0),
        "heartbeat": number(beat),
        "created": number(created),
        "started": number(started),
        "finished": number(finished),
        "ac_requests": int(ac or 0),
    }


def wait_finished(
    env: dict[str, str], run_id: int, timeout: float, *, every: float = 0.5, watch: ParkWatch | None = None
) -> tuple[dict, float]:
    """Poll the run until it ends; returns its row and the longest gap between heartbeats seen."""
    deadline = time.monotonic() + timeout
    last_beat, last_change, gap = None, time.monotonic(), 0.0
    while time.monotonic() < deadline:
        row = run_row(env, run_id)
        if watch is not None:
            watch.sample()
        if row["heartbeat"] != last_beat:
            if last_beat is not None:
                gap = max(gap, time.monotonic() - last_change)
            last_beat, last_change = row["heartbeat"], time.monotonic()
        if row["status"] not in ("queued", "running"):
            return row, gap
        time.sleep(every)
    raise RuntimeError(f"run {run_id} did not finish in {timeout} s")


class ParkWatch:
    """The writes under way a run parks at each checkpoint (`connectors.sync.carry`), sampled while
    it runs: each parked set's size, and how many were byte for byte the set parked before them.
    A set lives one checkpoint (the next one replaces it), so sampling more often than every 5 s
    sees every set."""

    def __init__(self, env: dict[str, str], run_id: int) -> None:
        self.env, self.run_id = env, run_id
        self.sets: dict[int, tuple[int, str]] = {}  # token -> (bytes, digest), in the order seen

    def sample(self) -> None:
        rows = sql(
            self.env,
            "SELECT -contact_id, sum(length(value)), md5(string_agg(value, '' ORDER BY key)) "
            f"FROM connectors_stagedrow WHERE run_id = {int(self.run_id)} AND kind = 'w' AND contact_id < 0 "
            "GROUP BY contact_id",
        )
        for token, size, digest in rows:
            self.sets.setdefault(int(token), (int(size), digest))

    def summary(self) -> dict:
        ordered = [self.sets[token] for token in sorted(self.sets)]
        sizes = sorted(size for size, _ in ordered)
        unchanged = sum(1 for before, after in itertools.pairwise(ordered) if before[1] == after[1])
        return {
            "parked_sets": len(ordered),
            "parked_kb_p50": round(sizes[len(sizes) // 2] / 1024, 1) if sizes else None,
            "parked_kb_max": round(sizes[-1] / 1024, 1) if sizes else None,
            "parked_unchanged": unchanged,
        }


def slice_lengths(since: int) -> list[float]:
    text = LOG.read_text()[since:] if LOG.exists() else ""
    return [float(m) for m in re.findall(r"slice of ([\d.]+) s", text)]


def log_size() -> int:
    return LOG.stat().st_size if LOG.exists() else 0


def records_check(env: dict[str, str], run_id: int) -> dict:
    ((total, distinct),) = sql(
        env,
        f"SELECT count(*), count(DISTINCT source_id) FROM connectors_syncrecord WHERE run_id = {int(run_id)} "
        "AND resource = 'contacts'",
    )
    return {"records": int(total), "distinct": int(distinct)}


def ac_requests(sandbox: Sandbox) -> int:
    stats = sandbox.stats()
    return sum(v["count"] for k, v in stats["requests"].items() if " /api/3/" in k)


def _brevo_count(sandbox: Sandbox) -> int:
    import httpx

    body = httpx.get(
        f"{sandbox.brevo_url}/contacts",
        params={"limit": 1},
        headers={"api-key": sandbox.brevo_key},
        timeout=30,
    ).json()
    return int(body.get("count") or 0)


# ----------------------------------------------------------------------------- slices


def scenario_slices(contacts: int) -> dict:
    """A backfill at AC's 5 requests/s with Brevo's real budgets, 30 s slices: the longest slice
    and the longest silence of the run's heartbeat."""
    sandbox = start_sandbox(contacts, ac_rate=5.0, fast_brevo=False)
    worker = None
    try:
        env = fresh()
        seed_tenant(env, sandbox, "bench", rate=5.0, budget="general")
        mark = log_size()
        worker = start_worker(env)
        run_id = start_run(env, "bench")
        watch = ParkWatch(env, run_id)
        row, gap = wait_finished(env, run_id, timeout=1800, every=0.25, watch=watch)
        lengths = slice_lengths(mark)
        return {
            **watch.summary(),
            "contacts": contacts,
            "status": row["status"],
            "run_s": round(row["finished"] - row["started"], 1),
            "slices": len(lengths),
            "longest_slice_s": max(lengths) if lengths else None,
            "heartbeat_max_gap_s": round(gap, 1),
        }
    finally:
        if worker is not None:
            kill(worker, signal.SIGTERM)
        sandbox.stop()


# ----------------------------------------------------------------------------- kills


# Seconds a worker works between its start (or a resume, or a checkpoint) and its next kill.
KILL_AFTER = 3.0


def _backfill(contacts: int, *, kills: int) -> dict:
    """One backfill; with `kills`, its worker is SIGKILLed that many times, each restarted at once.

    A run commits its progress every 5 s (checkpoints) and, unkilled, reads this account in about
    20 s, so a kill that waits for each resumed slice's first checkpoint fits four kills into the
    run. The kills therefore alternate: the odd ones 3 s into a resumed slice, before its first
    checkpoint (the slice has committed nothing: everything it read since the last commit is read
    again), the even ones 3 s after a resumed slice committed progress (with its writes under way
    parked). Both land mid-interval, 3 s of reading after the last commit.
    """
    sandbox = start_sandbox(contacts, ac_rate=5.0)
    worker = None
    try:
        env = fresh()
        seed_tenant(env, sandbox, "bench", rate=5.0, budget="unpaced")
        before = ac_requests(sandbox)
        mark = log_size()
        worker = start_worker(env)
        run_id = start_run(env, "bench")
        watch = ParkWatch(env, run_id)
        latencies: list[float] = []
        progress_latencies: list[float | None] = []
        killed_at, done_at_kill = None, 0

        def poll() -> dict:
            """The run's row; notes when the last kill's run committed new progress."""
            row = run_row(env, run_id)
            watch.sample()
            moved = row["done"] > done_at_kill or not working(row)
            if killed_at is not None and progress_latencies[-1] is None and moved:
                progress_latencies[-1] = round(time.time() - killed_at, 1)
            return row

        def working(row: dict) -> bool:
            return row["status"] in ("queued", "running")

        def wait(seconds: float) -> dict:
            until = time.monotonic() + seconds
            row = poll()
            while working(row) and time.monotonic() < until:
                time.sleep(0.25)
                row = poll()
            return row

        row = poll()
        while working(row) and not row["heartbeat"]:  # the first slice has begun
            time.sleep(0.25)
            row = poll()
        for n in range(kills):
            if n % 2 == 1:
                # Let the resumed slice commit progress first.
                while working(row) and progress_latencies[-1] is None:
                    time.sleep(0.25)
                    row = poll()
            row = wait(KILL_AFTER)
            if not working(row):
                break
            killed_at, done_at_kill = time.time(), row["done"]
            progress_latencies.append(None)
            kill(worker)
            worker = start_worker(env)  # restarted at once
            while True:
                row = poll()
                if (row["heartbeat"] or 0) > killed_at + 0.5 or not working(row):
                    latencies.append(round(time.time() - killed_at, 1))
                    break
                if time.time() - killed_at > 600:
                    raise RuntimeError("the run did not resume within 10 minutes")
                time.sleep(0.25)
        deadline = time.monotonic() + 3600
        while working(row):
            if time.monotonic() > deadline:
                raise RuntimeError(f"run {run_id} did not finish in an hour")
            time.sleep(0.25)
            row = poll()
        check = records_check(env, run_id)
        total = int(
            sql(env, f"SELECT state->'contacts'->>'total' FROM connectors_syncrun WHERE id = {run_id}")[0][0]
        )
        return {
            **watch.summary(),
            "status": row["status"],
            "run_s": round(row["finished"] - row["created"], 1),
            "ac_requests": ac_requests(sandbox) - before,
            "brevo_contacts": _brevo_count(sandbox),
            "ac_contacts": total,
            "lost": max(0, total - check["distinct"]),
            "duplicated": check["records"] - check["distinct"],
            "resume_s": latencies,
            # None: the next kill came before the run committed progress (an odd kill's slice).
            "progress_s": progress_latencies,
            "longest_slice_s": max(slice_lengths(mark), default=None),
        }
    finally:
        if worker is not None:
            kill(worker, signal.SIGTERM)
        sandbox.stop()


def scenario_kills(contacts: int, kills: int) -> dict:
    """The same backfill twice on identical sandboxes: once untouched, once with `kills` SIGKILLs
    of its worker, each restarted at once."""
    clean = _backfill(contacts, kills=0)
    killed = _backfill(contacts, kills=kills)
    extra = killed["ac_requests"] - clean["ac_requests"]
    return {
        "contacts": contacts,
        "kills": len(killed["resume_s"]),
        "clean": clean,
        "killed": killed,
        "extra_ac_requests": extra,
        "reread_s_per_kill": round(extra / 5.0 / max(1, len(killed["resume_s"])), 1),
        "brevo_difference": killed["brevo_contacts"] - clean["brevo_contacts"],
    }


# ----------------------------------------------------------------------------- fairness

EVENTS = """
import json, os, time
from urllib.parse import urlencode
from connectors.models import Connection
from connectors.webhooks.services import webhook_receive
e = os.environ
connection = Connection.objects.get(tenant__slug=e["SLUG"], name="activecampaign")
ids = json.loads(e["IDS"])
for n, cid in enumerate(ids):
    body = urlencode([
        ("type", "update"), ("date_time", "2024-05-21T10:14:32-05:00"), ("initiated_from", "admin"),
        ("contact[id]", str(cid)), ("contact[fields][9]", f"{time.time_ns()}-{n}"),
    ])
    webhook_receive(connection=connection, body=body.encode())
    if float(e["PAUSE"]):
        time.sleep(float(e["PAUSE"]))
"""


def send_events(env: dict[str, str], slug: str, ids: list[int], *, pause: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", EVENTS],
        cwd=ROOT,
        env={**env, "SLUG": slug, "IDS": json.dumps(ids), "PAUSE": str(pause)},
        stdout=subprocess.DEVNULL,
    )


def event_delays(env: dict[str, str], slug: str) -> list[float]:
    rows = sql(
        env,
        "SELECT EXTRACT(EPOCH FROM e.processed_at - e.received_at) FROM connectors_webhookevent e "
        "JOIN tenants_tenant t ON t.id = e.tenant_id "
        f"WHERE t.slug = '{slug}' AND e.processed_at IS NOT NULL ORDER BY e.id",
    )
    return [float(r[0]) for r in rows]


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(values),
        "p50_s": round(ordered[len(ordered) // 2], 2),
        "p95_s": round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 2),
        "max_s": round(ordered[-1], 2),
    }


def scenario_fairness(a_contacts: int, a_events: int, b_events: int) -> dict:
    """Tenant A: a backfill and a burst of webhook events; tenant B: paced events and a small
    run meanwhile. One worker. B's delays against B alone."""
    big = start_sandbox(a_contacts, ac_rate=5.0)
    small = start_sandbox(300, ac_rate=5.0)
    worker = None
    try:
        env = fresh()
        seed_tenant(env, big, "tenant-a", rate=5.0, budget="unpaced")
        seed_tenant(env, small, "tenant-b", rate=5.0, budget="unpaced")
        worker = start_worker(env)
        # B alone first: what its own work costs.
        alone = start_run(env, "tenant-b")
        alone_row, _ = wait_finished(env, alone, timeout=600)
        alone_s = alone_row["finished"] - alone_row["created"]
        sender = send_events(env, "tenant-b", list(range(1, 6)), pause=0.5)
        sender.wait(timeout=120)
        time.sleep(5)
        alone_events = event_delays(env, "tenant-b")

        # Now A's backfill and burst, with B's events and run in the middle of them.
        backfill = start_run(env, "tenant-a")
        time.sleep(5)
        burst = send_events(env, "tenant-a", list(range(1, a_events + 1)), pause=0.0)
        time.sleep(3)
        paced = send_events(env, "tenant-b", list(range(10, 10 + b_events)), pause=1.0)
        time.sleep(2)
        during = start_run(env, "tenant-b")
        during_row, _ = wait_finished(env, during, timeout=1200)
        paced.wait(timeout=600)
        burst.wait(timeout=600)
        a_row, _ = wait_finished(env, backfill, timeout=3600)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            pending = sql(
                env, "SELECT count(*) FROM connectors_webhookevent WHERE status IN ('received', 'processing')"
            )
            if int(pending[0][0]) == 0:
                break
            time.sleep(1)
        b_delays = event_delays(env, "tenant-b")[len(alone_events) :]
        a_delays = event_delays(env, "tenant-a")
        during_s = during_row["finished"] - during_row["created"]
        return {
            "a_contacts": a_contacts,
            "a_events": a_events,
            "b_events": b_events,
            "b_run_alone_s": round(alone_s, 1),
            "b_run_during_s": round(during_s, 1),
            "b_run_wait_s": round(during_row["started"] - during_row["created"], 1),
            "b_run_delay_s": round(during_s - alone_s, 1),
            "b_events_alone": _stats(alone_events),
            "b_events_during": _stats(b_delays),
            "a_event_delays": _stats(a_delays),
            "a_backfill_s": round(a_row["finished"] - a_row["created"], 1),
            "a_backfill_status": a_row["status"],
        }
    finally:
        if worker is not None:
            kill(worker, signal.SIGTERM)
        big.stop()
        small.stop()


# ----------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--only", choices=["slices", "kills", "fairness"], action="append")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    only = set(args.only or ["slices", "kills", "fairness"])
    results: dict[str, dict] = {}
    if "slices" in only:
        results["slices"] = scenario_slices(1000 if args.quick else 20_000)
        print("slices:", json.dumps(results["slices"]), flush=True)
    if "kills" in only:
        results["kills"] = scenario_kills(2000 if args.quick else 10_000, 2 if args.quick else 5)
        print("kills:", json.dumps(results["kills"]), flush=True)
    if "fairness" in only:
        results["fairness"] = scenario_fairness(1000 if args.quick else 3000, 50 if args.quick else 300, 10)
        print("fairness:", json.dumps(results["fairness"]), flush=True)
    if not args.no_write:
        write_report(results)


def write_report(results: dict[str, dict]) -> None:
    lines = [
        f"## Runtime: {heading('python -m tests.benchmarks.bench_runtime')}",
        "",
        "The machine is shared with other work while these run (2 cores): figures are upper bounds.",
        "",
    ]
    if s := results.get("slices"):
        lines += [
            f"- **Slice length** ({s['contacts']:,}-contact backfill, AC 5 requests/s, Brevo's real budgets, "
            f"30 s slices): {s['slices']} slices, longest **{s['longest_slice_s']} s**; the run's heartbeat "
            f"never went silent longer than **{s['heartbeat_max_gap_s']} s** (target: slice ≤ a few s past "
            f"30 s, heartbeat ≤ 15 s; before: a 131 s first slice with no heartbeat). Run {s['run_s']} s, "
            f"{s['status']}. Writes under way parked at its checkpoints: {s['parked_sets']} sets, p50 "
            f"{s['parked_kb_p50']} KB, max {s['parked_kb_max']} KB stored, {s['parked_unchanged']} "
            "identical to the set before.",
        ]
    if k := results.get("kills"):
        c, x = k["clean"], k["killed"]
        progress = ", ".join("—" if v is None else f"{v} s" for v in x["progress_s"])
        lines += [
            f"- **Recovery** ({k['contacts']:,}-contact backfill at 5 requests/s, worker SIGKILLed "
            f"{k['kills']} times and restarted at once, each kill {KILL_AFTER:g} s of work after the last "
            f"commit: alternately before a resumed slice's first checkpoint and after it): resumed after "
            f"{', '.join(f'{v} s' for v in x['resume_s'])} (target ≤ 60 s; before: 13.5 minutes), "
            f"new progress committed after {progress} "
            f"(—: killed again first). AC requests "
            f"{x['ac_requests']:,} against {c['ac_requests']:,} unkilled: "
            f"**{k['extra_ac_requests']} extra**, "
            f"about {k['reread_s_per_kill']} s of reading per kill (target ≈ 5 s). Lost records "
            f"**{x['lost']}**, duplicated **{x['duplicated']}**; Brevo holds {x['brevo_contacts']:,} "
            f"contacts against {c['brevo_contacts']:,} after the unkilled run. Longest slice "
            f"{x['longest_slice_s']} s (unkilled: {c['longest_slice_s']} s). Run {x['run_s']} s against "
            f"{c['run_s']} s. Writes under way parked at the unkilled run's checkpoints: "
            f"{c['parked_sets']} sets, p50 {c['parked_kb_p50']} KB, max {c['parked_kb_max']} KB stored, "
            f"{c['parked_unchanged']} identical to the set before.",
        ]
    if f := results.get("fairness"):
        b, a = f["b_events_during"], f["a_event_delays"]
        lines += [
            f"- **Fairness** (one worker; tenant A: {f['a_contacts']:,}-contact backfill plus a burst of "
            f"{f['a_events']} webhook events; tenant B meanwhile: {f['b_events']} events one a second and a "
            f"300-contact run): B's events took p50 {b.get('p50_s')} s, max {b.get('max_s')} s from intake "
            f"to processed (alone: max {f['b_events_alone'].get('max_s')} s); B's run waited "
            f"{f['b_run_wait_s']} s for a worker and took {f['b_run_during_s']} s against "
            f"{f['b_run_alone_s']} s alone (**{f['b_run_delay_s']} s** more; target: a few s; before: "
            f"420.7 s for an event, 124.7 s for a run). A's own events, processed while its backfill ran: "
            f"p50 {a.get('p50_s')} s, max {a.get('max_s')} s (they queue behind A's 5 requests/s); A's "
            f"backfill {f['a_backfill_s']} s, {f['a_backfill_status']}.",
        ]
    # Scenarios not run this time keep their last figures.
    kept = {"slices": "- **Slice length**", "kills": "- **Recovery**", "fairness": "- **Fairness**"}
    text = PATH.read_text() if PATH.exists() else ""
    for name, prefix in kept.items():
        if name not in results:
            lines += [line for line in text.splitlines() if line.startswith(prefix)][:1]
    write_section("runtime", lines)


if __name__ == "__main__":
    main()
