"""What Prometheus scrapes at /metrics: the shared counters (requests, provider calls, rate-limit
waits, job durations, Yes-to-done times) and gauges read when scraped (operations by kind and
state, queue depths, notification deliveries)."""

from collections import defaultdict

import django_rq
from django.db.models import Count
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from redis import RedisError

from . import counters

PREFIX = "rescueportal_"
COUNTERS = {
    "http_requests": ("Requests answered, by route (URL name), method and status.", ["route", "method", "status"]),
    "provider_calls": ("Calls to the SoftLayer API, by method and outcome (ok, or the fault).",
                       ["method", "outcome"]),
    "rate_limit_wait_seconds": ("Seconds spent waiting for the SoftLayer rate budget.", []),
    "operations_ended": ("Operations that ended, by kind and outcome.", ["kind", "outcome"]),
}
HISTOGRAMS = {
    "provider_call_seconds": ("Latency of SoftLayer API calls, by method.", ["method"]),
    "operation_seconds": ("Time from Yes to done (reached rescue, booted from the image, back to normal), by kind.",
                          ["kind"]),
    "job_seconds": ("Duration of RQ jobs, by function and outcome.", ["function", "outcome"]),
}


# --- What the parts report (hooks registered in MonitoringConfig.ready) --------------------------------

def request(route: str, method: str, status: int) -> None:
    counters.add("http_requests", {"route": route, "method": method, "status": str(status)})


def provider_call(method: str, seconds: float, outcome: str) -> None:
    counters.add("provider_calls", {"method": method, "outcome": outcome})
    counters.observe("provider_call_seconds", {"method": method}, seconds)


def rate_limit_wait(seconds: float) -> None:
    counters.add("rate_limit_wait_seconds", {}, seconds)


def job(function: str, seconds: float, outcome: str) -> None:
    counters.observe("job_seconds", {"function": function, "outcome": outcome}, seconds)


def operation_news(event: str, operation_id: int) -> None:
    """Counts operations that ended and how long they took from Yes."""
    from workflows import events
    from workflows.models import Operation

    outcome = {events.OPERATION_SUCCEEDED: "succeeded", events.OPERATION_FAILED: "failed"}.get(event)
    if outcome is None:
        return
    op = Operation.objects.filter(pk=operation_id).values("kind", "created_at", "finished_at").first()
    if op is None:
        return
    counters.add("operations_ended", {"kind": op["kind"], "outcome": outcome})
    if outcome == "succeeded" and op["finished_at"]:
        counters.observe("operation_seconds", {"kind": op["kind"]},
                         (op["finished_at"] - op["created_at"]).total_seconds())


# --- Scrape ------------------------------------------------------------------------------------------


class PortalCollector:
    def collect(self):
        yield from self._shared()
        yield from self._operations()
        yield from self._queues()
        yield from self._deliveries()

    def _shared(self):
        try:
            values = counters.read()
        except (RedisError, OSError):
            values = {}
        by_name: dict[str, list] = defaultdict(list)
        for (name, labels), value in values.items():
            by_name[name].append((dict(labels), value))
        for name, (doc, label_names) in COUNTERS.items():
            family = CounterMetricFamily(PREFIX + name, doc, labels=label_names)
            for labels, value in by_name.get(name, []):
                family.add_metric([labels.get(n, "") for n in label_names], value)
            yield family
        for name, (doc, label_names) in HISTOGRAMS.items():
            family = HistogramMetricFamily(PREFIX + name, doc, labels=label_names)
            series: dict[tuple, dict] = defaultdict(lambda: {"buckets": defaultdict(float), "sum": 0.0})
            for labels, value in by_name.get(name + "_bucket", []):
                key = tuple(labels.get(n, "") for n in label_names)
                series[key]["buckets"][labels["le"]] += value
            for labels, value in by_name.get(name + "_sum", []):
                series[tuple(labels.get(n, "") for n in label_names)]["sum"] = value
            for key, data in series.items():
                running, buckets = 0.0, []
                for bound in [*map(str, counters.BUCKETS), "+Inf"]:
                    running += data["buckets"].get(bound, 0.0)
                    buckets.append((bound, running))
                family.add_metric(list(key), buckets, data["sum"])
            yield family

    def _operations(self):
        from workflows.models import Operation

        family = GaugeMetricFamily(PREFIX + "operations", "Operations by kind and state (from the database).",
                                   labels=["kind", "state"])
        for row in Operation.objects.order_by().values("kind", "state").annotate(n=Count("pk")):
            family.add_metric([row["kind"], row["state"]], row["n"])
        yield family

    def _queues(self):
        from django.conf import settings

        depth = GaugeMetricFamily(PREFIX + "queue_jobs", "Jobs waiting in each RQ queue.", labels=["queue"])
        running = GaugeMetricFamily(PREFIX + "queue_jobs_started", "Jobs being run from each queue.",
                                    labels=["queue"])
        failed = GaugeMetricFamily(PREFIX + "queue_jobs_failed", "Jobs in each queue's failed registry.",
                                   labels=["queue"])
        workers = GaugeMetricFamily(PREFIX + "workers", "RQ workers registered (a killed one stays listed until "
                                    "its registration expires, up to RQ's worker TTL).")
        try:
            from rq import Worker

            for name in settings.WORKER_QUEUES:
                queue = django_rq.get_queue(name)
                depth.add_metric([name], queue.count)
                running.add_metric([name], queue.started_job_registry.count)
                failed.add_metric([name], queue.failed_job_registry.count)
            workers.add_metric([], len(Worker.all(connection=django_rq.get_connection("default"))))
        except (RedisError, OSError):
            pass
        yield from (depth, running, failed, workers)

    def _deliveries(self):
        from notifications.models import Delivery

        family = GaugeMetricFamily(PREFIX + "notification_deliveries", "Notification deliveries (mail, webhook) "
                                   "by status.", labels=["channel", "status"])
        for row in Delivery.objects.order_by().values("channel", "status").annotate(n=Count("pk")):
            family.add_metric([row["channel"], row["status"]], row["n"])
        yield family


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PortalCollector())
    return generate_latest(registry)

