"""Tajo's own HTTP API under /api/v1/ (django-ninja): tokens, schemas, errors, rate limits."""
