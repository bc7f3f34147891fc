"""One exception tree for every transport, with a transport-neutral status.

    OIPError                      500 INTERNAL          (base; never raised bare)
    ├── InvalidInput              400 INVALID_ARGUMENT
    ├── NotFound                  404 NOT_FOUND
    │   └── ModelNotFound         404 NOT_FOUND
    ├── PayloadTooLarge           413 RESOURCE_EXHAUSTED
    ├── Unavailable               503 UNAVAILABLE
    │   ├── ServerNotReady        503 UNAVAILABLE
    │   └── ModelNotReady         503 UNAVAILABLE
    ├── Unsupported               501 UNIMPLEMENTED
    ├── DeadlineExceeded          504 DEADLINE_EXCEEDED  (also a builtin TimeoutError)
    ├── PredictorError            500 INTERNAL
    └── InvalidResponse           500 INTERNAL          (clients only: an answer that is not OIP)

`Status` is the one table that maps statuses to HTTP codes and gRPC code names. Transports
map an exception to its status on the way out; clients map a received HTTP code or gRPC
code name back to the most specific class on the way in (`error_for_http`, `error_for_grpc`).
"""

from __future__ import annotations

from enum import Enum


class Status(Enum):
    """A transport-neutral outcome: (HTTP status code, gRPC status code name)."""

    INVALID_ARGUMENT = (400, "INVALID_ARGUMENT")
    NOT_FOUND = (404, "NOT_FOUND")
    RESOURCE_EXHAUSTED = (413, "RESOURCE_EXHAUSTED")
    UNAVAILABLE = (503, "UNAVAILABLE")
    UNIMPLEMENTED = (501, "UNIMPLEMENTED")
    DEADLINE_EXCEEDED = (504, "DEADLINE_EXCEEDED")
    INTERNAL = (500, "INTERNAL")

    @property
    def http(self) -> int:
        return self.value[0]

    @property
    def grpc(self) -> str:
        return self.value[1]


class OIPError(Exception):
    """Base of every error a transport reports to a client."""

    status: Status = Status.INTERNAL
    source: str | None = None
    """The model (or pipeline step) that failed, when it is known."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(OIPError):
    """The request is malformed or does not match the model."""

    status = Status.INVALID_ARGUMENT


class NotFound(OIPError):
    """A resource (model, version, route) does not exist."""

    status = Status.NOT_FOUND


class ModelNotFound(NotFound):
    """The model or the model version does not exist."""


class PayloadTooLarge(OIPError):
    """The request is over a configured size limit."""

    status = Status.RESOURCE_EXHAUSTED


class Unavailable(OIPError):
    """The server or a model cannot serve right now."""

    status = Status.UNAVAILABLE


class ServerNotReady(Unavailable):
    """The server is starting or shutting down."""


class ModelNotReady(Unavailable):
    """The model exists but is not loaded (loading, unloading or failed)."""


class Unsupported(OIPError):
    """The server does not implement what was asked."""

    status = Status.UNIMPLEMENTED


class DeadlineExceeded(OIPError, TimeoutError):
    """The request ran out of time (also a TimeoutError, so `except TimeoutError` works)."""

    status = Status.DEADLINE_EXCEEDED


class PredictorError(OIPError):
    """The model's own code failed."""

    status = Status.INTERNAL


class InvalidResponse(OIPError):
    """A server's answer is not valid Open Inference Protocol (clients raise it; the message
    says what was wrong)."""

    status = Status.INTERNAL


# The class a client raises for a received status: the wire does not say which subclass the
# server raised, so each status maps to its most common cause.
_BY_STATUS: dict[Status, type[OIPError]] = {
    Status.INVALID_ARGUMENT: InvalidInput,
    Status.NOT_FOUND: ModelNotFound,
    Status.RESOURCE_EXHAUSTED: PayloadTooLarge,
    Status.UNAVAILABLE: Unavailable,
    Status.UNIMPLEMENTED: Unsupported,
    Status.DEADLINE_EXCEEDED: DeadlineExceeded,
    Status.INTERNAL: PredictorError,
}
_BY_HTTP = {status.http: status for status in Status}
_BY_GRPC = {status.grpc: status for status in Status}


def status_for_http(code: int) -> Status:
    """The status for an HTTP code; unknown 4xx are bad input, anything else internal."""
    if code in _BY_HTTP:
        return _BY_HTTP[code]
    if code == 422 or 400 <= code < 500:
        return Status.INVALID_ARGUMENT
    return Status.INTERNAL


def status_for_grpc(name: str) -> Status:
    """The status for a gRPC code name (``"NOT_FOUND"``); unknown names are internal."""
    return _BY_GRPC.get(name, Status.INTERNAL)


def error_class(status: Status) -> type[OIPError]:
    """The exception class a client raises for a status."""
    return _BY_STATUS[status]
