"""RQ jobs of the devices app: thin wrappers that call services."""

from django_rq import job

from . import services


@job("default", timeout=900)
def sync_devices_job() -> dict:
    run = services.sync_devices()
    return {"total": run.total, "created": run.created, "updated": run.updated,
            "vanished": run.vanished, "api_calls": run.api_calls}
