"""The rules for starting a run live in sync_run_start: the admin, the command, the console script
and the API refuse the same runs with the same sentence, and nothing is created."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from connectors.cli import main
from connectors.exceptions import ConnectionDisabled, NothingToRetry, NothingToSync, RunNotActive
from connectors.models import Connection, RunStatus, SyncRun
from connectors.services import sync_run_cancel, sync_run_retry_failed, sync_run_start
from tests.factories import SyncRunFactory
from tests.integration.api.conftest import World, error_of, make_world

pytestmark = pytest.mark.django_db

SWITCHES = [
    "sync_lists",
    "sync_contacts",
    "sync_deals",
    "sync_automations",
    "sync_events",
    "sync_ecommerce",
    "sync_custom_objects",
]


def _disable(connection: Connection) -> tuple[type[Exception], str, str]:
    connection.enabled = False
    connection.save()
    return (
        ConnectionDisabled,
        "Connector 'activecampaign' is disabled; enable it first.",
        "connection_disabled",
    )


def _switch_everything_off(connection: Connection) -> tuple[type[Exception], str, str]:
    Connection.objects.filter(pk=connection.pk).update(**dict.fromkeys(SWITCHES, False))
    connection.refresh_from_db()
    return (
        NothingToSync,
        "The connection syncs no resource; name resources or switch some on.",
        "nothing_to_sync",
    )


def _admin() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456"))
    return client


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize("refuse", [_disable, _switch_everything_off], ids=["disabled", "nothing-on"])
def test_every_way_in_refuses_with_the_services_words(refuse) -> None:
    world: World = make_world()
    connection = world.connection
    error, sentence, code = refuse(connection)

    with pytest.raises(error, match=f"^{re.escape(sentence)}$"):
        sync_run_start(connection=connection)

    response = _admin().post(
        reverse("admin:connectors_connection_changelist"),
        {"action": "run_full", "_selected_action": [connection.pk]},
        follow=True,
    )
    assert _messages(response) == [f"{connection}: not started: {sentence}"]

    with pytest.raises(CommandError) as failed:
        call_command("tajo_sync", f"{connection.tenant.slug}/{connection.name}")
    assert str(failed.value) == f"{connection}: {sentence}"

    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["connectors", "sync", "activecampaign", "--tenant", connection.tenant.slug, "--no-wait"],
        out=out,
        err=err,
    )
    assert status != 0 and sentence in err.getvalue()

    api = world.operator.post("/connectors/activecampaign/sync", {})
    assert api.status_code == 422
    assert (error_of(api)["code"], error_of(api)["message"]) == (code, sentence)

    assert not SyncRun.objects.exists()


def test_retry_and_cancel_rules_are_the_services_too() -> None:
    world = make_world()
    finished = SyncRunFactory(tenant=world.tenant, connection=world.connection, status=RunStatus.SUCCEEDED)

    with pytest.raises(NothingToRetry, match=f"^Run {finished.pk} has no failed records to retry.$"):
        sync_run_retry_failed(run=finished)
    with pytest.raises(RunNotActive, match=rf"^Run {finished.pk} has already finished \(succeeded\)"):
        sync_run_cancel(run=finished)

    admin = _admin()
    changelist = reverse("admin:connectors_syncrun_changelist")
    retried = admin.post(
        changelist, {"action": "retry_failed", "_selected_action": [finished.pk]}, follow=True
    )
    assert _messages(retried) == [
        f"Run #{finished.pk}: retry not started: Run {finished.pk} has no failed records to retry."
    ]
    cancelled = admin.post(
        changelist, {"action": "cancel_runs", "_selected_action": [finished.pk]}, follow=True
    )
    assert _messages(cancelled) == [f"Run {finished.pk} has already finished (succeeded); nothing to cancel."]
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [finished.pk]


def test_a_schedule_passes_over_a_connection_with_nothing_switched_on(caplog) -> None:
    from connectors.services import sync_runs_start_due

    world = make_world()
    Connection.objects.filter(pk=world.connection.pk).update(
        incremental_every_minutes=5, **dict.fromkeys(SWITCHES, False)
    )
    assert sync_runs_start_due() == []
    assert not SyncRun.objects.exists()
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")], "nothing to report"
