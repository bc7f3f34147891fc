"""The Monitor: opens and closes every inference `Call`, counting it in the version's
statistics and the request metrics, tracking what is in flight, and logging its end.

Everything here runs on the event loop for every request, so it only touches plain counters:
Prometheus series are built from them when /metrics is scraped (app.metrics)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from bisect import bisect_left

from app.calls import SUCCESS, Call
from app.registry import ModelRegistry

log = logging.getLogger("oipserve.requests")

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the request latency histogram; one more bucket is +Inf."""


SeriesKey = tuple[str, str, str, str]
"""(model, version, protocol, outcome)."""


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


class Monitor:
    """Begins and finishes calls; holds the request series and the calls in flight."""

    def __init__(self, registry: ModelRegistry, log_requests: bool = False) -> None:
        self.registry = registry
        self.request_level = logging.INFO if log_requests else logging.DEBUG
        """The level of the line logged when a request ends."""
        self.series: dict[SeriesKey, Series] = {}
        self.inflight: set[Call] = set()
        self.reported: set[Call] = set()
        """The calls in flight when the listeners closed: each is logged at INFO as it
        finishes (the shutdown report)."""
        self._idle: asyncio.Event | None = None

    def begin(self, protocol: str, model: str) -> Call:
        """A new call of `protocol` for `model`, now in flight."""
        call = Call(protocol, model, time.perf_counter_ns())
        self.inflight.add(call)
        return call

    def finish(self, call: Call, outcome: str) -> None:
        """Count the call's end with its `outcome` (SUCCESS, or see `outcome_of`)."""
        ended = time.perf_counter_ns()
        self.inflight.discard(call)
        outcome = call.cancelled or outcome
        entry = call.entry
        if entry is not None:
            if outcome == SUCCESS:
                entry.stats.record_success(
                    call.started, call.infer_started, call.infer_ended, ended, call.batch
                )
            else:
                entry.stats.record_failure(call.started, ended)
            key = (call.model, entry.version, call.protocol, outcome)
        else:
            model = call.model if self.registry.known(call.model) else ""
            key = (model, "", call.protocol, outcome)
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = Series()
        series.observe((ended - call.started) / 1e9)
        if self._idle is not None and not self.inflight:
            self._idle.set()
        if self.reported and call in self.reported:
            self.reported.discard(call)
            self._log(call, outcome, ended, logging.INFO, "finished in-flight request")
        elif log.isEnabledFor(self.request_level):
            self._log(call, outcome, ended, self.request_level, "request")

    def _log(self, call: Call, outcome: str, ended: int, level: int, what: str) -> None:
        latency_ms = round((ended - call.started) / 1e6, 3)
        log.log(
            level,
            "%s %s%s over %s: %s in %.3f ms",
            what,
            call.model,
            f"/{call.version}" if call.version else "",
            call.protocol,
            outcome,
            latency_ms,
            extra={
                "request_id": call.id,
                "model": call.model,
                "version": call.version,
                "protocol": call.protocol,
                "status": outcome,
                "latency_ms": latency_ms,
            },
        )

    def report_inflight(self) -> str:
        """The listeners have closed: the calls in flight now are logged as they finish.
        How many there are (see `describe_inflight`)."""
        self.reported = set(self.inflight)
        return self.describe_inflight()

    def describe_inflight(self) -> str:
        """How many calls are in flight, per protocol: '3 (grpc 1, rest 2)'."""
        counts: dict[str, int] = {}
        for call in self.inflight:
            counts[call.protocol] = counts.get(call.protocol, 0) + 1
        detail = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        return f"{len(self.inflight)} ({detail})" if detail else "0"

    async def wait_idle(self, grace: float) -> bool:
        """Wait until no call is in flight (at most `grace` s); False if some still are."""
        if self.inflight:
            self._idle = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace)
        return not self.inflight
