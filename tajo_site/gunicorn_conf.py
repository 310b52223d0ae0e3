"""gunicorn settings for production: `gunicorn -c python:tajo_site.gunicorn_conf tajo_site.asgi`.

Async (uvicorn) workers: a client that sends its request slowly holds a coroutine, not a
worker, so two slow uploads cannot starve `/healthz` and the admin as they do with gunicorn's
sync workers. Django reads the whole body before a view runs.

The access log goes through Python logging, where Tajo's masking (connectors.providers.http.masking) replaces
secrets in every line: intake URL secrets, tokens and secret-named query values.
"""

import os

bind = os.environ.get("TAJO_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "uvicorn.workers.UvicornWorker"
# A request whose headers have not arrived after this long is dropped (slowloris).
timeout = int(os.environ.get("TAJO_WORKER_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
logger_class = "tajo_site.gunicorn_logging.MaskingLogger"
