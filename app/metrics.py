"""Prometheus metrics, built from the Monitor's counters and the registry when scraped.

Needs the `metrics` extra (prometheus-client); without it /metrics answers 501. Each series
is documented in the README ("Metrics")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from app.context import GRPC, REST
from app.monitor import BUCKETS, Monitor, TopicGauges
from app.protocol.errors import Unsupported
from app.registry import ModelRegistry
from app.versions import ModelState

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector, CollectorRegistry

_LABELS = ["model", "version", "protocol", "outcome"]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Prometheus text exposition format."""


def _request_metrics(monitor: Monitor) -> Iterator[Metric]:
    from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

    requests = CounterMetricFamily(
        "oipserve_requests", "Inference requests answered, by outcome.", labels=_LABELS
    )
    latency = HistogramMetricFamily(
        "oipserve_request_duration_seconds",
        "Inference request latency from arrival to answer.",
        labels=_LABELS,
    )
    bounds = [*(repr(bound) for bound in BUCKETS), "+Inf"]
    for labels, series in sorted(monitor.series.items()):
        requests.add_metric(labels, series.count)
        cumulative, total = [], 0
        for bound, count in zip(bounds, series.buckets, strict=True):
            total += count
            cumulative.append((bound, float(total)))
        latency.add_metric(labels, cumulative, series.total)
    yield requests
    yield latency


def _inflight_metric(monitor: Monitor) -> Metric:
    from prometheus_client.core import GaugeMetricFamily

    inflight = GaugeMetricFamily(
        "oipserve_inflight_requests",
        "Inference requests received and not yet answered.",
        labels=["model", "protocol"],
    )
    counts = dict.fromkeys(_inflight_labels(monitor), 0)
    for context in monitor.inflight:
        model = context.model if monitor.known(context.model) else ""
        counts[model, context.front] = counts.get((model, context.front), 0) + 1
    for labels, count in sorted(counts.items()):
        inflight.add_metric(labels, count)
    return inflight


def _inflight_labels(monitor: Monitor) -> set[tuple[str, str]]:
    """(model, protocol) of every loaded model over REST and gRPC, and of every pair seen
    in a request: each has a sample, 0 when idle."""
    seen = {(model, protocol) for model, _, protocol, _ in monitor.series}
    loaded = {entry.name for entry in monitor.registry.entries()}
    return seen | {(name, protocol) for name in loaded for protocol in (REST, GRPC)}


def _model_metrics(registry: ModelRegistry) -> Iterator[Metric]:
    from prometheus_client.core import GaugeMetricFamily

    state = GaugeMetricFamily(
        "oipserve_model_state",
        "1 for the state each model version is in, 0 for the others.",
        labels=["model", "version", "state"],
    )
    load = GaugeMetricFamily(
        "oipserve_model_load_duration_seconds",
        "How long the last successful load of each model version took.",
        labels=["model", "version"],
    )
    for entry in registry.index():  # unloaded and never loaded models too: UNAVAILABLE
        for choice in ModelState:
            state.add_metric(
                [entry.name, entry.version, choice.value], float(entry.state is choice)
            )
        if entry.load_seconds:
            load.add_metric([entry.name, entry.version], entry.load_seconds)
    yield state
    yield load


def _batch_metrics(registry: ModelRegistry) -> Iterator[Metric]:
    """Adaptive batching: the runs of each batch size and the time requests waited for
    theirs, for each version that batches."""
    from prometheus_client.core import CounterMetricFamily

    batches = CounterMetricFamily(
        "oipserve_batches",
        "Model runs on a batch of requests (adaptive batching), by batch size in rows.",
        labels=["model", "version", "size"],
    )
    queued = CounterMetricFamily(
        "oipserve_batch_queue_seconds",
        "Time requests waited for their batch to run (adaptive batching).",
        labels=["model", "version"],
    )
    for entry in registry.entries():
        stats = entry.stats
        if stats.batches:
            for size, (runs, _) in sorted(stats.batches.items()):
                batches.add_metric([entry.name, entry.version, str(size)], runs)
            queued.add_metric([entry.name, entry.version], stats.queue_ns / 1e9)
    yield batches
    yield queued


def _kafka_metrics(gauges: TopicGauges) -> Iterator[Metric]:
    from prometheus_client.core import GaugeMetricFamily

    inflight = GaugeMetricFamily(
        "oipserve_kafka_inflight_records",
        "Kafka records taken and not yet answered (answer acknowledged by the broker).",
    )
    inflight.add_metric([], gauges.inflight)
    lag = GaugeMetricFamily(
        "oipserve_kafka_consumer_lag",
        "Records of each inputs topic after the consumer group's committed offset.",
        labels=["topic"],
    )
    for topic, behind in sorted(gauges.lag.items()):
        lag.add_metric([topic], behind)
    yield inflight
    yield lag


class _Collector:
    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        yield from _request_metrics(self.monitor)
        yield _inflight_metric(self.monitor)
        yield from _model_metrics(self.monitor.registry)
        yield from _batch_metrics(self.monitor.registry)
        if self.monitor.kafka is not None:
            yield from _kafka_metrics(self.monitor.kafka)


def metrics_registry(monitor: Monitor) -> CollectorRegistry:
    """A Prometheus registry of this server's series plus the process and Python ones."""
    try:
        from prometheus_client import (
            GC_COLLECTOR,
            PLATFORM_COLLECTOR,
            PROCESS_COLLECTOR,
            CollectorRegistry,
        )
    except ImportError:
        raise Unsupported("metrics need prometheus-client: pip install prometheus-client") from None
    collectors: list[Collector] = [
        _Collector(monitor),
        PROCESS_COLLECTOR,
        PLATFORM_COLLECTOR,
        GC_COLLECTOR,
    ]
    registry = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The text exposition of every series."""
    from prometheus_client import generate_latest

    return generate_latest(registry)


SUMMED_GAUGES = frozenset(
    {"oipserve_inflight_requests", "oipserve_kafka_inflight_records", "oipserve_kafka_consumer_lag"}
)
"""Gauges whose values add up across workers; the others (states, load times, process
facts) are the same or per process, and the largest is kept."""


def merged_text(texts: list[str]) -> bytes:
    """Several processes' text expositions (a --workers server's) as one server's: counters,
    histograms and the SUMMED_GAUGES added up, other gauges their largest value, and
    `_created` samples their earliest."""
    from prometheus_client import generate_latest
    from prometheus_client.core import Metric
    from prometheus_client.parser import text_string_to_metric_families
    from prometheus_client.registry import CollectorRegistry

    families: dict[str, Metric] = {}
    values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            families.setdefault(family.name, Metric(family.name, family.documentation, family.type))
            found = values.setdefault(family.name, {})
            added = family.type in ("counter", "histogram", "summary") or (
                family.name in SUMMED_GAUGES
            )
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key not in found:
                    found[key] = sample.value
                elif sample.name.endswith("_created"):
                    found[key] = min(found[key], sample.value)
                elif added:
                    found[key] += sample.value
                else:
                    found[key] = max(found[key], sample.value)
    for name, family in families.items():
        for (sample_name, labels), value in values[name].items():
            family.add_sample(sample_name, dict(labels), value)

    class _Merged:
        def collect(self) -> Iterator[Metric]:
            yield from families.values()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged())
    return generate_latest(registry)
