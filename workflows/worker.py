"""The RQ worker the portal runs (settings.RQ["WORKER_CLASS"]): it reconciles before it works."""

from django.conf import settings
from rq.worker import Worker

from .jobs import reconcile_at_start


class ReconcilingWorker(Worker):
    """Resumes operations a dead worker, a lost Redis or a crash before the enqueue left behind.

    It also runs RQ's maintenance (which restarts a scheduler that died, e.g. when Redis was
    restarted) every RQ_MAINTENANCE_SECONDS instead of every ten minutes: polls depend on it.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("maintenance_interval", settings.RQ_MAINTENANCE_SECONDS)
        super().__init__(*args, **kwargs)

    def work(self, *args, **kwargs) -> bool:
        reconcile_at_start()
        return super().work(*args, **kwargs)
