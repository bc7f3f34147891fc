"""The RequestContext: what the server knows of one inference request beside its tensors.

Every front opens it once, with `open_context` (front, request id, `X-` headers, the
`seldon-model` header, deadline), and hands it to the DataPlane with the request. Then only
the DataPlane writes it (the model and version, the settled id, the reply headers, the
timings), and a front that cancels the request says why (`cancelled`). The front sends
`echo()` back with the answer.

`current_context()` is the context of the request being answered in this task (and in the
worker threads it starts): log records read it, and so does the in-process client, to carry
the caller's id, headers and deadline on. Only the DataPlane sets it.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, cast

REST = "rest"
GRPC = "grpc"
INPROCESS = "inprocess"
KAFKA = "kafka"
"""The fronts, as metrics and logs name them."""
REQUEST_ID = "x-request-id"
"""The header (REST) or metadata key (gRPC) of the request id."""
SELDON_MODEL = "seldon-model"
"""The header (REST) or metadata key (gRPC) that names the target, beating the path."""
_SELDON_MODEL_BYTES = SELDON_MODEL.encode()
TRACE_HEADERS = frozenset({"traceparent", "tracestate"})
"""The W3C Trace Context headers (REST) or metadata keys (gRPC) a request may carry."""
_TRACE_BYTES = frozenset(name.encode() for name in TRACE_HEADERS)
CANCELLED = "cancelled"
"""Why a front cancels a request: its client went away."""

_PREFIX = os.urandom(4).hex()
_serial = itertools.count(1)


def new_request_id() -> str:
    """A request id unique to this process run: a random prefix and a serial number."""
    return f"{_PREFIX}-{next(_serial)}"


class RequestContext:
    """One inference request's front, id, headers and deadline, and its answer's timings."""

    __slots__ = (
        "batch",
        "batched",
        "cancelled",
        "deadline",
        "front",
        "headers",
        "id",
        "infer_ended",
        "infer_started",
        "model",
        "queued",
        "reply_headers",
        "seldon_model",
        "started",
        "steps",
        "trace",
        "version",
    )

    def __init__(self, front: str, deadline: float | None = None) -> None:
        self.front = front
        self.started = time.perf_counter_ns()
        self.deadline = deadline
        """When the answer is due, in `time.monotonic()` seconds (None: no deadline)."""
        self.id: str | None = None
        """The request id: the header's, else the body's (once decoded), else a new one."""
        self.headers: dict[str, str] | None = None
        """The request's X- headers (lower-case names): they reach the predictor and come
        back with the answer."""
        self.seldon_model: str | None = None
        self.trace: dict[str, str] | None = None
        """The W3C Trace Context headers (`traceparent`, `tracestate`), if the request
        came with them."""
        self.model = ""
        self.version = ""
        """The model (or pipeline, or explainer) asked for, and the version that answers,
        once the DataPlane knows them."""
        self.reply_headers: dict[str, str] | None = None
        """The X- headers to send back, once the answer is known (else `headers`)."""
        self.batch = 1
        """The batch size, for a model whose first dimension is the batch."""
        self.batched = False
        self.queued = 0
        """Whether it ran in a batch with others (adaptive batching), and how long it waited
        for that batch to start (ns)."""
        self.infer_started = 0
        self.infer_ended = 0
        """When the predictor started and ended (perf_counter_ns; 0: it did not)."""
        self.cancelled = ""
        """Why the front cancelled the request (CANCELLED), if it did."""
        self.steps: Callable[[str, Any], None] | None = None
        """For a pipeline: called with each step's name and Answer as it answers (the Kafka
        front's step topics)."""

    def echo(self) -> list[tuple[str, str]]:
        """The headers the answer carries back: the request id and the X- headers."""
        if self.id is None:
            self.id = new_request_id()
        extra = self.reply_headers if self.reply_headers is not None else self.headers
        return [(REQUEST_ID, self.id), *(extra or {}).items()]


Header = tuple[str, str | bytes] | tuple[bytes, bytes]
"""A request header with its name in lower case: gRPC metadata (text, or bytes for `-bin`
keys) or an ASGI header (latin-1 bytes)."""


def open_context(
    front: str, headers: Iterable[Header] = (), deadline: float | None = None
) -> RequestContext:
    """The context of a request that arrived by `front` with `headers`; metadata values that
    are not text (gRPC's `-bin` keys) are skipped."""
    context = RequestContext(front, deadline)
    _take(context, headers)
    return context


def _take(context: RequestContext, headers: Iterable[Header]) -> None:
    """Read the request id, X- headers, `seldon-model` and trace headers of `headers` into
    `context`."""
    for key, value in headers:
        if isinstance(key, bytes):  # ASGI: decode only the headers kept
            if key[:2] != b"x-" and key != _SELDON_MODEL_BYTES and key not in _TRACE_BYTES:
                continue
            name, text = key.decode("latin-1"), cast(bytes, value).decode("latin-1")
        elif isinstance(value, str):
            name, text = key, value
        else:
            continue  # a `-bin` value
        if name[:2] == "x-":
            if name == REQUEST_ID:
                context.id = text or context.id
            elif context.headers is None:
                context.headers = {name: text}
            else:
                context.headers[name] = text
        elif name == SELDON_MODEL:
            if context.seldon_model is None:  # the first, as every route reads it
                context.seldon_model = text
        elif name in TRACE_HEADERS:
            context.trace = {**(context.trace or {}), name: text}


def inner_context(headers: Iterable[tuple[str, str]] = ()) -> RequestContext:
    """The context of an in-process request: the current request's id, X- headers and
    deadline carried on (when there is one), then `headers`."""
    outer = _current.get()
    if outer is None:
        return open_context(INPROCESS, headers)
    context = RequestContext(INPROCESS, outer.deadline)
    context.id = outer.id
    if outer.headers:
        context.headers = dict(outer.headers)
    _take(context, headers)
    return context


_current: ContextVar[RequestContext | None] = ContextVar("current_context", default=None)
enter_context = _current.set
"""Make a context current (the DataPlane, as it starts answering); returns the token that
`leave_context` takes."""
leave_context = _current.reset


def current_context() -> RequestContext | None:
    """The context of the request being answered in this task or worker thread, if any."""
    return _current.get()
