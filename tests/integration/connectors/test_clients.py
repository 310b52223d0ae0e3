"""`connectors.clients`: a connection's accounts become provider clients paced at their settings."""

from __future__ import annotations

import pytest

from connectors.clients import ac_client_for, brevo_client_for, build_clients
from connectors.exceptions import UnsafeURL
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def test_ac_client_paces_at_the_accounts_rate(redis_conn) -> None:
    connection = ConnectionFactory(ac_account__requests_per_second=3.0)
    with ac_client_for(connection) as ac:
        assert ac.pace == 3.0
        assert ac.api_url == connection.ac_account.api_url


def test_brevo_client_takes_the_accounts_budget(redis_conn) -> None:
    unpaced = ConnectionFactory()
    with brevo_client_for(unpaced) as brevo:
        assert brevo.bucket_limiter("contacts") is None
    general = ConnectionFactory(brevo_account__budget="general")
    with brevo_client_for(general) as brevo:
        assert brevo.bucket_limiter("contacts") is not None
        assert brevo.bucket_limiter("other") is not None


def test_private_addresses_need_the_deployment_setting(settings, redis_conn) -> None:
    connection = ConnectionFactory(ac_account__api_url="http://127.0.0.1:9")
    settings.TAJO_ALLOW_PRIVATE_URLS = False
    with pytest.raises(UnsafeURL):
        ac_client_for(connection)
    settings.TAJO_ALLOW_PRIVATE_URLS = True
    ac, brevo = build_clients(connection)
    ac.close()
    brevo.close()
