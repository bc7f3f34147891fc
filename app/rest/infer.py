"""`POST /v2/models/{model}[/versions/{version}]/infer`, the REST hot path, as a raw ASGI app.

The body (JSON, or a JSON header and binary tensors) goes to the DataPlane as it came; the
DataPlane decodes it into a Payload (one orjson parse, tensor data straight into numpy) once
it has found the model. The answer is written by orjson from numpy, or as raw bytes. No
Request object, no Pydantic validation of the body: `InferRoutes` hands the request here,
inside the middleware stack.
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Scope, Send

from app.context import REST, RequestContext, open_context
from app.dataplane import DataPlane
from app.protocol.codecs.messages import (
    answer_to_body,
    binary_output_names,
    parse_header_length,
    payload_from_body,
)
from app.protocol.errors import Unavailable
from app.protocol.payload import Answer, Payload
from app.resolver import target_of
from app.rest.disconnects import Disconnects
from app.rest.errors import send_error
from app.rest.limits import CONTENT_LENGTH, read_body

Headers = list[tuple[bytes, bytes]]
_HEADER_LENGTH = b"inference-header-content-length"
_JSON = b"application/json"
_BINARY = b"application/octet-stream"


class RequestBody:
    """An inference request body, decoded when the DataPlane asks; the payload is kept."""

    __slots__ = ("body", "header_length", "payload")

    def __init__(self, body: bytes | bytearray, header_length: str | None) -> None:
        self.body = body
        self.header_length = header_length
        self.payload: Payload | None = None

    def decode(self) -> Payload:
        length = parse_header_length(self.header_length)
        self.payload = payload_from_body(self.body, length)
        return self.payload


class InferEndpoint:
    """Answers inference requests over `dataplane`."""

    def __init__(self, dataplane: DataPlane) -> None:
        self.dataplane = dataplane
        self.disconnects = Disconnects()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header_length = None
        for name, value in scope["headers"]:
            if name == _HEADER_LENGTH:
                header_length = value.decode("latin-1")
        context = open_context(REST, scope["headers"])
        task = asyncio.current_task()
        assert task is not None
        try:
            path = scope["path_params"]
            name = path.get("model_name") or f"{path['pipeline_name']}.pipeline"
            target = target_of(name, path.get("model_version"), context.seldon_model)
            request = RequestBody(await read_body(receive), header_length)
            self.disconnects.add(context, receive, task)
            try:
                answer = await self.dataplane.infer(target, request, context)
            finally:
                self.disconnects.remove(context)
            headers, body = _encode(answer, request.payload)
        except asyncio.CancelledError:
            if context.cancelled and not task.uncancel():
                return  # the client is gone: nothing to answer
            if self.dataplane.stopping and not task.uncancel():  # cut at the end of the grace
                error = Unavailable("the server shut down before the request finished")
                await send_error(send, error, "POST", scope["path"], _echo(context))
                return
            raise
        except Exception as error:
            await send_error(send, error, "POST", scope["path"], _echo(context))
            return
        headers += _echo(context)
        headers.append((CONTENT_LENGTH, str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _encode(answer: Answer, payload: Payload | None) -> tuple[Headers, bytes]:
    """The answer's content headers and body: JSON, or binary outputs where asked for."""
    binary = binary_output_names(payload, answer.outputs) if payload is not None else ()
    body, json_length = answer_to_body(answer, binary)
    if json_length is None:
        return [(b"content-type", _JSON)], body
    return [(b"content-type", _BINARY), (_HEADER_LENGTH, str(json_length).encode())], body


def _echo(context: RequestContext) -> Headers:
    """The request id and X- headers to send back, as ASGI headers."""
    return [
        (key.encode("latin-1"), value.encode("latin-1", "replace")) for key, value in context.echo()
    ]
