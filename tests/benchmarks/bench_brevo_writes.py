"""Brevo requests per 1,000 contacts, by endpoint and budget bucket, read-back included.

    python -m tests.benchmarks.bench_brevo_writes            # 10,000 contacts (about a minute)
    python -m tests.benchmarks.bench_brevo_writes --quick    # 1,000, a smoke run

Two scenarios on the sandbox's Brevo (its 2026 contract, over loopback HTTP), written the way
the contacts resource writes a slice (a flush of imports every 2,000 contacts, read back a
flush later, the rest at the slice's end):

* backfill: 10,000 new contacts, 40 % of them on no mapped list, 60 % on one to three of
  three mapped lists, 2 % to blocklist;
* update: the same 10,000 again with changed attributes, 3 % leaving a list.

Brevo's rate limits are off so the run measures requests, not waiting; the floor at the
General tier's budgets is computed from the counts. Not a test: nothing here asserts; the
target (at most 15 contacts-bucket requests per 1,000, no /contacts/batch) is printed beside.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict

import httpx

from connectors.providers.brevo import GENERAL_BUDGETS, BrevoClient, bucket_for
from connectors.sync.brevo_contacts import IMPORT_FLUSH_ROWS, ContactWriter, PendingContact
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.benchmarks.report import heading, write_section

MAPPED_LISTS = (50, 51, 52)


def _contacts(n: int, *, seed: int, update: bool) -> list[PendingContact]:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        lists = [] if i % 5 < 2 else sorted(rng.sample(MAPPED_LISTS, rng.randint(1, 3)))
        body = {
            "email": f"bench{i}@example.org",
            "attributes": {
                "FIRSTNAME": f"First{i}{'-v2' if update else ''}",
                "LASTNAME": f"Last{i}",
                "SMS": f"+1555{i:07d}",
                "OPT_IN": bool(i % 2),
                "LANGUAGE": rng.choice(["en", "fr", "German"]),
            },
        }
        if lists:
            body["listIds"] = lists
        if not update and i % 50 == 0:
            body["emailBlacklisted"] = True
        if update and i % 33 == 0 and lists:
            body["unlinkListIds"] = [lists[0]]
            body["listIds"] = lists[1:]
            if not body["listIds"]:
                del body["listIds"]
        items.append(PendingContact(str(i), body["email"], body, known=update))
    return items


def _write(client: BrevoClient, home: int, items: list[PendingContact]) -> tuple[float, dict[str, int]]:
    """Write as one slice of the contacts resource would; returns (seconds, outcome counts)."""
    writer = ContactWriter(client, home_list=home)
    start = time.perf_counter()
    for offset in range(0, len(items), IMPORT_FLUSH_ROWS):
        writer.submit(items[offset : offset + IMPORT_FLUSH_ROWS])
        writer.settle(wait=False, min_age=1.0)
    writer.settle(wait=True)
    seconds = time.perf_counter() - start
    outcomes: dict[str, int] = defaultdict(int)
    for outcome in writer.outcomes.values():
        outcomes[outcome.outcome] += 1
        if outcome.warnings:
            outcomes["with_warnings"] += 1
    return seconds, dict(outcomes)


def _requests(server: SandboxServer) -> dict[str, int]:
    stats = httpx.get(f"{server.base_url}/_sandbox/stats", timeout=30).json()["requests"]
    return {k.replace("/v3", "", 1): v["count"] for k, v in stats.items() if " /v3/" in k}


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def _floor(by_bucket: dict[str, int]) -> float:
    seconds = 0.0
    for bucket, n in by_bucket.items():
        per_second, per_hour = GENERAL_BUDGETS[bucket]
        bucket_s = n / per_second if per_second else 0.0
        if per_hour:
            bucket_s = max(bucket_s, ((n - 1) // per_hour) * 3600)
        seconds = max(seconds, bucket_s)
    return seconds


def scenario(server: SandboxServer, client: BrevoClient, home: int, n: int, *, update: bool) -> dict:
    before = _requests(server)
    seconds, outcomes = _write(client, home, _contacts(n, seed=3, update=update))
    used = _delta(_requests(server), before)
    by_bucket: dict[str, int] = defaultdict(int)
    for key, count in used.items():
        method, path = key.split(" ", 1)
        by_bucket[bucket_for(method, path)] += count
    per_1000 = {k: round(v / n * 1000, 2) for k, v in sorted(used.items())}
    return {
        "contacts": n,
        "seconds": round(seconds, 1),
        "outcomes": outcomes,
        "requests_by_endpoint": dict(sorted(used.items())),
        "per_1000_by_endpoint": per_1000,
        "per_1000_by_bucket": {k: round(v / n * 1000, 2) for k, v in sorted(by_bucket.items())},
        "contacts_batch_calls": sum(v for k, v in used.items() if k.startswith("POST /contacts/batch")),
        "general_tier_floor_s": round(_floor(by_bucket), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 contacts (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    n = 1_000 if args.quick else 10_000
    results = {}
    with SandboxServer(SandboxConfig.fast(contacts=0)) as server:
        server.brevo.import_seconds = 0.2
        with BrevoClient(
            api_url=server.brevo_api_url, api_key=server.brevo_key, allow_private=True
        ) as client:
            home = client.create_list("Tajo: all synced contacts", 1)
            for key, update in (("backfill_new", False), ("update_existing", True)):
                results[key] = r = scenario(server, client, home, n, update=update)
                print(
                    f"{key}: {n} contacts in {r['seconds']}s, outcomes {r['outcomes']}; Brevo requests per "
                    f"1,000 by bucket {r['per_1000_by_bucket']} (target: contacts <= 15), "
                    f"/contacts/batch {r['contacts_batch_calls']} (target 0), floor at General budgets "
                    f"{r['general_tier_floor_s']}s",
                    flush=True,
                )
                print("  by endpoint per 1,000:", r["per_1000_by_endpoint"], flush=True)
    if not args.no_write and not args.quick:
        write_section(
            "brevo writes",
            [
                f"## {heading('Brevo writes: requests per 1,000 contacts')}\n",
                "Measured on a machine shared with other work: request counts are exact, seconds are not.",
                "",
                "```json",
                json.dumps(results, indent=2),
                "```",
            ],
        )


if __name__ == "__main__":
    main()
