"""Clients of the vendors' APIs: the shared HTTP layer and one package per provider."""
