"""The one HTTP layer every provider client is built on.

Client factory, address guard, masking and rate limiting.
"""
