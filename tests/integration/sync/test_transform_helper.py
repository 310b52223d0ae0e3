"""Contacts mapped in a helper process (connectors/sync/transform_pool.py) end exactly as those
mapped in the worker: same outcomes, same bodies sent, same values named as not kept; and a
helper that dies mid-slice costs nothing but its head start."""

from __future__ import annotations

import logging

import pytest

from connectors.models import SyncRecord, SyncRun
from connectors.sync import transform_pool
from mappings.records import SourceContact
from mappings.transforms import FieldRule, compile_mapping, transform_contact
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.sandbox_helpers import connection_for_sandbox, demo_mapping, drive

pytestmark = pytest.mark.django_db(transaction=True)


def _mapping():
    # Without deal sources: a page's contacts are handed over only when the page holds all that
    # their transforms read (deals are staged apart and joined per unit).
    rules = [r for r in demo_mapping().fields if not r.source.startswith("deal.")]
    return demo_mapping(fields=[*rules, FieldRule(source="field", ac_field_id=4, attribute="CITY")])


def _records(processes: int, settings, monkeypatch) -> tuple[list[tuple], list[int]]:
    settings.TAJO_TRANSFORM_PROCESSES = processes
    monkeypatch.setattr(transform_pool, "MIN_CONTACTS", 0)
    helped: list[int] = []
    close = transform_pool.TransformPool.close

    def counting_close(self) -> None:
        helped.append(self.pages)
        close(self)

    with monkeypatch.context() as patch, transform_pool.kept_between_slices():
        patch.setattr(transform_pool.TransformPool, "close", counting_close)
        if processes:
            # Up before the run, as in a long run's later slices: a starting helper is not waited
            # for, so the few pages of this run would all be the worker's.
            warm = transform_pool.TransformPool(_mapping(), processes)
            warm._started.result(timeout=60)
            warm.close()
            helped.clear()
        records = _run_on_a_new_sandbox()
    return records, helped


def _run_on_a_new_sandbox() -> list[tuple]:
    # The same generated account each time: one sandbox per run, so Brevo starts empty.
    with SandboxServer(SandboxConfig.fast(contacts=450, seed=11)) as sandbox:
        connection = connection_for_sandbox(sandbox)
        run = drive(
            SyncRun.objects.create(
                tenant=connection.tenant,
                connection=connection,
                resources=["contacts"],
                mapping_snapshot=_mapping().model_dump(mode="json"),
            )
        )
    rows = SyncRecord.objects.filter(run=run).order_by("source_id")
    return [(r.source_id, r.outcome, r.error_code, r.message, r.key, r.sent, r.warnings) for r in rows]


def test_a_helper_changes_no_outcome(settings, monkeypatch, redis_conn) -> None:
    alone, none_helped = _records(0, settings, monkeypatch)
    helped, pages = _records(1, settings, monkeypatch)

    assert not none_helped  # with no helper allowed, none was started
    assert sum(pages) > 0, "the helper transformed no page"
    assert len(alone) == 450
    assert helped == alone


def test_a_starting_helper_is_not_waited_for_and_a_dead_one_is_given_up(caplog) -> None:
    mapping = _mapping()
    expected_of = compile_mapping(mapping)
    sources = [
        SourceContact(ac_id=i, email=f"person{i}@example.org", first_name="Ann", phone="+31612345678")
        for i in range(1, 4)
    ]
    pool = transform_pool.TransformPool(mapping, 1)
    try:
        # A new interpreter takes far longer to start than this: the page is the worker's.
        starting = pool.submit(sources)
        assert pool.results(starting) is None and starting.declined

        answered = pool.submit(sources)
        answered.future.result(timeout=60)
        assert pool.results(answered) == [transform_contact(s, expected_of) for s in sources]
        assert pool.pages == 1 and pool.fallbacks == 1

        for process in list(pool._executor._processes.values()):
            process.kill()
            process.join()
        with caplog.at_level(logging.WARNING, logger="connectors.sync.transform_pool"):
            late = pool.submit(sources)
            assert late is None or pool.results(late) is None
        assert not pool.working
        assert "transforms the rest of the slice itself" in caplog.text
        assert pool.submit(sources) is None
    finally:
        pool.close()


def test_a_helper_that_cannot_start_leaves_every_page_to_the_worker(monkeypatch, caplog) -> None:
    def no_processes(processes: int):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(transform_pool, "_executor", no_processes)
    with caplog.at_level(logging.WARNING, logger="connectors.sync.transform_pool"):
        pool = transform_pool.TransformPool(_mapping(), 1)
    assert not pool.working
    assert pool.submit([SourceContact(ac_id=1, email="a@example.org")]) is None
    assert "Resource temporarily unavailable" in caplog.text
    pool.close()
