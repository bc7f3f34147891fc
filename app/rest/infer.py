"""`POST /v2/models/{model}[/versions/{version}]/infer`, the REST hot path, as a raw ASGI app.

body (JSON, or JSON header + binary tensors) -> InferenceRequest (one orjson parse, tensor
data straight into numpy) -> DataPlane.infer -> body (orjson from numpy, or raw bytes). No
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
    request_from_body,
    response_to_body,
)
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
        """The response headers and body for one inference request body."""
        request = request_from_body(body, parse_header_length(header_length))
        response = await self.dataplane.infer(
            path_params["model_name"], request, path_params.get("model_version")
        )
        binary = binary_output_names(request, [output.name for output in response.outputs])
        payload, json_length = response_to_body(response, binary)
        if json_length is None:
            return list(_JSON), payload
        return [(b"content-type", _BINARY), (_HEADER_LENGTH, str(json_length).encode())], payload
