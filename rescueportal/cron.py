"""Periodic jobs, read by `python manage.py rqcron rescueportal.cron` (RQ's cron scheduler)."""

from django.conf import settings
from rq import cron

from devices.jobs import sync_devices_job

cron.register(sync_devices_job, queue_name="default", interval=settings.DEVICE_SYNC_INTERVAL_SECONDS)

from workflows.jobs import check_sessions, reconcile  # noqa: E402

cron.register(reconcile, queue_name="default", interval=60)
cron.register(check_sessions, queue_name="poll", interval=settings.RESCUE_SESSION_CHECK_SECONDS)

from audit.jobs import write_digest_job  # noqa: E402

cron.register(write_digest_job, queue_name="default", interval=settings.AUDIT_DIGEST_INTERVAL_SECONDS)

from notifications.jobs import sweep as sweep_notifications  # noqa: E402

cron.register(sweep_notifications, queue_name="notify", interval=60)

from api.jobs import forget_old_keys  # noqa: E402

cron.register(forget_old_keys, queue_name="default", interval=3600)
