"""The RQ worker the portal runs (settings.RQ["WORKER_CLASS"]): it reconciles before it works."""

from rq.worker import Worker

from .jobs import reconcile_at_start


class ReconcilingWorker(Worker):
    """Resumes operations a dead worker, a lost Redis or a crash before the enqueue left behind."""

    def work(self, *args, **kwargs) -> bool:
        reconcile_at_start()
        return super().work(*args, **kwargs)
