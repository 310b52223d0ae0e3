"""ActiveCampaign API v3: client, schemas, pagination and error table."""

from connectors.providers.activecampaign.client import ActiveCampaignClient

__all__ = ["ActiveCampaignClient"]
