"""The one HTTP layer every provider client is built on.

`factory` builds the clients, `guard` decides which addresses they may reach, `errors` holds
the errors and the table that sorts replies into them, `retry` sends with pacing and bounded
retries, `masking` keeps secrets out of every message, `ratelimit` shares budgets via Redis.
"""
