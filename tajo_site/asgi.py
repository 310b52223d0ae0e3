import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tajo_site.settings")
django_application = get_asgi_application()

from tajo_site.security import RequestSizeLimit  # noqa: E402  # needs the settings loaded above

application = RequestSizeLimit(django_application, limit=settings.TAJO_MAX_REQUEST_BYTES)
