"""Real-time ActiveCampaign webhooks: intake, parsing, storage, processing and registration."""
