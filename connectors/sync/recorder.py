"""Per-record outcomes and RecordState, buffered in memory and written in bulk."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from connectors.models import Outcome, RecordState, SyncRecord, SyncRun
from mappings.transforms import not_sent_outcome

logger = logging.getLogger(__name__)

SENT_MAX_BYTES = 2048
MESSAGE_MAX_CHARS = 1000
WARNINGS_MAX = 20  # per record: enough to name every mapped value a contact usually has
WARNINGS_COUNTER = "with_warnings"
IMPORTS_KEPT = 200  # run counters: records written with values Brevo does not hold
OUTCOMES = frozenset(Outcome.values)
STATE_COLUMNS = (
    "tenant_id",
    "connection_id",
    "resource",
    "source_id",
    "content_hash",
    "brevo_id",
    "source_modified_at",
    "updated_at",
)


def bounded_json(sent: Any) -> str | None:
    """What was sent as JSON text, cut to a size the per-record log can hold for millions of rows."""
    if sent is None:
        return None
    data = orjson.dumps(sent, option=orjson.OPT_NON_STR_KEYS, default=str)
    if len(data) > SENT_MAX_BYTES:
        data = orjson.dumps({"truncated": data[:SENT_MAX_BYTES].decode(errors="ignore"), "bytes": len(data)})
    return data.decode()


def _loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


class PendingRecord(NamedTuple):
    """One SyncRecord row waiting for `flush()` (column order of RECORD_COLUMNS)."""

    tenant_id: int
    run_id: int
    resource: str
    source_id: str
    key: str
    outcome: str
    error_code: str
    message: str
    sent: str | None  # JSON text
    trigger: str
    created_at: datetime
    warnings: str | None  # JSON text: [{field, reason}] of values Brevo does not hold


RECORD_COLUMNS = PendingRecord._fields


def bounded_warnings(warnings: Iterable[dict[str, str]] | None) -> list[dict[str, str]]:
    """Warnings as stored: {field, reason} strings, at most WARNINGS_MAX, duplicates dropped."""
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for warning in warnings or ():
        entry = (str(warning.get("field", ""))[:100], str(warning.get("reason", ""))[:300])
        if entry in seen:
            continue
        seen.add(entry)
        out.append({"field": entry[0], "reason": entry[1]})
        if len(out) >= WARNINGS_MAX:
            break
    return out


def warnings_text(warnings: Iterable[dict[str, str]]) -> str:
    return "; ".join(f"{w['field']}: {w['reason']}" for w in warnings)


def as_warnings(problems: str | Iterable[Any] | None) -> list[dict[str, str]]:
    """Values left out before sending, as warnings: FieldErrors, dicts, or "FIELD: reason; ..." text."""
    if not problems:
        return []
    if isinstance(problems, str):
        out = []
        for part in problems.split("; "):
            name, sep, reason = part.partition(": ")
            out.append({"field": name, "reason": reason} if sep else {"field": "", "reason": part})
        return out
    out = []
    for problem in problems:
        if isinstance(problem, dict):
            out.append({"field": str(problem.get("field", "")), "reason": str(problem.get("reason", ""))})
        else:
            name, reason = getattr(problem, "field", ""), getattr(problem, "reason", "")
            out.append({"field": str(name), "reason": str(reason)})
    return out


@dataclass
class StateUpdate:
    resource: str
    source_id: str
    content_hash: str
    brevo_id: str
    modified_at: datetime | None


class Recorder:
    """Collects outcomes of one slice; `flush()` writes them with two bulk statements.

    Counters always add up: every record counts once as read and once under its outcome.
    """

    def __init__(self, run: SyncRun, *, trigger: str) -> None:
        self.run = run
        self.trigger = trigger
        self._records: list[PendingRecord] = []
        self._states: dict[tuple[str, str], StateUpdate] = {}
        self.counters: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.records_in_slice = 0
        self._imports: dict[int, dict[str, Any]] = {}

    def record(
        self,
        resource: str,
        source_id: object,
        outcome: str,
        *,
        key: str | None = "",
        message: str = "",
        code: str = "",
        sent: Any = None,
        warnings: Iterable[dict[str, str]] | None = None,
    ) -> None:
        """Buffer one outcome. `warnings` name values Brevo does not hold although the record
        was written (created/updated/unchanged): counted under `with_warnings` as well."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        kept = bounded_warnings(warnings) if warnings else []
        self._records.append(
            PendingRecord(
                self.run.tenant_id,
                self.run.pk,
                resource,
                str(source_id)[:100],
                (key or "")[:320],
                str(outcome),
                code[:60],
                message[:MESSAGE_MAX_CHARS],
                bounded_json(sent),
                self.trigger,
                timezone.now(),
                orjson.dumps(kept).decode() if kept else None,
            )
        )
        counters = self.counters[resource]
        counters["read"] += 1
        counters[outcome] += 1
        if kept:
            counters[WARNINGS_COUNTER] += 1
        self.records_in_slice += 1

    def record_invalid(
        self, resource: str, invalid: list[tuple[Any, str]], *, prefix: str = "", key: str = ""
    ) -> None:
        """Rows ActiveCampaign sent that could not be read: each a failed record with the reason."""
        for raw, reason in invalid:
            row_id = raw.get("id", "?") if isinstance(raw, dict) else "?"
            self.record(
                resource, f"{prefix}{row_id}", Outcome.FAILED, key=key, message=reason, code="malformed"
            )

    def record_not_sent(self, resource: str, source_id: object, result: Any, *, key: str = "") -> str:
        """A transform result without payload: skipped or failed by its reason; returns the outcome."""
        outcome = not_sent_outcome(result.skip_code)
        self.record(
            resource,
            source_id,
            outcome,
            key=key,
            code=result.skip_code or "",
            message=result.skip_reason or "",
        )
        return outcome

    def record_written(
        self, resource: str, item: Any, written: Any, *, problems: Any = "", sent: Any = None
    ) -> bool:
        """Record what the contacts writer did with one contact; True if Brevo has it now.

        `problems`: values left out before sending. With those, or values Brevo did not keep
        (`written.warnings`, from the read-back), the contact is still created/updated/unchanged:
        *written with warnings*, each value named with its reason, never failed for them.
        """
        sent = item.body if sent is None else sent
        if written is None:
            self.record_lost(resource, item)
            return False
        if self.record_refused(resource, item, written, sent=sent):
            return False
        warnings = bounded_warnings([*as_warnings(problems), *getattr(written, "warnings", ())])
        message = written.message
        if warnings:
            note = f"not in Brevo: {warnings_text(warnings)}"
            message = f"{message}; {note}" if message else note
        self.record(
            resource,
            item.source_id,
            written.outcome,
            key=item.email,
            message=message,
            code="with_warnings" if warnings else "",
            sent=sent,
            warnings=warnings,
        )
        return True

    def record_lost(self, resource: str, item: Any) -> None:
        """A write the writer gave no outcome for: a bug, not a Brevo answer; said instead of lost."""
        logger.error("No write outcome for %s %s", resource, item.source_id)
        self.record(
            resource,
            item.source_id,
            Outcome.FAILED,
            key=item.email,
            code="internal",
            message="Tajo lost track of this write; the next run sends it again",
        )

    def record_refused(self, resource: str, item: Any, written: Any, *, sent: Any = None) -> bool:
        """Record a contact write Brevo refused (`written.outcome` failed); True if it was refused."""
        if written.outcome != Outcome.FAILED:
            return False
        self.record(
            resource,
            item.source_id,
            Outcome.FAILED,
            key=item.email,
            code=written.code,
            message=written.message,
            sent=item.body if sent is None else sent,
        )
        return True

    def remember(
        self,
        resource: str,
        source_id: object,
        *,
        content_hash: str,
        brevo_id: str = "",
        modified_at: datetime | None = None,
    ) -> None:
        """What was written for a record, so the next run can tell unchanged from changed."""
        key = (resource, str(source_id))
        self._states[key] = StateUpdate(resource, str(source_id), content_hash, brevo_id, modified_at)

    def pending(self) -> int:
        return len(self._records)

    def note_imports(self, processes: Iterable[dict[str, Any]]) -> None:
        """Brevo import processes of this run (id, status, CSV report links) for the run page."""
        for process in processes:
            self._imports[int(process["process_id"])] = dict(process)

    def _save_imports(self) -> None:
        with transaction.atomic():
            current = (
                SyncRun.objects.select_for_update()
                .filter(pk=self.run.pk)
                .values_list("brevo_imports", flat=True)
            )
            known = {int(p["process_id"]): p for p in (current.first() or [])}
            for pid, process in self._imports.items():
                known[pid] = {**known.get(pid, {}), **process}
            # The run page shows the latest imports; an account's history stays in Brevo.
            rows = sorted(known.values(), key=lambda p: int(p["process_id"]))[-IMPORTS_KEPT:]
            SyncRun.objects.filter(pk=self.run.pk).update(brevo_imports=rows)
        self._imports = {}

    def flush(self) -> None:
        """Write buffered rows. Call inside the transaction that also saves the run's position."""
        if self._records:
            if db_connection.vendor == "postgresql":
                copy_rows(SyncRecord._meta.db_table, RECORD_COLUMNS, self._records)
            else:
                SyncRecord.objects.bulk_create(
                    [
                        SyncRecord(**{**r._asdict(), "sent": _loads(r.sent), "warnings": _loads(r.warnings)})
                        for r in self._records
                    ],
                    batch_size=2000,
                )
            self._records = []
        if self._imports:
            self._save_imports()
        if self._states:
            now = timezone.now()
            rows = [
                (
                    self.run.tenant_id,
                    self.run.connection_id,
                    s.resource,
                    s.source_id,
                    s.content_hash,
                    s.brevo_id,
                    s.modified_at,
                    now,
                )
                for s in self._states.values()
            ]
            if db_connection.vendor == "postgresql":
                _upsert_states(rows)
            else:
                RecordState.objects.bulk_create(
                    [RecordState(**dict(zip(STATE_COLUMNS, row, strict=True))) for row in rows],
                    batch_size=2000,
                    update_conflicts=True,
                    unique_fields=["connection", "resource", "source_id"],
                    update_fields=["content_hash", "brevo_id", "source_modified_at", "updated_at"],
                )
            self._states = {}

    def merged_counters(self, existing: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        merged = {resource: dict(values) for resource, values in (existing or {}).items()}
        for resource, values in self.counters.items():
            target = merged.setdefault(resource, {})
            for outcome, count in values.items():
                target[outcome] = target.get(outcome, 0) + count
        self.counters.clear()
        return merged


def load_states(connection_id: int, resource: str, source_ids: list[str]) -> dict[str, RecordState]:
    """RecordState rows for one page of records, in one query."""
    if not source_ids:
        return {}
    if db_connection.vendor == "postgresql":
        # One array parameter instead of an `IN` of 500 placeholders, which cost about 10 ms a
        # page to build, bind and plan; one index probe per id.
        rows = RecordState.objects.raw(
            probe_each_key(
                "found.id, found.source_id, found.content_hash, found.brevo_id, found.source_modified_at",
                RecordState._meta.db_table,
                "connection_id = %s AND resource = %s AND source_id = wanted.key",
            ),
            [list(source_ids), connection_id, resource],
        )
    else:
        rows = RecordState.objects.filter(
            connection_id=connection_id, resource=resource, source_id__in=source_ids
        ).only("source_id", "content_hash", "brevo_id", "source_modified_at")
    return {row.source_id: row for row in rows}


def probe_each_key(columns: str, table: str, condition: str) -> str:
    """SQL reading `columns` of the `table` rows that match `condition` for each key of an array
    parameter (`wanted.key` in `condition`; the array is the first parameter), one index probe
    per key.

    For `column = ANY(%s)` PostgreSQL weighs 500 probes of an index against one pass over the
    table and takes the pass: 6-9 ms a page of 500 on a 50,000-row table, whether its statistics
    are fresh or (as in a table the running backfill fills) missing, and longer as the table
    grows, against about 1 ms for the probes. A LATERAL subquery that `OFFSET 0` keeps from being
    merged into a join runs once per key, so each key costs one probe whatever the table's size
    and statistics.
    """
    return (
        f"SELECT {columns} FROM unnest(%s::text[]) AS wanted (key) CROSS JOIN LATERAL "  # noqa: S608
        f"(SELECT * FROM {table} WHERE {condition} OFFSET 0) AS found"
    )


def copy_rows(table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """COPY rows into a PostgreSQL table: several times faster than a multi-row INSERT."""
    with (
        db_connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _upsert_states(rows: list[tuple]) -> None:
    """RecordState upsert on PostgreSQL: COPY into a scratch table, then one INSERT ... ON CONFLICT."""
    table = RecordState._meta.db_table
    names = ", ".join(STATE_COLUMNS)
    with transaction.atomic():
        with db_connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS tajo_state_in ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {names} FROM {table} WITH NO DATA"
            )
            cursor.execute("TRUNCATE tajo_state_in")
        copy_rows("tajo_state_in", STATE_COLUMNS, rows)
        with db_connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM tajo_state_in "  # noqa: S608
                "ON CONFLICT (connection_id, resource, source_id) DO UPDATE SET "
                "content_hash = EXCLUDED.content_hash, brevo_id = EXCLUDED.brevo_id, "
                "source_modified_at = EXCLUDED.source_modified_at, updated_at = EXCLUDED.updated_at"
            )
