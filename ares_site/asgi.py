import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ares_site.settings")
application = get_asgi_application()

from training.services.web_versions import web_version_started  # noqa: E402  (Django is set up above)

web_version_started()  # workers compare their app version with the one this web serves (issue 27)
