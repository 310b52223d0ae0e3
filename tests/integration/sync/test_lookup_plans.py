"""The per-unit lookups (record states by source id, identities by address) probe an index per
key, whatever PostgreSQL's statistics say: read as `= ANY(array)`, a 500-key lookup on a table
of a few thousand rows became a pass over the whole table, growing with it through a backfill
(connectors/sync/recorder.py `probe_each_key`)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from connectors.models import ContactIdentity, RecordState
from connectors.sync.contact_merge import known_members
from connectors.sync.recorder import load_states, probe_each_key
from tests.factories import ConnectionFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner"),
]

ROWS = 5000


def _plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def filled():
    conn = ConnectionFactory()
    now = timezone.now()
    RecordState.objects.bulk_create(
        RecordState(tenant=conn.tenant, connection=conn, resource="contacts", source_id=str(i))
        for i in range(ROWS)
    )
    ContactIdentity.objects.bulk_create(
        ContactIdentity(
            tenant=conn.tenant, connection=conn, source_id=str(i), email=f"p{i}@example.org", updated_at=now
        )
        for i in range(ROWS)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {RecordState._meta.db_table}, {ContactIdentity._meta.db_table}")
    return conn


def test_the_plain_array_lookup_would_scan_the_table(filled) -> None:
    # What the probes replace: the planner prefers one pass to 500 probes. Were this to change,
    # the probes would still be right, only no longer needed.
    ids = [str(i) for i in range(0, ROWS, 10)]
    plan = _plan(
        f"SELECT id FROM {RecordState._meta.db_table} "
        "WHERE connection_id = %s AND resource = %s AND source_id = ANY(%s)",
        [filled.pk, "contacts", ids],
    )
    assert f"Seq Scan on {RecordState._meta.db_table}" in plan


def test_states_and_identities_are_read_by_index_probes(filled) -> None:
    ids = [str(i) for i in range(0, ROWS, 10)]
    emails = [f"p{i}@example.org" for i in range(0, ROWS, 10)]
    for table, condition, keys in (
        (RecordState._meta.db_table, "connection_id = %s AND resource = %s AND source_id = wanted.key", ids),
        (ContactIdentity._meta.db_table, "connection_id = %s AND email = wanted.key", emails),
    ):
        extra = [filled.pk, "contacts"] if "resource" in condition else [filled.pk]
        plan = _plan(probe_each_key("found.id", table, condition), [keys, *extra])
        assert "Seq Scan" not in plan, plan
        assert "Index" in plan, plan


def test_the_probes_find_what_the_plain_lookups_found(filled) -> None:
    ids = [str(i) for i in range(0, ROWS, 10)] + ["missing"]
    states = load_states(filled.pk, "contacts", ids)
    assert sorted(states) == sorted(ids[:-1])
    members = known_members(filled.pk, ["p10@example.org", "nobody@example.org", "p20@example.org"])
    assert sorted(members) == ["p10@example.org", "p20@example.org"]
    assert [m.source_id for m in members["p10@example.org"]] == ["10"]
