"""`Sandbox`: everything one running sandbox holds (both simulators, request stats, faults, the
webhook sender). The server builds its routes over one; the control routes read and change it."""

from __future__ import annotations

from sandbox.activecampaign.api import ACApi
from sandbox.activecampaign.state import ACState
from sandbox.activecampaign.webhooks import WebhookSender
from sandbox.brevo import BrevoSimulator
from sandbox.config import SandboxConfig
from sandbox.faults import FaultPlan
from sandbox.stats import RequestStats


class Sandbox:
    """Everything one running sandbox holds."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.ac = ACState(
            seed=config.seed, contacts=config.contacts, profile=config.profile, tz_offset=config.tz_offset
        )
        self.ac.clock.filter_zone = config.ac_filter_zone
        self.ac_api = ACApi(self.ac)
        self.brevo = BrevoSimulator(
            api_key=config.brevo_key,
            limits=config.brevo_limits,
            seed_default=config.brevo_seed_default,
            legacy=config.brevo_legacy,
        )
        self.stats = RequestStats(config.request_log_size)
        self.faults: FaultPlan | None = None  # set by build_app
        self.webhooks = WebhookSender(self.ac, seed=config.seed)  # posts AC webhooks on changes
