"""The ActiveCampaign simulator: `generator` (the seeded account's data), `state` (the account in
memory), `api` (the `/api/3` routes over it) and `webhooks` (deliveries to subscribed URLs)."""
