"""The admin at 1,280 px: on Sync runs and Sync records the columns an operator reads first are on
screen without scrolling; the run page's tools do not cover its tables; no red cross for
"Dry run: No"; no "View site" into a 404; the connection page carries its own buttons."""

from __future__ import annotations

import pytest

from connectors.models import RunStatus
from tests.browser.conftest import login, shot
from tests.factories import ConnectionFactory, MembershipFactory, SyncRecordFactory, SyncRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1280
LONG_REASON = (
    "created, but these values were not sent: SMS: phone '+33 6 93 47 12 00 99' is not a valid number "
    "for its country code for attribute SMS"
)


def _overflow(page, columns: list[str]) -> dict:
    """Where the named columns' headers end, next to the visible part of the results box."""
    return page.evaluate(
        """(columns) => {
            const box = document.querySelector('.results');
            const right = Math.min(box.getBoundingClientRect().right, window.innerWidth);
            const ends = {};
            for (const name of columns) {
                const th = document.querySelector('#result_list thead th.column-' + name);
                ends[name] = th ? Math.round(th.getBoundingClientRect().right) : null;
            }
            return {right: Math.round(right), ends, scrolls: box.scrollWidth > box.clientWidth + 1,
                    page: document.documentElement.scrollWidth};
        }""",
        columns,
    )


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"] + 1
        or b["y"] + b["height"] <= a["y"] + 1
    )


def _assert_fits(layout: dict) -> None:
    missing = [name for name, end in layout["ends"].items() if end is None]
    assert not missing, f"columns not shown: {missing}"
    off = {name: end for name, end in layout["ends"].items() if end > layout["right"]}
    assert not off, f"off screen at {WIDTH} px: {off} (visible up to {layout['right']})"
    assert not layout["scrolls"], "the table scrolls sideways"
    assert layout["page"] <= WIDTH, "the page scrolls sideways"


def test_runs_and_records_fit_at_1280(browser, live_server) -> None:
    member = MembershipFactory(role="operator")
    connection = ConnectionFactory(tenant=member.tenant, name="activecampaign-production-eu")
    finished = SyncRunFactory(
        connection=connection,
        tenant=member.tenant,
        status=RunStatus.PARTIAL,
        resources=["contacts"],
        counters={
            "contacts": {"read": 12345, "created": 10000, "unchanged": 2000, "skipped": 300, "failed": 45}
        },
    )
    SyncRunFactory(
        connection=ConnectionFactory(tenant=member.tenant),
        tenant=member.tenant,
        status=RunStatus.RUNNING,
        dry_run=True,
        progress_done=300,
        progress_total=1000,
    )
    for n in range(3):
        SyncRecordFactory(
            run=finished,
            tenant=member.tenant,
            resource="contacts",
            source_id=str(1000 + n),
            key=f"someone.with.a.long.address{n}@shop.example.com",
            outcome="skipped",
            error_code="unmapped_automation",
            message="AC automation 1 (Welcome series) is not mapped to a Brevo event",
        )
        SyncRecordFactory(
            run=finished,
            tenant=member.tenant,
            resource="contacts",
            source_id=str(2000 + n),
            key=f"failing.contact{n}@example.net",
            outcome="failed",
            error_code="field_rejected",
            message=LONG_REASON,
        )
    page = browser.new_page(viewport={"width": WIDTH, "height": 800})
    login(page, live_server, member.user.username)

    page.goto(f"{live_server.url}/admin/connectors/syncrun/")
    shot(page, "layout-runs-1280")
    _assert_fits(_overflow(page, ["run_number", "status_badge", "duration", "totals_line"]))
    assert page.locator("#result_list img[alt='False']").count() == 0, "no red cross for 'not a dry run'"
    assert "dry run" in page.inner_text("#result_list")
    assert page.locator("#result_list progress").count() == 1, "the running run shows its progress"
    shot(page, "layout-runs-1280")

    page.goto(f"{live_server.url}/admin/connectors/syncrecord/?run={finished.pk}")
    _assert_fits(_overflow(page, ["run_number", "resource", "record_ref", "outcome", "short_message"]))
    outcomes = page.locator("#result_list td.field-outcome").all_inner_texts()
    assert outcomes[:3] == ["Failed"] * 3, f"failures first in a run's records: {outcomes}"
    shot(page, "layout-records-1280")

    page.goto(f"{live_server.url}/admin/connectors/syncrun/{finished.pk}/change/")
    assert page.locator("#user-tools a", has_text="View site").count() == 0
    readonly = page.inner_text(".field-dry_run_text")
    assert "No" in readonly and page.locator(".field-dry_run_text img").count() == 0
    tools = page.locator(".object-tools").bounding_box()
    for table in ("#run-summary", "#failure-groups"):
        assert not _overlap(tools, page.locator(table).bounding_box()), f"the HISTORY button covers {table}"

    page.goto(f"{live_server.url}/admin/connectors/connection/{connection.pk}/change/")
    for button in ("#tajo-test-button", "#tajo-run-full-button", "#tajo-run-incremental-button"):
        assert page.locator(button).is_visible(), button
    tools = page.locator(".object-tools").bounding_box()
    title = page.locator("#content h2").first.bounding_box()
    assert not _overlap(tools, title), "the tools cover the connection's name"
    page.close()


def test_viewer_gets_no_test_or_run_buttons(browser, live_server) -> None:
    # A test records its verdict on the connection (what `status.connected` says): viewers read.
    member = MembershipFactory(role="viewer")
    connection = ConnectionFactory(tenant=member.tenant)
    page = browser.new_page(viewport={"width": WIDTH, "height": 800})
    login(page, live_server, member.user.username)
    page.goto(f"{live_server.url}/admin/connectors/connection/{connection.pk}/change/")
    assert page.locator("#tajo-test-button").count() == 0
    assert page.locator("#tajo-run-full-button").count() == 0
    assert page.locator("#content h1, #content h2").first.is_visible()
    page.close()
