"""The Prometheus series, rendered from the Monitor's counters and the registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.context import REST, open_context
from app.dataplane import DataPlane
from app.metrics import metrics_registry, render
from app.protocol.errors import ModelNotFound
from app.protocol.types import InferenceRequest, RequestInput
from tests.planes import dataplane_over, infer, one_value
from tests.repo import add_model

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(text: str) -> Samples:
    """Every sample of an exposition: (name, labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labels(**given: str) -> frozenset[tuple[str, str]]:
    return frozenset(given.items())


@pytest.fixture
async def plane(tmp_path: Path) -> AsyncIterator[DataPlane]:
    add_model(tmp_path, "echo", "tests.toys:Echo")
    add_model(tmp_path, "bad", "tests.toys:BadLoad")
    async with dataplane_over(tmp_path) as dataplane:
        yield dataplane


async def test_series_count_requests_and_models(plane: DataPlane) -> None:
    data = np.ones(1, dtype=np.float32)
    request = InferenceRequest(
        inputs=[RequestInput(name="input-0", shape=[1], datatype="FP32", data=data)]
    )
    for _ in range(3):
        await infer(plane, "echo", request)
    with pytest.raises(ModelNotFound):
        await infer(plane, "echo", request, "7")
    in_flight = open_context(REST)
    in_flight.model = "echo"
    plane.monitor.begin(in_flight)  # one still in flight
    samples = scrape(render(metrics_registry(plane.monitor)).decode())

    ok = labels(model="echo", version="1", protocol="inprocess", outcome="success")
    assert samples["oipserve_requests_total", ok] == 3
    assert samples["oipserve_request_duration_seconds_count", ok] == 3
    assert samples["oipserve_request_duration_seconds_bucket", ok | {("le", "+Inf")}] == 3
    assert 0 < samples["oipserve_request_duration_seconds_sum", ok] < 3
    missing = labels(model="echo", version="", protocol="inprocess", outcome="not_found")
    assert samples["oipserve_requests_total", missing] == 1
    assert samples["oipserve_inflight_requests", labels(model="echo", protocol="rest")] == 1
    state = "oipserve_model_state"
    assert samples[state, labels(model="echo", version="1", state="READY")] == 1
    assert samples[state, labels(model="echo", version="1", state="LOADING")] == 0
    assert samples[state, labels(model="bad", version="1", state="UNAVAILABLE")] == 1
    load = samples["oipserve_model_load_duration_seconds", labels(model="echo", version="1")]
    assert 0 < load < 5
    assert ("oipserve_model_load_duration_seconds", labels(model="bad", version="1")) not in samples
    assert any(name == "process_cpu_seconds_total" for name, _ in samples)


async def test_idle_unloaded_and_never_loaded_models_have_samples(
    plane: DataPlane, tmp_path: Path
) -> None:
    def samples() -> Samples:
        return scrape(render(metrics_registry(plane.monitor)).decode())

    inflight, state = "oipserve_inflight_requests", "oipserve_model_state"
    idle = samples()
    for protocol in ("rest", "grpc"):
        assert idle[inflight, labels(model="echo", protocol=protocol)] == 0
    assert (inflight, labels(model="echo", protocol="inprocess")) not in idle
    await infer(plane, "echo", one_value())
    await plane.registry.unload("echo")
    add_model(tmp_path, "later", "tests.toys:Echo")
    after = samples()
    assert after[inflight, labels(model="echo", protocol="inprocess")] == 0  # seen once
    for model in ("echo", "later"):
        assert after[state, labels(model=model, version="", state="UNAVAILABLE")] == 1
        assert after[state, labels(model=model, version="", state="READY")] == 0
    assert (state, labels(model="echo", version="1", state="READY")) not in after
