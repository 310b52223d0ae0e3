"""Account -> provider client: the only bridge from the ORM to the HTTP clients.

Everything that calls ActiveCampaign or Brevo for a connection gets its client here, paced by
the account's shared (Redis) rate limiters and held to the deployment's URL rules; the
provider clients themselves know nothing of models or settings.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from connectors import queues
from connectors.debug_log import attach_run_log
from connectors.models import Connection, SyncRun
from connectors.providers.activecampaign.client import ActiveCampaignClient
from connectors.providers.brevo.client import ADVANCED_BUDGETS, GENERAL_BUDGETS, BrevoClient, brevo_limiters
from connectors.providers.http.ratelimit import get_following_limiter, get_limiter, limiter_key

# A Brevo account's `budget` setting -> the request budgets its clients are paced at.
BREVO_BUDGETS = {"general": GENERAL_BUDGETS, "advanced": ADVANCED_BUDGETS, "unpaced": {}}


def ac_client_for(connection: Connection, **overrides: Any) -> ActiveCampaignClient:
    """The ActiveCampaign client of a connection's AC account (`overrides`: client options, for tests)."""
    account = connection.ac_account
    key = limiter_key("activecampaign", account.api_url)
    redis_url = queues.redis_url()
    # Paced at the account's setting, lowered to what AC's RateLimit-Limit header grants.
    limiter = get_following_limiter(key, account.requests_per_second, redis_url=redis_url)
    event_limiter = get_limiter(f"{key}:events", account.event_tracking_rate, redis_url=redis_url)
    return ActiveCampaignClient(
        api_url=account.api_url,
        api_key=account.api_key,
        limiter=limiter,
        event_limiter=event_limiter,
        allow_private=settings.TAJO_ALLOW_PRIVATE_URLS,
        **overrides,
    )


def brevo_client_for(connection: Connection, **overrides: Any) -> BrevoClient:
    """The Brevo client of a connection's Brevo account, paced at the account's budget."""
    account = connection.brevo_account
    limiters = brevo_limiters(
        f"brevo-account-{account.pk}",
        api_url=account.api_url,
        redis_url=queues.redis_url(),
        budgets=overrides.pop("budgets", None) or BREVO_BUDGETS[account.budget],
    )
    return BrevoClient(
        api_url=account.api_url,
        api_key=account.api_key,
        limiters=limiters,
        allow_private=settings.TAJO_ALLOW_PRIVATE_URLS,
        **overrides,
    )


def build_clients(
    connection: Connection, *, run: SyncRun | None = None
) -> tuple[ActiveCampaignClient, BrevoClient]:
    """Both clients of a connection; for a run of a connection in debug mode, hooked into its log."""
    ac, brevo = ac_client_for(connection), brevo_client_for(connection)
    attach_run_log(run, connection, ac, brevo)
    return ac, brevo
