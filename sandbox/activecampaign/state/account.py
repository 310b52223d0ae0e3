"""In-memory state of the simulated ActiveCampaign account: `ACState`.

Generated rows come from `AccountGenerator` on demand; anything changed
through the API or the control endpoints is copied into an overlay first
("materialised"), so a million untouched contacts cost a few arrays while a
changed contact behaves like any stored row. Every public method takes the
lock: the server thread and a test thread may both call in.

Mutations call the `on_change(event_type, payload)` callbacks with AC webhook
event names (``subscribe``, ``unsubscribe``, ``update``, ``contact_tag_added``,
``contact_tag_removed``, ``deal_add``, ``deal_update``, ``list_add``) so a
webhook sender can be attached later without touching the state.
"""

from __future__ import annotations

from sandbox.activecampaign.state.contacts import ContactWrites
from sandbox.activecampaign.state.deals import DealWrites
from sandbox.activecampaign.state.objects import ObjectWrites


class ACState(ContactWrites, DealWrites, ObjectWrites):
    """The simulated AC account: the tables and reads of `ACStore` with every group of writes."""
