"""ActiveCampaign API v3: client, schemas, pagination and error table."""

from connectors.activecampaign.client import ActiveCampaignClient

__all__ = ["ActiveCampaignClient"]
