"""The simulated ActiveCampaign account: `account.ACState` over `store.ACStore`, whose writes are
grouped by object (`contacts`, `deals`, `objects`)."""

from sandbox.activecampaign.errors import ACError, not_found
from sandbox.activecampaign.state.account import ACState

__all__ = ["ACError", "ACState", "not_found"]
