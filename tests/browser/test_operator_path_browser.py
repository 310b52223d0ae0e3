"""The whole operator path on the demo at 1,280 px, in headless Chromium, with a real worker:
sign in, test the connection, discover, preview, run a full backfill, watch it finish, open a
failed record, retry the failed records, read the history. A screenshot of each step is kept
(TAJO_SCREENSHOTS, else var/screenshots/operator-path: ignored by git)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from connectors.management.commands.tajo_demo import Command as DemoCommand
from connectors.models import ACTIVE_STATUSES, Connection, RunMode, RunStatus, SyncRun
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
SHOTS = Path(os.environ.get("TAJO_SCREENSHOTS") or ROOT / "var" / "screenshots") / "operator-path"


@pytest.fixture(scope="module")
def sandbox():
    # The demo's sandbox, smaller: the same generated account shape, fewer contacts.
    with SandboxServer(SandboxConfig(port=0, contacts=150, ac_rate=20.0)) as server:
        yield server


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("a worker process shares the test database only on PostgreSQL")
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + db["NAME"]))


@pytest.fixture
def worker(redis_conn, redis_url):
    """`manage.py tajo_worker` as the demo runs it, on the test database and Redis."""
    env = dict(
        os.environ,
        DATABASE_URL=_test_database_url(),
        REDIS_URL=redis_url,
        DEBUG="true",
        TAJO_ALLOW_PRIVATE_URLS="true",
        TAJO_DEMO_ENV="off",
        DJANGO_SETTINGS_MODULE="tajo_site.settings",
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    with (SHOTS / "worker.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "tajo_worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    yield process
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _messages(page) -> str:
    page.wait_for_selector("ul.messagelist")
    return page.inner_text("ul.messagelist")


def _wait_finished(run_id: int, timeout: float = 180) -> SyncRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = SyncRun.objects.get(pk=run_id)
        if run.status not in ACTIVE_STATUSES:
            return run
        time.sleep(0.5)
    raise AssertionError(f"run #{run_id} still {run.status} after {timeout:.0f} s (see {SHOTS}/worker.log)")


def test_operator_path_on_the_demo(browser, live_server, sandbox, worker) -> None:
    password = DemoCommand()._seed(sandbox)
    connection = Connection.objects.get(tenant__slug="demo", name="activecampaign")
    base = live_server.url
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    # 1. Sign in as the demo tenant's operator.
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#content")
    assert "Connections" in page.inner_text("#content")
    _shot(page, "01-signed-in")

    # 2. Test the connection from its own page.
    page.goto(f"{base}/admin/connectors/connection/{connection.pk}/change/")
    page.click("#tajo-test-button")
    checks = _messages(page)
    assert "✓ API connection" in checks and "✓ Brevo account reachable" in checks, checks
    _shot(page, "02-test-connection")

    # 3. Discover the catalog.
    page.click("button:has-text('Discover catalog')")
    assert "discover" in _messages(page).lower()
    assert "discovered" in page.inner_text("#tajo-catalog")
    _shot(page, "03-discover")

    # 4. Preview: a banner says it works while the page is computed.
    # (The old page stays on screen until the preview answers: note whether it showed the banner.)
    page.evaluate(
        "window.addEventListener('beforeunload', () => sessionStorage.setItem('tajo-busy-shown',"
        " document.getElementById('tajo-busy') ? 'yes' : 'no'))"
    )
    page.click("#tajo-preview-link")
    page.wait_for_selector("#tajo-preview-summary", timeout=60_000)
    assert page.evaluate("sessionStorage.getItem('tajo-busy-shown')") == "yes"
    assert "Nothing was written to Brevo" in page.inner_text("#tajo-preview-summary")
    _shot(page, "04-preview")

    # 5. Run a full backfill from the connection page; the message links to the run. The demo's
    # account writes cleanly now, so Brevo refuses this run's imports: its records really fail.
    sandbox.brevo.import_failure = "failed"
    page.goto(f"{base}/admin/connectors/connection/{connection.pk}/change/")
    page.click("#tajo-run-full-button")
    assert "queued" in _messages(page)
    run = SyncRun.objects.get(connection=connection, mode=RunMode.FULL)
    _shot(page, "05-run-started")
    page.click(f"ul.messagelist a[href$='/syncrun/{run.pk}/change/']")
    page.wait_for_selector("#run-summary")

    # 6. Watch it finish on the runs list and the run's page.
    run = _wait_finished(run.pk)
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), (run.status, run.error)
    page.goto(f"{base}/admin/connectors/syncrun/")
    assert run.get_status_display() in page.inner_text("#result_list")
    _shot(page, "06-runs-list")
    page.goto(f"{base}/admin/connectors/syncrun/{run.pk}/change/")
    summary = page.inner_text("#run-summary")
    assert "contacts" in summary.lower() and "failed" in summary.lower()
    _shot(page, "07-run-finished")

    # 7. Open a failed record from the failed count.
    assert run.totals().get("failed"), "Brevo refused the imports: those records failed"
    page.click("#run-summary td.tajo-failed a >> nth=0")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list td.field-outcome").first.inner_text() == "Failed"
    _shot(page, "08-failed-records")
    page.click("#result_list tbody tr >> nth=0 >> a")
    page.wait_for_selector(".field-message")
    assert page.inner_text(".field-outcome").strip().endswith("Failed")
    assert page.inner_text(".field-message").strip()
    _shot(page, "09-failed-record")

    # 8. Retry the failed records, with Brevo taking imports again.
    sandbox.brevo.import_failure = None
    page.goto(f"{base}/admin/connectors/syncrun/")
    page.check(f"input[name=_selected_action][value='{run.pk}']")
    page.select_option("select[name=action]", "retry_failed")
    page.click("button[name=index]")
    assert f"retries the failed records of run #{run.pk}" in _messages(page)
    retry = SyncRun.objects.get(retry_of=run)
    retry = _wait_finished(retry.pk)
    assert retry.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)
    assert retry.totals().get("read", 0) <= run.totals()["failed"], "a retry reads only the failed records"
    page.goto(f"{base}/admin/connectors/syncrun/{retry.pk}/change/")
    _shot(page, "10-retry-finished")

    # 9. Read the history: the connection's and its mappings'.
    page.goto(f"{base}/admin/connectors/connection/{connection.pk}/change/")
    page.click(".object-tools a.historylink")
    page.wait_for_selector("#change-history")
    history = page.inner_text("#change-history")
    assert "None" not in history and "tajo_config import" in history, history
    _shot(page, "11-connection-history")
    page.goto(f"{base}/admin/connectors/connection/{connection.pk}/change/")
    page.click("text=Mapping history")
    page.wait_for_selector("#mapping-history")
    assert page.locator("#mapping-history tbody tr").count() >= 1
    assert '"Main List"' in page.inner_text("#mapping-history"), "rows by name, not by id alone"
    _shot(page, "12-mapping-history")
    page.goto(f"{base}/admin/mappings/listmapping/")
    assert '"Main List"' in page.inner_text("#result_list")
    _shot(page, "13-list-mappings")
    assert worker.poll() is None, "the worker ran the whole path"
    page.close()
