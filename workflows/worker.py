"""The RQ worker the portal runs (settings.RQ["WORKER_CLASS"]): it reconciles before it works, and
it outlives a Redis outage."""

import os
import time

import redis
from django.conf import settings
from rq.worker import Worker, WorkerStatus

from .jobs import reconcile_at_start

REDIS_LOST = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class ReconcilingWorker(Worker):
    """Resumes operations a dead worker, a lost Redis or a crash before the enqueue left behind.

    RQ waits out a Redis outage only while it is idle; lost while a job runs, it quits ("found an
    unhandled exception"). This worker waits for its job's process to end and for Redis to answer,
    reconciles (the outage may have taken the job's next step or the poll schedule), and goes on.

    It also runs RQ's maintenance (which restarts a scheduler that died, e.g. when Redis was
    restarted) every RQ_MAINTENANCE_SECONDS instead of every ten minutes: polls depend on it.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("maintenance_interval", settings.RQ_MAINTENANCE_SECONDS)
        super().__init__(*args, **kwargs)

    def work(self, *args, **kwargs) -> bool:
        reconcile_at_start()
        return super().work(*args, **kwargs)

    def execute_job(self, job, queue) -> None:
        try:
            super().execute_job(job, queue)
        except REDIS_LOST as lost:
            self.log.error("Worker %s: Redis was lost while job %s ran (%s); waiting for it to come back",
                           self.name, job.id, lost)
            self._ride_out_outage(job)

    def check_for_suspension(self, burst: bool) -> None:
        """The loop's first Redis call after a job: an outage here is waited out too."""
        try:
            super().check_for_suspension(burst)
        except REDIS_LOST as lost:
            self.log.error("Worker %s: Redis was lost between jobs (%s); waiting for it to come back", self.name, lost)
            self._ride_out_outage(None)

    def _ride_out_outage(self, job) -> None:
        self._state = WorkerStatus.IDLE  # a stop asked for meanwhile stops at once (nothing runs here)
        self._let_the_horse_finish(job)
        self._wait_for_redis()
        if self._stop_requested:
            return
        if not self.connection.exists(self.key):  # Redis came back empty: be listed again
            self.register_birth()
        self.log.info("Worker %s: Redis is back; reconciling what the outage may have dropped", self.name)
        reconcile_at_start()

    def _let_the_horse_finish(self, job) -> None:
        """The job's own process ends by itself (its Redis calls fail fast); past the job's timeout it is killed."""
        pid = getattr(self, "_horse_pid", 0)
        if not pid:
            return
        limit = (job.timeout if job is not None and job.timeout and job.timeout > 0 else 600) + 60
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            time.sleep(0.2)
        else:
            self.kill_horse()
            self.wait_for_horse()
        self._horse_pid = 0

    def _wait_for_redis(self) -> None:
        pause = 0.5
        while not self._stop_requested:
            try:
                self.connection.ping()
                return
            except REDIS_LOST:
                time.sleep(pause)
                pause = min(pause * 2, 10.0)
