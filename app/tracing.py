"""Tracing (extra `tracing`, OpenTelemetry): a span per inference request, whichever front it
came by, opened and closed by the DataPlane; the calls a pipeline step or an explainer makes
through the in-process client are child spans of their request's. Each span has the request
id, the model (or pipeline, or explainer), the version that answered and the outcome. A W3C
`traceparent` (and `tracestate`) from the REST headers or the gRPC metadata is the parent of
the request's span. Only inference requests make spans: health, metadata, metrics and docs
make none.

On when the standard OpenTelemetry variables ask for an exporter: `OTEL_TRACES_EXPORTER`
(`otlp` or `console`), or an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); off when none is set or `OTEL_SDK_DISABLED=true`. The
exporter reads the rest (`OTEL_SERVICE_NAME`, headers, TLS, ...) itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from app import __version__
from app.context import INPROCESS, KAFKA, RequestContext

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger("oipserve.tracing")
ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_KINDS = {INPROCESS: trace.SpanKind.INTERNAL, KAFKA: trace.SpanKind.CONSUMER}
"""The span kind of each front's requests: the others' are SERVER."""


class Tracing:
    """Opens and closes the span of each inference request, from `provider`'s tracer."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("oipserve", __version__)
        self._propagator = TraceContextTextMapPropagator()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Tracing | None:
        """Tracing as the OTEL_* variables ask (None: off); a warning and None when they
        ask for it and the `tracing` extra is not installed."""
        if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
            return None
        exporter = environ.get("OTEL_TRACES_EXPORTER", "").lower()
        if exporter in ("", "none") and not any(environ.get(name) for name in ENDPOINTS):
            return None
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import (
                BatchSpanProcessor,
                ConsoleSpanExporter,
                SpanExporter,
            )
        except ImportError:
            log.warning(
                "the OTEL_* variables ask for traces, but OpenTelemetry is not installed: "
                "pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-grpc"
            )
            return None
        if exporter == "console":
            chosen: SpanExporter = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            chosen = OTLPSpanExporter()
        named = "OTEL_SERVICE_NAME" in environ or "service.name=" in environ.get(
            "OTEL_RESOURCE_ATTRIBUTES", ""
        )
        resource = Resource.create(
            {"service.version": __version__, **({} if named else {"service.name": "oipserve"})}
        )
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(chosen))
        return cls(provider)

    def start(self, context: RequestContext) -> RequestSpan:
        """Open the span of the request of `context` and make it current: its parent is
        the request's traceparent (a front's: a header, metadata, a Kafka record's header),
        else the current span (an in-process call's)."""
        kind = _KINDS.get(context.front, trace.SpanKind.SERVER)
        parent = None
        if context.trace is not None and kind is not trace.SpanKind.INTERNAL:
            parent = self._propagator.extract(context.trace)
        span = self._tracer.start_span(f"infer {context.model}", parent, kind)
        token = otel_context.attach(trace.set_span_in_context(span))
        return RequestSpan(span, token)

    def shutdown(self) -> None:
        """Export what is left and stop (at the server's stop)."""
        self.provider.shutdown()


class RequestSpan:
    """The span of one request, current while the request is answered."""

    __slots__ = ("span", "token")

    def __init__(self, span: trace.Span, token: Token[Context]) -> None:
        self.span = span
        self.token = token

    def end(self, context: RequestContext, outcome: str, error: BaseException | None) -> None:
        """Close the span with what the request came to (`error`: None on success)."""
        otel_context.detach(self.token)
        self.span.set_attributes(
            {
                "oipserve.request_id": context.id or "",
                "oipserve.model": context.model,
                "oipserve.version": context.version,
                "oipserve.front": context.front,
                "oipserve.outcome": outcome,
            }
        )
        if error is not None:
            message = getattr(error, "message", None) or type(error).__name__
            self.span.set_status(trace.Status(trace.StatusCode.ERROR, message))
        self.span.end()
