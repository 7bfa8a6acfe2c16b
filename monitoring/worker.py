"""The worker `make run` and deployments start: the portal's reconciling worker, with each job timed
for the metrics (in the job's own process, where it runs)."""

import time

from workflows.worker import ReconcilingWorker

from . import logs, metrics


class MeasuredWorker(ReconcilingWorker):
    def perform_job(self, job, queue) -> bool:
        started = time.monotonic()
        ok = False
        first = job.args[0] if job.args else None
        token = logs.job_context.set({"job": job.func_name or "", "operation_id": first if isinstance(first, int)
                                      and (job.func_name or "").startswith("workflows.") else None})
        try:
            ok = super().perform_job(job, queue)
            return ok
        finally:
            logs.job_context.reset(token)
            metrics.job(job.func_name.rsplit(".", 1)[-1] if job.func_name else "?", time.monotonic() - started,
                        "ok" if ok else "failed")
