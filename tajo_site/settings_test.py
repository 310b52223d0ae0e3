"""Settings for the test suite: production settings with test-only secrets filled in."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA=")
os.environ.setdefault("TAJO_ALLOW_PRIVATE_URLS", "true")
# Inherited by every worker, sandbox and demo process a test starts.
os.environ.setdefault("TAJO_LOOPBACK_ONLY", "true")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
# A demo running from the same checkout must not lend the tests its database or flags.
os.environ.setdefault("TAJO_DEMO_ENV", "off")

from tajo_site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
