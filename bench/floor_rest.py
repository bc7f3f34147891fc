"""The REST floors: a raw ASGI app on uvicorn (httptools, uvloop, no access log: the settings
oipserve runs uvicorn with).

`POST /<scenario>` reads the whole body and answers the fixed response that oipserve gave
for that scenario (same bytes, same headers). `POST /parse` is the rest-large floor that
does the real work: orjson parses the body, numpy makes each tensor an array, orjson writes
them back.

    python -m bench.floor_rest PORT ANSWERS.json
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import uvicorn

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Answer = tuple[list[tuple[bytes, bytes]], bytes]


def _load(answers_file: Path) -> dict[str, Answer]:
    """Path -> (headers, body) from {"/rest-small": {"headers": {...}, "body": FILE}, ...}."""
    answers = {}
    for path, answer in orjson.loads(answers_file.read_bytes()).items():
        body = Path(answer["body"]).read_bytes()
        headers = [(k.lower().encode(), v.encode()) for k, v in answer["headers"].items()]
        headers.append((b"content-length", str(len(body)).encode()))
        answers[path] = (headers, body)
    return answers


def parse_and_write(body: bytes) -> bytes:
    """What a server must do at the least for a JSON tensor: parse, to numpy, write back."""
    request = orjson.loads(body)
    outputs = [
        {
            "name": tensor["name"],
            "datatype": tensor["datatype"],
            "shape": tensor["shape"],
            "data": np.array(tensor["data"], dtype=np.float32).reshape(tensor["shape"]).ravel(),
        }
        for tensor in request["inputs"]
    ]
    return orjson.dumps(
        {"model_name": "floor", "outputs": outputs}, option=orjson.OPT_SERIALIZE_NUMPY
    )


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def floor_app(answers: dict[str, Answer]) -> Callable[[Message, Receive, Send], Awaitable[None]]:
    json_type = [(b"content-type", b"application/json")]

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        if scope["path"] == "/parse":
            answer = parse_and_write(body)
            headers = [*json_type, (b"content-length", str(len(answer)).encode())]
        else:
            headers, answer = answers[scope["path"]]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app


def main() -> None:
    port, answers_file = int(sys.argv[1]), Path(sys.argv[2])
    uvicorn.run(
        floor_app(_load(answers_file)),
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="uvloop",
        lifespan="off",
        access_log=False,
        server_header=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
