"""The one place resources are registered. An unknown kind fails at once."""

from __future__ import annotations

import importlib

from connectors.exceptions import UnknownResource
from connectors.sync.base import Resource

# Order matters: a run syncs resources in this order (lists exist before contacts join them).
RESOURCE_MODULES = {
    "lists": "connectors.sync.lists",
    "contacts": "connectors.sync.contacts",
    "deals": "connectors.sync.deals",
    "automations": "connectors.sync.automations",
    "events": "connectors.sync.events",
    "ecommerce": "connectors.sync.ecommerce",
    "custom_objects": "connectors.sync.custom_objects",
}

_REGISTRY: dict[str, type[Resource]] = {}


def register(cls: type[Resource]) -> type[Resource]:
    if cls.name not in RESOURCE_MODULES:
        raise UnknownResource(f"resource {cls.name!r} is not listed in RESOURCE_MODULES")
    _REGISTRY[cls.name] = cls
    return cls


def _load(name: str) -> type[Resource]:
    if name not in RESOURCE_MODULES:
        known = ", ".join(RESOURCE_MODULES)
        raise UnknownResource(f"unknown resource {name!r}; known resources: {known}")
    if name not in _REGISTRY:
        importlib.import_module(RESOURCE_MODULES[name])
    if name not in _REGISTRY:
        raise UnknownResource(f"module {RESOURCE_MODULES[name]} does not register resource {name!r}")
    return _REGISTRY[name]


def get_resource(name: str) -> Resource:
    return _load(name)()


def resolve_resources(names: list[str] | tuple[str, ...]) -> list[str]:
    """Validate names and put them in run order; raises UnknownResource naming the bad one."""
    wanted = [str(n).strip() for n in names if str(n).strip()]
    for name in wanted:
        _load(name)
    return [name for name in RESOURCE_MODULES if name in wanted]


def incomplete_resources() -> list[str]:
    """Problems with registered resources, for the system check."""
    problems = []
    for name in RESOURCE_MODULES:
        try:
            cls = _load(name)
        except (UnknownResource, ImportError) as exc:
            problems.append(str(exc))
            continue
        for attr in ("label", "connection_flag"):
            if not getattr(cls, attr, None):
                problems.append(f"resource {name!r} has no {attr}")
        if getattr(cls.run_slice, "__isabstractmethod__", False):
            problems.append(f"resource {name!r} does not implement run_slice")
    return problems
