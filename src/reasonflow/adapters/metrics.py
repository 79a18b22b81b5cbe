"""Prometheus metrics: what the use cases report plus live gauges read at scrape time."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from reasonflow.domain.model import BatchJob, JobKind
from reasonflow.domain.ports import Metrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class PrometheusMetrics(Metrics):
    """One registry per app, so tests and several apps in one process never collide.

    Live gauges (``watch``) are read at scrape time from the adapter that knows
    the number, so the composition root adds them once that adapter exists.
    """

    content_type = CONTENT_TYPE

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._submitted = Counter(
            "reasonflow_jobs_submitted",
            "Batch jobs accepted, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self._finished = Counter(
            "reasonflow_jobs_finished",
            "Batch jobs finished, by kind and final status.",
            ["kind", "status"],
            registry=self.registry,
        )
        self._emails = Counter(
            "reasonflow_emails",
            "Emails of batch jobs by outcome: succeeded, failed or cancelled.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "reasonflow_provider_call_seconds",
            "Time in the provider per email: classification, or the whole agent pipeline.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._streams = Gauge(
            "reasonflow_streams_open",
            "Status event streams being served right now.",
            registry=self.registry,
        )

    def job_submitted(self, kind: JobKind) -> None:
        self._submitted.labels(kind.value).inc()

    def job_finished(self, job: BatchJob) -> None:
        self._finished.labels(job.kind.value, job.status.value).inc()

    def email_finished(self, kind: JobKind, outcome: str) -> None:
        self._emails.labels(kind.value, outcome).inc()

    def provider_call(self, kind: JobKind, seconds: float) -> None:
        self._latency.labels(kind.value).observe(seconds)

    def stream_opened(self) -> None:
        self._streams.inc()

    def stream_closed(self) -> None:
        self._streams.dec()

    def watch(self, name: str, documentation: str, read: Callable[[], int]) -> None:
        """A gauge whose value is ``read()`` at each scrape."""
        Gauge(name, documentation, registry=self.registry).set_function(read)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
