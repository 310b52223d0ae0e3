"""In-memory simulator of the parts of the Brevo API v3 that Tajo writes to.

It follows `reference/brevo-api-v3.md` (its §11 checklist) rather than what is convenient:
401 bodies, the four rate-limit buckets with `x-sib-ratelimit-*` headers, 201/204/400
semantics of contact writes, the all-or-nothing batch update, asynchronous imports that
move through `queued -> in_process -> completed`, list add/remove reports, events, CRM
deals, orders and the account.

By default it follows the contract as it is since the 2026 changes (reference §0);
`legacy=True` brings back the older behaviour for tests written against it:

* `POST /contacts/batch` (deprecated, effective 2026-10-30) answers as a removed endpoint:
  404 naming its replacement. Legacy: the batch update described below.
* Processes: `info.import` fields are URLs of CSV reports the sandbox serves itself
  (`/v3/processes/{id}/reports/{name}`) or null; no `error`, `created_at`, `completed_at`; a
  running import says `processing`. Legacy: counters, `in_process`, the dates.
  `import_failure="failed"` or `"cancelled"` makes imports end so without writing a row.
* Category attributes carry `{value, valueStr, label}` (`value` 0 for a non-numeric option);
  the seeded LANGUAGE attribute has non-numeric options. Contacts carry `whatsappBlacklisted`.
* `POST /orders/status/batch` answers `batch_id` (brevo-python 5.1.0); legacy `batchId`.

Choices where the reference leaves room (each is a constructor knob):

* `unknown_attributes="ignore"`: attributes that do not exist in the account are ignored on
  create/update/batch, as imports are documented to do; `"reject"` answers 400
  `invalid_parameter` instead. Values of the wrong type for a known attribute are always
  dropped silently with a 2xx (§10 quirk 5).
* `batch_unknown="all_or_nothing"`: `POST /contacts/batch` answers 404 "No contact found
  for indexes …" when any item is unknown and updates nothing (what integrators observe);
  `"partial"` gives the older documented 207 `{successIds, failureIds}`.
* `update_duplicate_code="duplicate_parameter"`: code of the 400 when PUT moves an email/SMS
  onto one already used (Brevo switched it to `invalid_parameter` in 2026).
* Imports: rows with an invalid email, or with no identifier at all, count as
  `invalid_emails`; a second row with the same email/EXT_ID/SMS in one body, or an
  identifier already held by a different contact, is counted in the matching
  `duplicate_*` counter and that value is not applied. Invalid phone values in an import
  are dropped from the row. Unknown attributes are ignored.
* Events for an identifier that matches no contact create the contact
  (`events_create_contacts=True`).
* Stored emails are lowercased; SMS/WHATSAPP/LANDLINE_NUMBER are stored as digits with the
  country code and no `+` (as in the OpenAPI examples).
* List/folder subscriber counters are always 0 (Brevo is zeroing them, §4).
* A raw `+` in a path identifier decodes to a space, as on Brevo (§10 quirk 3).

Thread-safety: every handler runs under one re-entrant lock, so tests may read the state
from another thread while uvicorn serves requests.

Layout: `state` holds the account's tables; `contacts`, `imports`, `attributes`, `lists`, `events`,
`crm` and `ecommerce` are its route groups; `app` combines them into `BrevoSimulator`; `limits` and
`values` are what they share.
"""

from sandbox.brevo.app import BrevoSimulator
from sandbox.brevo.limits import BUCKETS, BrevoLimits, bucket_for
from sandbox.brevo.values import normalise_phone, valid_email

__all__ = ["BUCKETS", "BrevoLimits", "BrevoSimulator", "bucket_for", "normalise_phone", "valid_email"]
