"""System checks: every registered sync resource is complete."""

from __future__ import annotations

from django.core import checks


@checks.register()
def sync_resources_complete(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from connectors.sync.registry import incomplete_resources

    return [checks.Error(problem, id="tajo.E001") for problem in incomplete_resources()]
