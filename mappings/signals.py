"""Signal receivers of the mappings app (connected in MappingsConfig.ready)."""

from __future__ import annotations

from typing import Any

from connectors.models import Connection


def seed_default_mappings(
    sender: type[Connection], instance: Connection, created: bool, **kwargs: Any
) -> None:
    """A new connection starts with the connector documentation's default field mappings."""
    if not created or kwargs.get("raw"):
        return  # fixtures load rows as they are
    from mappings.services import mapping_defaults_apply

    mapping_defaults_apply(connection=instance)
