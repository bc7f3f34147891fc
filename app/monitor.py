"""The Monitor: counts every inference request as it ends, in its model version's statistics
and the request metrics, tracks what is in flight, and logs the end of each.

Everything here runs on the event loop for every request, so it only touches plain counters:
Prometheus series are built from them when /metrics is scraped (app.metrics)."""

from __future__ import annotations

import asyncio
import logging
import time
from bisect import bisect_left
from collections.abc import Callable

from app.context import CANCELLED, RequestContext
from app.protocol.errors import OIPError
from app.registry import ModelRegistry
from app.versions import ModelVersion

log = logging.getLogger("oipserve.requests")

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the request latency histogram; one more bucket is +Inf."""


SeriesKey = tuple[str, str, str, str]
"""(model, version, front, outcome)."""
SUCCESS = "success"
DEADLINE_EXCEEDED = "deadline_exceeded"
"""Outcomes of requests; the others are CANCELLED and the error statuses in lower case
(`outcome_of`)."""


def outcome_of(error: BaseException | None, context: RequestContext) -> str:
    """The outcome label of the request of `context` that ended with `error` (None:
    success); a cancelled request is `deadline_exceeded` once its deadline has passed."""
    if error is None:
        return SUCCESS
    if isinstance(error, OIPError):
        return error.status.name.lower()
    if isinstance(error, asyncio.CancelledError):
        if context.cancelled:
            return context.cancelled
        deadline = context.deadline
        passed = deadline is not None and time.monotonic() >= deadline
        return DEADLINE_EXCEEDED if passed else CANCELLED
    return "internal"


class Series:
    """Count, total seconds and per-bucket counts of the requests of one label set."""

    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.buckets = [0] * (len(BUCKETS) + 1)

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        self.buckets[bisect_left(BUCKETS, seconds)] += 1


class TopicGauges:
    """The Kafka front's gauges: the records it is answering, each topic's consumer lag."""

    def __init__(self) -> None:
        self.inflight = 0
        self.lag: dict[str, int] = {}
        """By topic: the records behind the group's committed offsets, in the partitions
        this process reads."""


class Monitor:
    """Holds the request series and the requests in flight."""

    def __init__(
        self,
        registry: ModelRegistry,
        log_requests: bool = False,
        known: Callable[[str], bool] | None = None,
    ) -> None:
        self.registry = registry
        self.known = known or registry.known
        """Whether a target's label names a servable the server has (else requests for it
        are counted under the empty label, so that unknown names cannot grow the series)."""
        self.request_level = logging.INFO if log_requests else logging.DEBUG
        """The level of the line logged when a request ends."""
        self.kafka: TopicGauges | None = None
        """The Kafka front's gauges, while it runs."""
        self.series: dict[SeriesKey, Series] = {}
        self.inflight: set[RequestContext] = set()
        self.reported: set[RequestContext] = set()
        """The requests in flight when the listeners closed: each is logged at INFO as it
        finishes (the shutdown report)."""
        self.cut = 0
        """How many of those the server cancelled unfinished (at the end of the grace)."""

    def begin(self, context: RequestContext) -> None:
        """The request of `context` is in flight."""
        self.inflight.add(context)

    def finish(self, context: RequestContext, entry: ModelVersion | None, outcome: str) -> None:
        """Count the end of a request answered by `entry` (None: it failed before a version
        was resolved) with `outcome` (SUCCESS, or see `outcome_of`)."""
        ended = time.perf_counter_ns()
        self.inflight.discard(context)
        started = context.started
        model = context.model
        if entry is not None:
            if outcome == SUCCESS:
                entry.stats.record_success(
                    started,
                    context.infer_started,
                    context.infer_ended,
                    ended,
                    context.batch,
                    context.queued,
                    context.batched,
                )
            else:
                entry.stats.record_failure(started, ended)
            key = (model, entry.version, context.front, outcome)
        else:
            key = (model if self.known(model) else "", "", context.front, outcome)
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = Series()
        series.observe((ended - started) / 1e9)
        if self.reported and context in self.reported:
            self.reported.discard(context)
            self.cut += outcome == CANCELLED and not context.cancelled  # not by its client
            self._log(context, key, ended, logging.INFO, "finished in-flight request")
        elif log.isEnabledFor(self.request_level):
            self._log(context, key, ended, self.request_level, "request")

    def _log(
        self, context: RequestContext, key: SeriesKey, ended: int, level: int, what: str
    ) -> None:
        model, version, front, outcome = key
        latency_ms = round((ended - context.started) / 1e6, 3)
        log.log(
            level,
            "%s %s%s over %s: %s in %.3f ms",
            what,
            model,
            f"/{version}" if version else "",
            front,
            outcome,
            latency_ms,
            extra={
                "request_id": context.id,
                "model": model,
                "version": version,
                "protocol": front,
                "status": outcome,
                "latency_ms": latency_ms,
            },
        )

    def report_inflight(self) -> str:
        """The listeners have closed: the requests in flight now are logged as they finish.
        How many there are (see `describe_inflight`)."""
        self.reported = set(self.inflight)
        return self.describe_inflight()

    def describe_inflight(self) -> str:
        """How many requests are in flight, per front: '3 (grpc 1, rest 2)'."""
        counts: dict[str, int] = {}
        for context in self.inflight:
            counts[context.front] = counts.get(context.front, 0) + 1
        detail = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        return f"{len(self.inflight)} ({detail})" if detail else "0"
