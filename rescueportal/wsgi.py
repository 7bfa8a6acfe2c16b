import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rescueportal.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: refuse to serve on an audit trail that is not append-only.
from audit.checks import refuse_without_guard  # noqa: E402

refuse_without_guard()

# Nor in production on a missing or loopback SoftLayer endpoint (the simulator's place).
from monitoring.checks import refuse_bad_production  # noqa: E402

refuse_bad_production()
