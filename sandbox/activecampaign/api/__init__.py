"""HTTP face of the simulated ActiveCampaign API v3 (mounted at ``/api/3``).

Follows `reference/activecampaign-api-v3.md`: ``Api-Token`` auth (403
``{"message":"Forbidden"}``), a per-account token bucket with ``RateLimit-*``
headers and 429 + ``Retry-After``, ``limit`` (default 20, clamped to 100; 100
on ``/fields``) and ``offset`` paging, ``meta.total`` typed per endpoint,
numeric strings, sideloads, and the error body variants of section 1.4.

``meta.total`` counts what the query selects, id bounds (``id_greater``,
``id_less``) included. Date filters: ``*_after`` is inclusive, ``*_before``
exclusive; ``YYYY-MM-DD`` and ISO datetimes are read in account time unless
they carry an offset.

Layout: `app.ACApi` combines the route groups (`contacts`, `catalog`, `deals`, `tracking`,
`ecommerce`, `objects`, `webhooks`, `imports`) over `base.APIBase`; `gate` checks the token and
the rate, `listing` and `links` shape the answers.
"""

from sandbox.activecampaign.api.app import ACApi
from sandbox.activecampaign.api.responses import JSONBody

__all__ = ["ACApi", "JSONBody"]
