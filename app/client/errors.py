"""What the clients raise: the protocol's own exception tree (`app.protocol.errors`), chosen
from the status a server answered with through the same `Status` table the server uses, plus
one class for a server that cannot be reached.

    OIPError
    ├── InvalidInput, NotFound > ModelNotFound, PayloadTooLarge, Unsupported, PredictorError
    ├── DeadlineExceeded          also a builtin TimeoutError (client deadlines too)
    ├── InvalidResponse           an answer that is not valid OIP (body, metadata, tensors)
    ├── ClientClosed              a call on a closed client; also a builtin RuntimeError
    └── Unavailable
        ├── ServerNotReady        503 / UNAVAILABLE on a server-wide call
        ├── ModelNotReady         503 / UNAVAILABLE on a model call
        └── ServerUnreachable     no connection at all; also a builtin ConnectionError
"""

from __future__ import annotations

from enum import Enum

from app.protocol.errors import (
    ModelNotReady,
    OIPError,
    ServerNotReady,
    Status,
    Unavailable,
    error_class,
    status_for_grpc,
    status_for_http,
)


class ServerUnreachable(Unavailable, ConnectionError):
    """The client could not reach the server (refused, reset, DNS, TLS handshake failed)."""


class ClientClosed(OIPError, RuntimeError):
    """A call on a client after `close()`: make a new client."""


def closed(client: str) -> ClientClosed:
    """The error for a call on `client` (a class name) after its `close()`."""
    return ClientClosed(f"this {client} is closed: make a new client")


class Scope(Enum):
    """What a call was about, to tell a server that is not ready from a model that is not."""

    SERVER = "server"
    MODEL = "model"


def error_for(status: Status, message: str, scope: Scope) -> OIPError:
    """The exception for a status a server answered with."""
    if status is Status.UNAVAILABLE:
        return ModelNotReady(message) if scope is Scope.MODEL else ServerNotReady(message)
    return error_class(status)(message)


def error_for_http(code: int, message: str, scope: Scope) -> OIPError:
    """The exception for an HTTP error answer."""
    return error_for(status_for_http(code), message, scope)


def error_for_grpc(code_name: str, message: str, scope: Scope) -> OIPError:
    """The exception for a gRPC status code name (``"NOT_FOUND"``)."""
    return error_for(status_for_grpc(code_name), message, scope)
