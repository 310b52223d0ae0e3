"""Resolution: a spec's mapping sections turned into unsaved rows, names resolved to ids.

Uses the discovery of both accounts and the same checks as the admin, so a file is refused for
exactly what the admin would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mappings.catalog import AC, BREVO, CatalogIndex, Entry, choose_contact_score
from mappings.compat import (
    SCORE_SOURCE_TYPE,
    STANDARD_SOURCE_TYPES,
    brevo_type,
    default_transform,
    source_type,
)
from mappings.models import (
    AutomationMapping,
    CustomFieldMapping,
    CustomObjectFieldMapping,
    EventMapping,
    ListMapping,
    MappingRule,
    OwnerMapping,
    ScoreMapping,
    StageMapping,
    StandardFieldMapping,
    TagMapping,
)
from mappings.rows import REPLICATE_MAX, replication_items
from mappings.transforms import Transform
from mappings.validation import MappingChecker
from tajo_config.keys import (
    DOCUMENTED_KEYS,
    FIELD_VALUES_DISPLAY,
    FIELD_VALUES_PREFIX,
    PENDING_LIST,
    REPLICATE_KEY,
    REPLICATE_VALUES,
    SCORE_KEYS,
    SECTION_MODELS_ORDER,
    STANDARD_KEYS,
    standard_key,
)
from tajo_config.parse import Path_, _Index
from tajo_config.schema import (
    AttributeItem,
    AutomationTarget,
    Spec,
    StageTarget,
    TagTarget,
    _kind,
    read_item,
)


@dataclass
class Plan:
    """What importing one document will do."""

    spec: Spec
    index: CatalogIndex
    entries: list[Entry]
    discovery_errors: dict[str, str]
    rows: dict[type[MappingRule], list[MappingRule]] = field(default_factory=dict)
    # Brevo attributes to create: name -> (type, options, path)
    new_attributes: dict[str, tuple[str, list[str], Path_]] = field(default_factory=dict)
    # Brevo lists to create: name -> rows waiting for the new id (field brevo_list_id)
    new_lists: dict[str, list[MappingRule]] = field(default_factory=dict)
    paths: dict[int, Path_] = field(default_factory=dict)

    def add(self, row: MappingRule, path: Path_) -> None:
        self.rows.setdefault(type(row), []).append(row)
        self.paths[id(row)] = path

    def all_rows(self) -> list[MappingRule]:
        return [row for model in SECTION_MODELS_ORDER for row in self.rows.get(model, [])]


class _Resolver:
    """Turns one spec's mapping sections into unsaved rows, ids resolved against the index."""

    def __init__(self, plan: Plan, errors: list[str], *, create_missing: bool) -> None:
        self.plan = plan
        self.spec = plan.spec
        self.index = plan.index
        self.errors = errors
        self.create_missing = create_missing
        self.checker = MappingChecker(self.index)

    def fail(self, path: Path_, message: str) -> None:
        if not self.spec.doc.is_unresolved(path):  # its unread `${VAR}` is the error there
            self.errors.append(self.spec.doc.error(path, message))

    # ------------------------------------------------------------------ generic lookups

    def ac(
        self, kind: str, key: Any, path: Path_, *, keys: tuple[str, ...] = (), noun: str = ""
    ) -> Entry | None:
        noun = noun or kind.replace("_", " ")
        if isinstance(key, bool) or key is None or (not isinstance(key, int | str)):
            self.fail(path, f"expected an ActiveCampaign {noun} name or id, got {_kind(key)}")
            return None
        found = self.index.find(AC, kind, str(key), keys=keys)
        if isinstance(key, int):
            found = [entry for entry in found if entry.external_id == str(key)]
        if not found:
            failed = self.plan.discovery_errors.get(f"ac.{kind}")
            hint = f" (discovery could not read them: {failed})" if failed else ""
            self.fail(path, f"ActiveCampaign has no {noun} named or numbered '{key}'{hint}")
            return None
        if len(found) > 1:
            names = ", ".join(entry.describe() for entry in found[:5])
            self.fail(
                path, f"'{key}' matches {len(found)} ActiveCampaign {noun}s ({names}); use the id instead"
            )
            return None
        return found[0]

    def brevo_list(self, value: Any, path: Path_, row: MappingRule, *, create: bool = False) -> int | None:
        """A Brevo list given by id or name; a missing name may be created (the row waits for the id)."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | str)
            or (isinstance(value, str) and not value.strip())
        ):
            self.fail(path, f"expected a Brevo list id or name, got {_kind(value)}")
            return None
        text = str(value).strip()
        if isinstance(value, int) or text.isdigit():
            entry = self.index.get(BREVO, "list", text)
            if entry is None or not entry.present:
                self.fail(
                    path,
                    f"Brevo has no list {text} (a list given by name can be created with --create-missing)",
                )
                return None
            return int(text)
        found = [
            entry for entry in self.index.items(BREVO, "list") if entry.label.strip().lower() == text.lower()
        ]
        if len(found) > 1:
            self.fail(path, f"'{text}' matches {len(found)} Brevo lists; use the list id")
            return None
        if found:
            return int(found[0].external_id)
        if not (self.create_missing or create):
            self.fail(path, f"Brevo has no list named '{text}' (run with --create-missing to create it)")
            return None
        self.plan.new_lists.setdefault(text, []).append(row)
        return PENDING_LIST  # replaced by the new list's id once it exists

    def attribute_and_transform(
        self, value: Any, path: Path_, source: str
    ) -> list[tuple[str, Transform, Path_]]:
        """`ATTR`, `{attribute, transform}` or a list of those."""
        items = value if isinstance(value, list) else [value]
        result = []
        for position, item in enumerate(items):
            item_path = (*path, _Index(position)) if isinstance(value, list) else path
            if isinstance(item, str) and item.strip():
                attribute, transform = item.strip().upper(), None
            elif isinstance(item, dict):
                read_item(AttributeItem, item, item_path, self.spec.doc, self.errors)
                attribute = item.get("attribute")
                if not isinstance(attribute, str) or not attribute.strip():
                    if "attribute" in item:
                        self.fail(
                            (*item_path, "attribute"),
                            f"expected a Brevo attribute name, got {_kind(attribute)}",
                        )
                    continue
                attribute = attribute.strip().upper()
                transform = None
                if "transform" in item:
                    try:
                        transform = Transform(str(item["transform"]).strip().lower())
                    except ValueError:
                        known = ", ".join(t.value for t in Transform)
                        self.fail(
                            (*item_path, "transform"), f"'{item['transform']}' is not a transform ({known})"
                        )
                        continue
            else:
                self.fail(
                    item_path,
                    f"expected a Brevo attribute name or {{attribute, transform}}, got {_kind(item)}",
                )
                continue
            if transform is None:
                entry = self.index.get(BREVO, "attribute", attribute)
                existing = brevo_type(entry.data_type) if entry is not None and entry.present else None
                transform = default_transform(source, existing)
            result.append((attribute, transform, item_path))
        return result

    # ------------------------------------------------------------------ sections

    def field_mapping(self, section: dict) -> None:
        base = self.spec.path("field_mapping")
        for key, value in section.items():
            path = (*base, key)
            standard = standard_key(key)
            if standard is not None:
                for attribute, transform, item_path in self.attribute_and_transform(
                    value, path, STANDARD_SOURCE_TYPES[standard]
                ):
                    self.plan.add(
                        StandardFieldMapping(source=standard, attribute=attribute, transform=transform.value),
                        item_path,
                    )
                continue
            if isinstance(key, str) and key.strip().lower() in SCORE_KEYS:
                score = self.contact_score(key.strip().lower(), path)
                if score is not None:
                    self.add_score(score, value, path)
                continue
            entry = self.custom_field(key, path)
            if entry is None:
                continue
            for attribute, transform, item_path in self.attribute_and_transform(
                value, path, source_type(entry.data_type)
            ):
                self.plan.add(
                    CustomFieldMapping(
                        ac_field_id=int(entry.external_id), attribute=attribute, transform=transform.value
                    ),
                    item_path,
                )

    def contact_score(self, key: str, path: Path_) -> Entry | None:
        """`score` / `rating`: the account's contact score that key means (see choose_contact_score)."""
        scores = [
            entry
            for entry in self.index.items(AC, "score")
            if (entry.extra.get("reltype") or "contact") == "contact"
        ]
        chosen = choose_contact_score(key, scores)
        if chosen is None:
            failed = self.plan.discovery_errors.get("ac.score")
            names = ", ".join(f"'{e.label}'" for e in scores) or "none"
            wanted = "a contact score" if key == "score" else "a contact score named like 'Engagement'"
            hint = f" (discovery could not read scores: {failed})" if failed else ""
            self.fail(
                path,
                f"'{key}' needs {wanted} in ActiveCampaign; its contact scores: {names}{hint}. "
                f'Name one in score_mapping instead (score_mapping: {{"Lead score": ATTRIBUTE}})',
            )
        return chosen

    def custom_field(self, key: Any, path: Path_) -> Entry | None:
        prefixed = isinstance(key, str) and key.strip().lower().startswith(FIELD_VALUES_PREFIX)
        if prefixed:
            key = key.strip()[len(FIELD_VALUES_PREFIX) :].strip()
            if key.isdigit():
                key = int(key)
        elif isinstance(key, str) and key.lower().startswith("field:"):
            key = key.split(":", 1)[1].strip()
            if key.isdigit():
                key = int(key)
        if isinstance(key, str) and not key:
            self.fail(path, "expected a custom field after 'fieldValues.' (its perstag, title or id)")
            return None
        if isinstance(key, bool) or key is None or not isinstance(key, int | str):
            self.fail(path, f"expected an ActiveCampaign custom field name or id, got {_kind(key)}")
            return None
        found = self.index.find(AC, "field", str(key), keys=("perstag",))
        if isinstance(key, int):
            found = [entry for entry in found if entry.external_id == str(key)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(entry.describe() for entry in found[:5])
            self.fail(
                path,
                f"'{key}' matches {len(found)} ActiveCampaign custom fields ({names}); "
                f"use fieldValues.<id> instead",
            )
            return None
        failed = self.plan.discovery_errors.get("ac.field")
        hint = f" (discovery could not read them: {failed})" if failed else ""
        self.fail(path, f"'{key}' is not a field_mapping key ActiveCampaign knows{hint}; {self.suggest(key)}")
        return None

    def suggest(self, key: Any) -> str:
        """The accepted spelling closest to a key nobody recognised, and what is accepted."""
        import difflib

        candidates: dict[str, str] = {name.lower(): name for name in DOCUMENTED_KEYS}
        candidates.update({alias.lower(): alias for alias in STANDARD_KEYS if "_" in alias or "." in alias})
        for entry in self.index.items(AC, "field"):
            perstag = str(entry.extra.get("perstag") or "")
            for name in (perstag, entry.label):
                if name:
                    spelled = FIELD_VALUES_DISPLAY + name.lower().replace(" ", "_")
                    candidates.setdefault(name.lower(), spelled)
                    candidates.setdefault(spelled.lower(), spelled)
        text = str(key).strip().lower()
        match = difflib.get_close_matches(text, list(candidates), n=1, cutoff=0.6)
        accepted = (
            "accepted: email, firstName, lastName, phone, deals.value|stage|owner|pipeline|status|currency, "
            "score, rating, fieldValues.<perstag, title or id>"
        )
        if match:
            return f"did you mean '{candidates[match[0]]}'? ({accepted})"
        return accepted

    def replicate(self, kind: str, section: dict, path: Path_) -> dict:
        """`"*": same`: every AC list (or tag) onto the Brevo list of the same name, created if missing.

        Replicates the structure once, at import (an AC list added later needs another import).
        Items the section names explicitly keep their own mapping. Creating a Brevo list spends
        Brevo's hourly budget for "other" endpoints (about 100 an hour, reference §1.4), so a
        replication that would create more than REPLICATE_MAX lists is refused.
        """
        value = section[REPLICATE_KEY]
        if not (isinstance(value, str) and value.strip().lower() in REPLICATE_VALUES):
            self.fail(
                path,
                f"'*' takes {' or '.join(REPLICATE_VALUES)} (every AC {kind} onto the Brevo list "
                f"of the same name, created if missing), got {_kind(value)}",
            )
            return {}
        named = {str(key).strip().lower() for key in section if key != REPLICATE_KEY}
        items, missing = replication_items(
            self.index, kind, skip=lambda entry: entry.label.strip().lower() in named
        )
        if missing > REPLICATE_MAX:
            self.fail(
                path,
                f"replicating would create {missing} Brevo lists (at most {REPLICATE_MAX}: each costs a "
                f"request of Brevo's hourly budget); map the {kind}s you need by name instead",
            )
            return {}
        return items

    def list_mapping(self, section: dict) -> None:
        base = self.spec.path("list_mapping")
        if REPLICATE_KEY in section:
            for list_id, label in self.replicate("list", section, (*base, REPLICATE_KEY)).items():
                row = ListMapping(ac_list_id=list_id, brevo_list_id=PENDING_LIST)
                target = self.brevo_list(label, (*base, REPLICATE_KEY), row, create=True)
                if target is not None:
                    row.brevo_list_id = target
                    self.plan.add(row, (*base, REPLICATE_KEY))
            section = {k: v for k, v in section.items() if k != REPLICATE_KEY}
        for key, value in section.items():
            path = (*base, key)
            entry = self.ac("list", key, path)
            if entry is None:
                continue
            for position, target in enumerate(value if isinstance(value, list) else [value]):
                item_path = (*path, _Index(position)) if isinstance(value, list) else path
                row = ListMapping(ac_list_id=int(entry.external_id), brevo_list_id=PENDING_LIST)
                list_id = self.brevo_list(target, item_path, row)
                if list_id is not None:
                    row.brevo_list_id = list_id
                    self.plan.add(row, item_path)

    def tag_mapping(self, section: dict) -> None:
        base = self.spec.path("tag_mapping")
        if REPLICATE_KEY in section:
            # Tags are AC's segments: each becomes a Brevo list of its name, to segment on in Brevo.
            for tag_id, label in self.replicate("tag", section, (*base, REPLICATE_KEY)).items():
                row = TagMapping(ac_tag_id=tag_id, value="true")
                row.brevo_list_id = self.brevo_list(label, (*base, REPLICATE_KEY), row, create=True)
                if row.brevo_list_id is not None:
                    self.plan.add(row, (*base, REPLICATE_KEY))
            section = {k: v for k, v in section.items() if k != REPLICATE_KEY}
        for key, value in section.items():
            path = (*base, key)
            entry = self.ac("tag", key, path)
            if entry is None:
                continue
            for position, target in enumerate(value if isinstance(value, list) else [value]):
                item_path = (*path, _Index(position)) if isinstance(value, list) else path
                row = TagMapping(ac_tag_id=int(entry.external_id), value="true")
                if isinstance(target, dict):
                    data = read_item(TagTarget, target, item_path, self.spec.doc, self.errors)
                    if "list" in data and data["list"] is not None:
                        row.brevo_list_id = self.brevo_list(data["list"], (*item_path, "list"), row)
                        if row.brevo_list_id is None:
                            continue
                    if "attribute" in data:
                        if not isinstance(data["attribute"], str):
                            self.fail(
                                (*item_path, "attribute"),
                                f"expected an attribute name, got {_kind(data['attribute'])}",
                            )
                            continue
                        row.attribute = data["attribute"].strip().upper()
                    if "value" in data:
                        row.value = _scalar_text(data["value"])
                    if data.get("value_when_absent") is not None:
                        row.value_when_absent = _scalar_text(data["value_when_absent"])
                    row.unlink_when_absent = bool(data.get("unlink_when_absent"))
                else:
                    row.brevo_list_id = self.brevo_list(target, item_path, row)
                    if row.brevo_list_id is None:
                        continue
                self.plan.add(row, item_path)

    def stage_mapping(self, section: dict) -> None:
        base = self.spec.path("stage_mapping")
        for key, value in section.items():
            path = (*base, key)
            stage = self.ac_stage(key, path)
            if stage is None:
                continue
            if isinstance(value, str):
                pipeline_name, _, stage_name = value.rpartition("/")
                if not pipeline_name:
                    self.fail(path, "expected 'Brevo pipeline/Brevo stage' or {pipeline, stage}")
                    continue
                target = {"pipeline": pipeline_name, "stage": stage_name}
            else:
                target = read_item(StageTarget, value, path, self.spec.doc, self.errors)
                if "pipeline" not in target or "stage" not in target:
                    continue
            pipeline = self.brevo_named("pipeline", target["pipeline"], (*path, "pipeline"))
            if pipeline is None:
                continue
            candidates = self.index.children(BREVO, "stage", pipeline.external_id)
            wanted = str(target["stage"]).strip()
            found = [e for e in candidates if e.external_id == wanted] or [
                e for e in candidates if e.label.strip().lower() == wanted.lower()
            ]
            if len(found) != 1:
                where = f"in Brevo pipeline '{pipeline.label}'"
                problem = "no stage" if not found else f"{len(found)} stages"
                self.fail((*path, "stage"), f"{where} there is {problem} named '{wanted}'")
                continue
            self.plan.add(
                StageMapping(
                    ac_pipeline_id=int(stage.parent_id) if stage.parent_id.isdigit() else None,
                    ac_stage_id=int(stage.external_id),
                    brevo_pipeline_id=pipeline.external_id,
                    brevo_stage_id=found[0].external_id,
                ),
                path,
            )

    def ac_stage(self, key: Any, path: Path_) -> Entry | None:
        if isinstance(key, str) and "/" in key:
            pipeline_name, _, stage_name = key.rpartition("/")
            pipeline = self.ac("pipeline", pipeline_name, path)
            if pipeline is None:
                return None
            children = self.index.children(AC, "stage", pipeline.external_id)
            found = [e for e in children if e.external_id == stage_name.strip()] or [
                e for e in children if e.label.strip().lower() == stage_name.strip().lower()
            ]
            if len(found) != 1:
                problem = "no stage" if not found else f"{len(found)} stages"
                self.fail(
                    path, f"ActiveCampaign pipeline '{pipeline.label}' has {problem} named '{stage_name}'"
                )
                return None
            return found[0]
        return self.ac("stage", key, path)

    def brevo_named(self, kind: str, value: Any, path: Path_) -> Entry | None:
        text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not text:
            self.fail(path, f"expected a Brevo {kind} name or id, got {_kind(value)}")
            return None
        items = self.index.items(BREVO, kind)
        found = [e for e in items if e.external_id == text] or [
            e for e in items if e.label.strip().lower() == text.lower()
        ]
        if len(found) != 1:
            problem = f"no {kind}" if not found else f"{len(found)} {kind}s"
            self.fail(path, f"Brevo has {problem} named '{text}' (Tajo does not create pipelines)")
            return None
        return found[0]

    def owner_mapping(self, section: dict) -> None:
        base = self.spec.path("owner_mapping")
        for key, value in section.items():
            path = (*base, key)
            user = self.ac("user", key, path, keys=("email", "username"))
            if user is None:
                continue
            if not isinstance(value, str | int) or isinstance(value, bool):
                self.fail(path, f"expected the Brevo owner's email or user id, got {_kind(value)}")
                continue
            self.plan.add(
                OwnerMapping(ac_user_id=int(user.external_id), brevo_owner=str(value).strip()), path
            )

    def automation_mapping(self, section: dict) -> None:
        base = self.spec.path("automation_mapping")
        for key, value in section.items():
            path = (*base, key)
            automation = self.ac("automation", key, path)
            if automation is None:
                continue
            if isinstance(value, str):
                entered, completed = value.strip(), ""
            else:
                data = read_item(AutomationTarget, value, path, self.spec.doc, self.errors)
                if not isinstance(data.get("entered"), str):
                    continue
                entered = data["entered"].strip()
                completed = str(data.get("completed") or "").strip()
            self.plan.add(
                AutomationMapping(
                    ac_automation_id=int(automation.external_id),
                    brevo_event_entered=entered,
                    brevo_event_completed=completed,
                ),
                path,
            )

    def event_mapping(self, section: dict) -> None:
        base = self.spec.path("event_mapping")
        for key, value in section.items():
            path = (*base, key)
            if not isinstance(key, str):
                self.fail(path, f"expected an ActiveCampaign event name, got {_kind(key)}")
                continue
            if not isinstance(value, str):
                self.fail(path, f"expected a Brevo event name, got {_kind(value)}")
                continue
            self.plan.add(EventMapping(ac_event_name=key, brevo_event_name=value.strip()), path)

    def score_mapping(self, section: dict) -> None:
        base = self.spec.path("score_mapping")
        for key, value in section.items():
            path = (*base, key)
            score = self.ac("score", key, path)
            if score is not None:
                self.add_score(score, value, path)

    def add_score(self, score: Any, value: Any, path: tuple) -> None:
        """One score onto its attribute(s): the same whether it is named under `field_mapping`
        (`score: LEAD_SCORE`) or in its own `score_mapping` section."""
        for attribute, transform, item_path in self.attribute_and_transform(value, path, SCORE_SOURCE_TYPE):
            self.plan.add(
                ScoreMapping(
                    ac_score_id=int(score.external_id), attribute=attribute, transform=transform.value
                ),
                item_path,
            )

    def custom_object_mapping(self, section: dict) -> None:
        base = self.spec.path("custom_object_mapping")
        for key, value in section.items():
            path = (*base, key)
            if not isinstance(key, str) or "/" not in key:
                self.fail(path, "expected 'schema/field' (schema slug, name or id, then field id or name)")
                continue
            schema_name, _, field_name = key.partition("/")
            schema = self.ac("custom_object", schema_name, path, keys=("slug",), noun="custom object")
            if schema is None:
                continue
            children = self.index.children(AC, "custom_object_field", schema.external_id)
            wanted = field_name.strip()
            found = [e for e in children if e.external_id == wanted] or [
                e for e in children if e.label.strip().lower() == wanted.lower()
            ]
            if len(found) != 1:
                problem = "no field" if not found else f"{len(found)} fields"
                self.fail(path, f"custom object '{schema.label}' has {problem} named '{wanted}'")
                continue
            entry = found[0]
            for attribute, transform, item_path in self.attribute_and_transform(
                value, path, source_type(entry.data_type)
            ):
                self.plan.add(
                    CustomObjectFieldMapping(
                        ac_schema_id=schema.external_id,
                        ac_field_key=entry.external_id,
                        attribute=attribute,
                        transform=transform.value,
                    ),
                    item_path,
                )

    # ------------------------------------------------------------------ checks

    def check(self) -> None:
        """The admin's checks on every row; missing attributes become creations with create_missing."""
        rows = self.plan.all_rows()
        for row in rows:
            path = self.plan.paths[id(row)]
            for problem in self.checker.check_rule(row):
                if (
                    problem.code == "unknown_brevo_id"
                    and problem.field == "brevo_list_id"
                    and row.brevo_list_id == PENDING_LIST
                ):
                    continue  # a list that will be created
                if problem.code == "missing_attribute" and self.create_missing and problem.fix:
                    name = problem.fix["name"]
                    kind = problem.fix["type"]
                    planned = self.plan.new_attributes.get(name)
                    if planned is not None and planned[0] != kind:
                        self.fail(
                            path,
                            f"attribute {name} would be created as {kind} here but as {planned[0]} at "
                            f"line {self.spec.doc.line(planned[2])}",
                        )
                        continue
                    self.plan.new_attributes[name] = (kind, problem.fix.get("options", []), path)
                    continue
                if not problem.blocking:
                    continue
                message = problem.message
                if problem.code == "missing_attribute":
                    kind = f" as {problem.fix['type']}" if problem.fix else ""
                    message = f"{message.split(' (it can')[0]} (run with --create-missing to create it{kind})"
                self.fail(path, message)
        for rule, _first, problem in self.checker.duplicate_pairs(rows):
            self.fail(self.plan.paths[id(rule)], problem.message)
        # Created (and reported) in the order the file names them.
        line = self.spec.doc.line
        planned = sorted(self.plan.new_attributes.items(), key=lambda item: line(item[1][2]))
        self.plan.new_attributes = dict(planned)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)
