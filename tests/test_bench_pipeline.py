"""The bench's pipeline scenarios: a real server on the bench models answers each request
(the pipeline's and one step's) with the values the bench checks before it measures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.server import Server
from app.settings import ServerSettings
from bench import servers
from bench.payloads import STEP, Scenario, scenarios

PIPELINES = [s for s in scenarios() if s.step]


@pytest.fixture
async def bench_server() -> AsyncIterator[Server]:
    settings = ServerSettings(
        model_repository=servers.MODELS, host="127.0.0.1", http_port=0, grpc_port=0
    )
    running = Server(settings)
    await running.start()
    yield running
    await running.stop(grace=1)


def test_each_transport_has_a_pipeline_scenario() -> None:
    assert sorted(s.transport for s in PIPELINES) == ["grpc", "rest"]
    for scenario in PIPELINES:
        one = scenario.one_step()
        assert (one.model, one.connections) == (STEP, scenario.connections)


@pytest.mark.parametrize("scenario", PIPELINES, ids=lambda s: s.name)
async def test_the_pipeline_and_one_step_answer_right(
    bench_server: Server, scenario: Scenario
) -> None:
    for sent in (scenario, scenario.one_step()):
        if sent.transport == "rest":
            base = f"http://127.0.0.1:{bench_server.http_port}"
            body, _ = await asyncio.to_thread(servers.capture_rest, base, sent)
            assert b'"model_name":"%s"' % sent.model.removesuffix(".pipeline").encode() in body
        else:
            base = f"http://127.0.0.1:{bench_server.grpc_port}"
            await asyncio.to_thread(servers.capture_grpc, base, sent)  # checks the values
