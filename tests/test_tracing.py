"""Tracing: a span per inference request on REST and gRPC, with the request id, model,
version and outcome, the W3C traceparent as its parent; child spans for a pipeline's steps
and an explainer's calls, one request id throughout; no spans for health, metadata, metrics or
docs; and spans exported over OTLP gRPC, as the OTEL_* variables ask, to a real receiver."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent import futures
from pathlib import Path

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import (
    trace_service_pb2 as otlp,
    trace_service_pb2_grpc as otlp_grpc,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.service import Stub
from app.server import Server
from app.settings import ServerSettings
from app.tracing import Tracing
from tests.payloads import IRIS_ROWS, iris_request
from tests.repo import IRIS

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "models"
    for bundled in ("iris", "argmax", "iris-classes", "iris-explainer"):
        shutil.copytree(IRIS.parent / bundled, repo / bundled)
    return repo


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def server(settings: ServerSettings, spans: InMemorySpanExporter) -> AsyncIterator[Server]:
    """A real server whose spans go to `spans`."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    running = Server(settings, Tracing(provider))
    await running.start()
    yield running
    await running.stop(grace=1)


def _attributes(span: ReadableSpan) -> dict[str, object]:
    return {key.removeprefix("oipserve."): value for key, value in (span.attributes or {}).items()}


async def test_a_rest_request_is_a_child_of_its_traceparent(
    served: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    headers = {"traceparent": TRACEPARENT, "x-request-id": "t-1"}
    answer = await served.post("/v2/models/iris/infer", json=iris_request(), headers=headers)
    assert answer.status_code == 200
    (span,) = spans.get_finished_spans()
    assert (span.name, span.kind) == ("infer iris", SpanKind.SERVER)
    assert span.context is not None
    assert span.parent is not None
    assert f"{span.context.trace_id:032x}" == TRACE_ID
    assert f"{span.parent.span_id:016x}" == PARENT_ID
    assert _attributes(span) == {
        "request_id": "t-1",
        "model": "iris",
        "version": "1",
        "front": "rest",
        "outcome": "success",
    }
    assert span.status.status_code is StatusCode.UNSET


async def test_a_grpc_request_is_a_child_of_its_traceparent(
    server: Server, spans: InMemorySpanExporter
) -> None:
    request = pb.ModelInferRequest(model_name="iris", id="t-2")
    tensor = request.inputs.add(name="input-0", datatype="FP32", shape=[2, 4])
    tensor.contents.fp32_contents.extend(IRIS_ROWS.ravel().tolist())
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        await Stub(channel).ModelInfer(request, metadata=[("traceparent", TRACEPARENT)])
    (span,) = spans.get_finished_spans()
    assert span.context is not None
    assert span.parent is not None
    assert (f"{span.context.trace_id:032x}", f"{span.parent.span_id:016x}") == (TRACE_ID, PARENT_ID)
    assert _attributes(span)["request_id"] == "t-2"
    assert _attributes(span)["front"] == "grpc"


async def test_pipeline_steps_are_child_spans(
    served: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    headers = {"x-request-id": "t-3"}
    answer = await served.post(
        "/v2/pipelines/iris-classes/infer", json=iris_request(), headers=headers
    )
    assert answer.status_code == 200
    iris, argmax, pipeline = spans.get_finished_spans()
    assert pipeline.name == "infer iris-classes.pipeline"
    assert pipeline.parent is None  # no traceparent: a new trace
    for step, model in [(iris, "iris"), (argmax, "argmax")]:
        assert (step.name, step.kind) == (f"infer {model}", SpanKind.INTERNAL)
        assert step.parent is not None
        assert pipeline.context is not None
        assert step.parent.span_id == pipeline.context.span_id
        assert step.context is not None
        assert step.context.trace_id == pipeline.context.trace_id
        assert _attributes(step)["front"] == "inprocess"
    assert {_attributes(span)["request_id"] for span in (iris, argmax, pipeline)} == {"t-3"}


async def test_an_explained_request_shows_the_explainer_and_its_calls(
    served: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    headers = {"traceparent": TRACEPARENT, "x-request-id": "why-1"}
    answer = await served.post(
        "/v2/models/iris-explainer.explainer/infer", json=iris_request(), headers=headers
    )
    assert answer.status_code == 200
    *calls, explainer = spans.get_finished_spans()
    assert explainer.name == "infer iris-explainer"
    assert _attributes(explainer)["model"] == "iris-explainer"
    assert [call.name for call in calls] == ["infer iris", "infer iris"]  # the rows, the variants
    for call in calls:
        assert call.parent is not None
        assert explainer.context is not None
        assert call.parent.span_id == explainer.context.span_id
    found = spans.get_finished_spans()
    assert {f"{span.context.trace_id:032x}" for span in found if span.context} == {TRACE_ID}
    assert {_attributes(span)["request_id"] for span in found} == {"why-1"}


async def test_a_failure_is_an_error_span(
    served: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    answer = await served.post("/v2/models/nope/infer", json=iris_request())
    assert answer.status_code == 404
    (span,) = spans.get_finished_spans()
    assert _attributes(span)["outcome"] == "not_found"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "model 'nope' not found"


async def test_health_metadata_metrics_and_docs_make_no_spans(
    served: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/iris", "/metrics", "/docs"):
        assert (await served.get(path)).status_code == 200, path
    assert spans.get_finished_spans() == ()


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "x"}, False),
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4317"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4317", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_on_only_when_the_environment_asks(environ: dict[str, str], on: bool) -> None:
    tracing = Tracing.from_environment(environ)
    assert (tracing is not None) == on
    if tracing is not None:
        tracing.shutdown()


class Receiver(otlp_grpc.TraceServiceServicer):
    """An OTLP trace receiver: keeps every export request."""

    def __init__(self) -> None:
        self.received: list[otlp.ExportTraceServiceRequest] = []

    def Export(  # noqa: N802  # the service's method name
        self, request: otlp.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> otlp.ExportTraceServiceResponse:
        self.received.append(request)
        return otlp.ExportTraceServiceResponse()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, int]]:
    """A real OTLP gRPC receiver on 127.0.0.1 (its port)."""
    found = Receiver()
    listening = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    otlp_grpc.add_TraceServiceServicer_to_server(found, listening)  # type: ignore[no-untyped-call]  # generated code
    port = listening.add_insecure_port("127.0.0.1:0")
    listening.start()
    yield found, port
    listening.stop(grace=None)


async def test_spans_reach_an_otlp_receiver(
    settings: ServerSettings, receiver: tuple[Receiver, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    found, port = receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "oipserve-test")
    running = Server(settings)
    await running.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.http_port}") as client:
            headers = {"x-request-id": "otlp-1"}
            answer = await client.post(
                "/v2/models/iris/infer", json=iris_request(), headers=headers
            )
            assert answer.status_code == 200
    finally:
        await running.stop(grace=1)  # exports what is left
    (request,) = found.received
    (resource_spans,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "oipserve-test"
    (scope_spans,) = resource_spans.scope_spans
    (span,) = scope_spans.spans
    attributes = {a.key: a.value.string_value for a in span.attributes}
    assert span.name == "infer iris"
    assert attributes["oipserve.request_id"] == "otlp-1"
