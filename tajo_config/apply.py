"""Importing a configuration file: discovery, resolution, Brevo creations, then one transaction."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from connectors.exceptions import ApiError
from connectors.models import (
    BREVO_DEFAULT_API_URL,
    PLAN_RATES,
    ActiveCampaignAccount,
    BrevoAccount,
    Connection,
)
from connectors.services import account_upsert, connection_save
from connectors.validators import normalize_brevo_api_url
from mappings.catalog import BREVO, Entry
from mappings.exceptions import ConfigError, DiscoveryFailed
from mappings.models import (
    ScoreMapping,
)
from mappings.rows import REPLICATE_FOLDER, brevo_list_folder
from tajo_config.keys import AC_PATH, BREVO_PATH, SECTION_MODELS
from tajo_config.parse import _by_line, parse_documents
from tajo_config.resolve import Plan, _Resolver
from tajo_config.schema import Spec, read_spec
from tenants.models import Tenant


@dataclass
class ImportReport:
    """What an import did (or would do, for a dry run)."""

    connections: list[str] = field(default_factory=list)
    created_attributes: list[str] = field(default_factory=list)
    created_lists: list[str] = field(default_factory=list)
    rows_created: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        out = [f"{verb} {', '.join(self.connections)}"]
        if self.created_attributes:
            out.append(f"created Brevo attributes: {', '.join(self.created_attributes)}")
        if self.created_lists:
            out.append(f"created Brevo lists: {', '.join(self.created_lists)}")
        if not self.dry_run:
            out.append(
                f"mappings: {self.rows_created} added, {self.rows_updated} changed, "
                f"{self.rows_deleted} removed"
            )
        return out + self.notes


Discoverer = Callable[[Spec, "Connection | None"], Any]


def _discover_with_file_credentials(spec: Spec, existing: Connection | None) -> Any:
    """Discovery with the file's credentials, before anything is stored.

    An existing connection lends its accounts' ids and rate, so the discovery is paced within
    the same shared budgets as that account's syncs.
    """
    from connectors.clients import build_clients
    from mappings.services import discover

    rate = PLAN_RATES.get(spec.plan or "lite", 5.0)
    if existing is not None:  # a plan in the file keeps the account's own rate (plan_change)
        rate = existing.ac_account.requests_per_second
    ac_account = ActiveCampaignAccount(
        pk=existing.ac_account_id if existing else None,
        api_url=spec.api_url,
        api_key=spec.api_key,
        requests_per_second=rate,
    )
    brevo_account = BrevoAccount(
        pk=existing.brevo_account_id if existing else None,
        api_url=spec.brevo_api_url,
        api_key=spec.brevo_api_key,
    )
    connection = Connection(name=spec.name, ac_account=ac_account, brevo_account=brevo_account)
    ac, brevo = build_clients(connection)
    with ac, brevo:
        return discover(ac, brevo)


def config_import(
    *,
    text: str,
    filename: str,
    tenant_slug: str,
    create_tenant: bool = False,
    create_missing: bool = False,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
    discoverer: Discoverer | None = None,
    user: Any = None,
) -> ImportReport:
    """Import a YAML configuration for one tenant. Raises ConfigError listing every problem."""
    errors: list[str] = []
    # An unset `${VAR}` is one error among the others, not a reason to stop before them.
    documents = parse_documents(text, filename, env=env, env_errors=errors)
    tenant = Tenant.objects.filter(slug=tenant_slug).first()
    if tenant is None and not create_tenant:
        raise ConfigError(
            [f"{filename}: tenant '{tenant_slug}' does not exist (add --create-tenant to create it)"]
        )
    specs = [
        spec for doc in documents if (spec := read_spec(doc, errors, documents=len(documents))) is not None
    ]
    names: dict[str, Spec] = {}
    for spec in specs:
        if spec.name in names:
            errors.append(
                spec.doc.error((*AC_PATH, "name"), f"a second connection named '{spec.name}' in this file")
            )
        names[spec.name] = spec

    # Every document is resolved as far as it can be, so that the file's problems all come at once.
    env = os.environ if env is None else env
    discoverer = discoverer or _discover_with_file_credentials
    plans: list[Plan] = []
    for spec in specs:
        existing = (
            Connection.objects.filter(tenant=tenant, name=spec.name)
            .select_related("ac_account", "brevo_account")
            .first()
            if tenant is not None
            else None
        )
        if not _complete_credentials(spec, existing, tenant, env, errors) or spec.unusable_credentials:
            continue
        try:
            discovery = discoverer(spec, existing)
        except DiscoveryFailed as exc:
            side = BREVO_PATH if str(exc).startswith("Brevo") else AC_PATH
            errors.append(spec.doc.error((*side, "api_key"), f"discovery failed: {exc}"))
            continue
        except ApiError as exc:
            errors.append(spec.doc.error((*AC_PATH, "api_url"), f"discovery failed: {exc.operator_message}"))
            continue
        plan = Plan(
            spec=spec,
            index=discovery.index(),
            entries=list(discovery.entries),
            discovery_errors=dict(discovery.errors),
        )
        resolver = _Resolver(plan, errors, create_missing=create_missing)
        for section, value in spec.sections.items():
            getattr(resolver, section)(value)
        resolver.check()
        plans.append(plan)
    if errors:
        raise ConfigError(_by_line(errors))

    report = ImportReport(connections=[f"{tenant_slug}/{plan.spec.name}" for plan in plans], dry_run=dry_run)
    for plan in plans:
        report.created_attributes.extend(plan.new_attributes)
        report.created_lists.extend(plan.new_lists)
    if dry_run:
        return report

    for plan in plans:
        _create_in_brevo(plan)
    with transaction.atomic():
        if tenant is None:
            tenant = Tenant.objects.create(slug=tenant_slug, name=tenant_slug)
        connections = [
            _apply(plan, tenant, report, reason=f"tajo_config import {Path(filename).name}", user=user)
            for plan in plans
        ]
    for connection in connections:
        report.notes.extend(_tags_attribute(connection))
    return report


def _tags_attribute(connection: Connection) -> list[str]:
    """The connection's tags attribute made ready in Brevo (HTTP, so after the transaction).

    The import is stored by then, so a problem is a note of the report, not an error.
    """
    from mappings.services import tags_attribute_ensure

    if not connection.tags_attribute:
        return []
    try:
        done = tags_attribute_ensure(connection=connection)
    except (ApiError, ValueError) as exc:
        problem = exc.operator_message if isinstance(exc, ApiError) else str(exc)
        return [f"{connection}: tags attribute {connection.tags_attribute}: {problem}"]
    return [f"{connection}: {done}"] if done else []


def _complete_credentials(
    spec: Spec, existing: Connection | None, tenant: Tenant | None, env: Mapping[str, str], errors: list[str]
) -> bool:
    """Fill the credentials the file leaves out; False (with an error) when some cannot be found.

    ActiveCampaign: a block without `api_url`/`api_key` changes the settings of the existing
    connection of that name. Brevo, without a `brevo:` block: the existing connection's
    account, else `BREVO_API_KEY` (and `BREVO_API_URL`) from the environment, else the tenant's
    only Brevo account.
    """
    ok = True
    if not spec.api_url or not spec.api_key:
        if existing is not None and not spec.gives_ac:
            spec.api_url = existing.ac_account.api_url
            spec.api_key = existing.ac_account.api_key
        else:
            where = f"tenant '{tenant.slug}' has" if tenant is not None else "the tenant is new and has"
            for key in ("api_url", "api_key"):
                if not getattr(spec, key) and not spec.unusable_credentials:
                    errors.append(
                        spec.doc.error(
                            AC_PATH,
                            f"missing required key '{key}' ({where} no connection "
                            f"'{spec.name}' yet whose credentials this block could keep)"
                            if existing is None
                            else f"missing required key '{key}' (give both api_url and api_key, "
                            f"or neither to keep the connection's current ones)",
                        )
                    )
            ok = False
    if spec.gives_brevo:
        return ok
    if existing is not None:
        spec.brevo_api_key = existing.brevo_account.api_key
        spec.brevo_api_url = existing.brevo_account.api_url
        return ok
    if env.get("BREVO_API_KEY"):
        spec.brevo_api_key = env["BREVO_API_KEY"]
        spec.brevo_api_url = BREVO_DEFAULT_API_URL
        if env.get("BREVO_API_URL"):
            try:
                spec.brevo_api_url = normalize_brevo_api_url(
                    env["BREVO_API_URL"], allow_private=settings.TAJO_ALLOW_PRIVATE_URLS
                )
            except ValidationError as exc:
                errors.append(spec.doc.error(("connectors",), "BREVO_API_URL: " + " ".join(exc.messages)))
                return False
        return ok
    accounts = list(BrevoAccount.objects.filter(tenant=tenant)[:2]) if tenant is not None else []
    if len(accounts) == 1:
        spec.brevo_api_key = accounts[0].api_key
        spec.brevo_api_url = accounts[0].api_url
        return ok
    reason = (
        f"tenant '{tenant.slug}' has {len(accounts) or 'no'} Brevo accounts"
        if tenant is not None
        else "the tenant is new"
    )
    errors.append(
        spec.doc.error(
            ("connectors",),
            f"no Brevo key: add a 'brevo:' block with api_key under connectors, or set BREVO_API_KEY "
            f"({reason}, so none can be taken from it)",
        )
    )
    return False


def _create_in_brevo(plan: Plan) -> None:
    """Create the attributes and lists the file needs (HTTP; before the database transaction)."""
    if not plan.new_attributes and not plan.new_lists:
        return
    from connectors.providers.brevo.client import BrevoClient

    spec = plan.spec
    client = BrevoClient(
        api_url=spec.brevo_api_url, api_key=spec.brevo_api_key, allow_private=settings.TAJO_ALLOW_PRIVATE_URLS
    )
    errors = []
    with client:
        for name, (kind, options, path) in plan.new_attributes.items():
            try:
                client.create_attribute(
                    "normal",
                    name,
                    type=kind,
                    multi_category_options=options if kind == "multiple-choice" else None,
                )
            except ApiError as exc:
                errors.append(
                    spec.doc.error(path, f"Brevo refused to create attribute {name}: {exc.operator_message}")
                )
                continue
            entry = Entry(
                BREVO,
                "attribute",
                name,
                label=name,
                data_type=kind,
                extra={"category": "normal", **({"options": options} if options else {})},
            )
            plan.entries.append(entry)
            plan.index.add(entry)
        if plan.new_lists:
            folder_id = brevo_list_folder(plan.index)
            if folder_id is None:
                folder_id = client.create_folder(REPLICATE_FOLDER)
                entry = Entry(BREVO, "folder", str(folder_id), label=REPLICATE_FOLDER)
                plan.entries.append(entry)
                plan.index.add(entry)
            for name, rows in plan.new_lists.items():
                try:
                    list_id = client.create_list(name, folder_id)
                except ApiError as exc:
                    errors.append(
                        spec.doc.error(
                            plan.paths[id(rows[0])],
                            f"Brevo refused to create list '{name}': {exc.operator_message}",
                        )
                    )
                    continue
                for row in rows:
                    row.brevo_list_id = list_id
                entry = Entry(BREVO, "list", str(list_id), label=name, extra={"folder_id": folder_id})
                plan.entries.append(entry)
                plan.index.add(entry)
    if errors:
        raise ConfigError(_by_line(errors))


def _apply(plan: Plan, tenant: Tenant, report: ImportReport, *, reason: str, user: Any) -> Connection:
    from mappings.rows import mapping_rows_sync
    from mappings.services import Discovery, catalog_store, mapping_documented_defaults_apply

    spec = plan.spec
    connection = (
        Connection.objects.filter(tenant=tenant, name=spec.name)
        .select_related("ac_account", "brevo_account")
        .first()
    )
    # A file naming an account Tajo already has (same URL; for Brevo the same key too) reuses it.
    ac_account = (
        connection.ac_account
        if connection is not None
        else ActiveCampaignAccount.objects.filter(tenant=tenant, api_url=spec.api_url).first()
    )
    brevo_account = (
        connection.brevo_account
        if connection is not None
        else next(
            (
                account
                for account in BrevoAccount.objects.filter(tenant=tenant, api_url=spec.brevo_api_url)
                if account.api_key == spec.brevo_api_key
            ),
            None,
        )
    )
    values: dict[str, Any] = {
        "ac_account": account_upsert(
            model=ActiveCampaignAccount,
            tenant_id=tenant.pk,
            account=ac_account,
            name=urlsplit(spec.api_url).netloc or spec.api_url,
            api_url=spec.api_url,
            api_key=spec.api_key,
            plan=spec.plan,
            reason=reason,
        ),
        "brevo_account": account_upsert(
            model=BrevoAccount,
            tenant_id=tenant.pk,
            account=brevo_account,
            name="Brevo",
            api_url=spec.brevo_api_url,
            api_key=spec.brevo_api_key,
            reason=reason,
        ),
        **spec.values,
    }
    new = connection is None
    if connection is None:
        connection = Connection(tenant=tenant, name=spec.name)
    connection_save(connection=connection, values=values, user=user, reason=reason)
    catalog_store(
        connection=connection, discovery=Discovery(entries=plan.entries, errors=plan.discovery_errors)
    )
    replaced = [model for section in spec.sections for model in SECTION_MODELS[section]]
    if "score_mapping" not in spec.sections and plan.rows.get(ScoreMapping):
        # `score`/`rating` in field_mapping add to the score mappings; only score_mapping replaces them.
        replaced.append(ScoreMapping)
    for model in replaced:
        counts = mapping_rows_sync(
            model=model,
            connection=connection,
            wanted=plan.rows.get(model, []),
            reason=reason,
            user=user,
            delete_others=model is not ScoreMapping or "score_mapping" in spec.sections,
        )
        report.rows_created += counts.created
        report.rows_updated += counts.updated
        report.rows_deleted += counts.deleted
    if new and not {"field_mapping", "score_mapping"} & set(spec.sections):
        # Its first catalog, and the file maps no fields: the documentation's default mappings.
        mapped = mapping_documented_defaults_apply(connection=connection)
        report.rows_created += len(mapped)
        report.notes.extend(f"{connection}: default mapping {line}" for line in mapped)
    return connection
