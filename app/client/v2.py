"""Open Inference Protocol v2 REST bodies for the client: JSON, or a JSON header followed by
binary tensors (the binary tensor data extension), through the protocol core's codec."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import orjson

from app.client.tensors import InferRequest, InferResponse
from app.client.wire import answer_from, binary_inputs, check_json_safe, from_protocol, to_protocol
from app.protocol.codecs.messages import (
    HEADER_LENGTH,
    parse_header_length,
    request_to_body,
    response_from_body,
)
from app.protocol.errors import InvalidInput

BINARY_EXTENSION = "binary_tensor_data"
"""The server metadata extension that says a server reads and writes binary tensor data."""
JSON = {"content-type": "application/json"}


def model_path(name: str, version: str | None) -> str:
    """The path of a model (version); InvalidInput for a name or version holding `/`, which
    a server reads as a path of its own (servers decode %2F before routing)."""
    for what, value in (("model name", name), ("version", version or "")):
        if "/" in value:
            raise InvalidInput(f"{what} {value!r} holds '/', which no {what} may hold")
    path = f"/v2/models/{quote(name, safe='')}"
    return path + (f"/versions/{quote(version, safe='')}" if version else "")


def request_body(
    payload: InferRequest | dict[str, Any], binary_allowed: bool
) -> tuple[bytes, dict[str, str]]:
    """The body and content headers for a request: binary tensors for the inputs set with
    `binary_data=True` when `binary_allowed` (outputs are then asked for as binary too),
    JSON otherwise. A dict is sent as JSON as it is."""
    if not isinstance(payload, InferRequest):
        return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY), dict(JSON)
    binary = binary_inputs(payload) if binary_allowed else set()
    check_json_safe([tensor for tensor in payload.inputs if tensor.name not in binary])
    body, length = request_to_body(to_protocol(payload, binary_outputs=bool(binary)), binary)
    if length is None:
        return body, dict(JSON)
    return body, {"content-type": "application/octet-stream", HEADER_LENGTH: str(length)}


def response(answer: httpx.Response) -> InferResponse:
    """The InferResponse of a successful answer (JSON, or JSON header + binary tensors)."""
    with answer_from(str(answer.request.url)):
        length = parse_header_length(answer.headers.get(HEADER_LENGTH))
        return from_protocol(response_from_body(answer.content, length))
