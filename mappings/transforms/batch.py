"""Contacts transformed a page at a time, for a helper process (connectors/sync/transform_pool.py).

The helper has no Django and no database: it gets the mapping and the pages' source contacts
and returns what `transform_contact` returns for each, in order. The compiled mapping (its
closures cannot cross a process boundary) is built here from the pickled `MappingSet` once per
mapping and kept while the same mapping keeps coming.
"""

from __future__ import annotations

import pickle

from mappings.records import SourceContact
from mappings.transforms.compiled import CompiledMapping, compile_mapping
from mappings.transforms.contacts import transform_contact
from mappings.transforms.results import ContactResult

_compiled: dict[str, CompiledMapping] = {}


def transform_page(key: str, mapping: bytes, sources: list[SourceContact]) -> list[ContactResult]:
    """`transform_contact` of each source under the mapping `mapping` (a pickled `MappingSet`,
    from the worker that started this helper) whose fingerprint is `key`."""
    compiled = _compiled.get(key)
    if compiled is None:
        _compiled.clear()  # a helper serves one slice of one run: one mapping at a time
        compiled = _compiled[key] = compile_mapping(pickle.loads(mapping))  # noqa: S301 (our own worker's bytes)
    return [transform_contact(source, compiled) for source in sources]


def started() -> bool:
    """Answers as soon as a helper is up: until then the worker does not wait for it."""
    return True
