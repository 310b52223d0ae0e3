"""YAML configuration files: the connector documentation's format, imported and exported.

```yaml
connectors:
  activecampaign: {enabled, name, api_url, api_key, plan, sync, list_mapping, field_mapping,
                   tag_mapping, stage_mapping, owner_mapping, automation_mapping,
                   event_mapping, score_mapping, custom_object_mapping, debug, log_level,
                   log_webhooks}
  brevo: {api_key, api_url}
```

Import runs in phases so that nothing is half-done:

1. parse every document (one connection each) with line numbers, interpolate `${ENV_VAR}`,
   check keys and types;
2. discover both accounts with the file's credentials (HTTP, outside any transaction);
3. resolve labels to ids against that discovery and check every mapping (the same checks as
   the admin); Brevo attributes and lists the file names but Brevo lacks are errors, or with
   `create_missing` are planned for creation;
4. create the planned Brevo attributes/lists;
5. write tenant, accounts, connection, catalog and mappings in one transaction.

Any error in phases 1-3 stops the import before anything is written, and every error names
the file, the line and the dotted key: `config.yaml:12: connectors.activecampaign.field_mapping.company: ...`.
A document with a wrong key is still resolved (never applied), so that its mapping errors come
in the same round. A mapping section that is present replaces that kind of mapping; an absent
one leaves it alone.

The connector documentation's blocks import as printed: `field_mapping` keys in its spelling
(`firstName`, `deals.value`, `fieldValues.<perstag|title|id>`, `score`, `rating`), a block
without credentials updates the existing connection, a file without `brevo:` takes the key
from the existing connection, `BREVO_API_KEY` or the tenant's only Brevo account, and a
top-level `field_mapping:` belongs to the file's one connection.

Modules, in the order an import runs through them: `parse` (YAML with line numbers, `${VAR}`),
`schema` (the file's keys and types), `resolve` (names to ids, the admin's checks), `apply`
(the import itself) and `export`; `keys` is the vocabulary they share.
"""

from tajo_config.apply import ImportReport, config_import
from tajo_config.export import config_export

__all__ = ["ImportReport", "config_export", "config_import"]
