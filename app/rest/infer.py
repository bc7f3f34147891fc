"""`POST /v2/models/{model}[/versions/{version}]/infer`, the REST hot path, as a raw ASGI app.

body (JSON, or JSON header + binary tensors) -> InferenceRequest (one orjson parse, tensor
data straight into numpy) -> DataPlane.infer -> body (orjson from numpy, or raw bytes); a
plain JSON body -> input arrays -> DataPlane.predict -> JSON, with no messages built. No
Request object, no Pydantic validation of the body, no FastAPI middleware: `OIPApplication`
dispatches here directly. Per-request features (request ids, metrics, deadlines) belong in
`InferEndpoint.__call__` or `answer`.
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from app.dataplane import DataPlane
from app.protocol.codecs.messages import (
    binary_output_names,
    parse_header_length,
    request_from_parts,
    response_to_body,
    split_body,
)
from app.protocol.codecs.plain import plain_inputs, prediction_to_body
from app.rest.errors import send_error
from app.rest.limits import CONTENT_LENGTH, read_body

Headers = list[tuple[bytes, bytes]]
_HEADER_LENGTH = b"inference-header-content-length"
_JSON: Headers = [(b"content-type", b"application/json")]
_BINARY = b"application/octet-stream"


class InferEndpoint:
    """Answers inference requests over `dataplane`; bodies over `max_body_bytes` are 413s."""

    def __init__(self, dataplane: DataPlane, max_body_bytes: int) -> None:
        self.dataplane = dataplane
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_length = header_length = None
        for name, value in scope["headers"]:
            if name == CONTENT_LENGTH:
                content_length = value
            elif name == _HEADER_LENGTH:
                header_length = value.decode("latin-1")
        try:
            body = await read_body(receive, content_length, self.max_body_bytes)
            headers, payload = await self.answer(scope["path_params"], header_length, body)
        except Exception as error:
            await send_error(send, error, "POST", scope["path"])
            return
        headers.append((CONTENT_LENGTH, str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def answer(
        self, path_params: dict[str, str], header_length: str | None, body: bytes
    ) -> tuple[Headers, bytes]:
        """The response headers and body for one inference request body. A plain JSON
        request takes the predict lane when its model allows, else the general path."""
        name, version = path_params["model_name"], path_params.get("model_version")
        length = parse_header_length(header_length)
        message, section = split_body(body, length)
        inputs = plain_inputs(message) if length is None else None
        if inputs is not None:
            prediction = await self.dataplane.predict(name, inputs, version, message.get("id"))
            if prediction is not None:
                return list(_JSON), prediction_to_body(name, prediction)
        request = request_from_parts(message, section)
        response = await self.dataplane.infer(name, request, version)
        binary = binary_output_names(request, [output.name for output in response.outputs])
        payload, json_length = response_to_body(response, binary)
        if json_length is None:
            return list(_JSON), payload
        return [(b"content-type", _BINARY), (_HEADER_LENGTH, str(json_length).encode())], payload
