"""`oipserve pipeline inspect URL PIPELINE[.STEP[.inputs|.outputs[.TENSOR]]] --request-id ID`:
what a pipeline's steps were sent and answered in one request, as Seldon's `seldon pipeline
inspect` shows it, from a server that keeps them (`oipserve serve --inspect-requests N`)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import orjson

from app.client.command import exit_code
from app.client.rest import InferenceRESTClient
from app.protocol.errors import OIPError
from app.protocol.types import InspectedRequest, InspectedTensor

SIDES = ("inputs", "outputs")


def _selected(
    found: InspectedRequest, step: str | None, side: str | None, tensor: str | None
) -> list[tuple[str, InspectedTensor]]:
    """(`step.side.tensor`, tensor) for the tensors the path selects, in the server's order."""
    rows = [
        (f"{name}.{where}.{t.name}", t)
        for name, sides in found.steps.items()
        if step is None or name == step
        for where, tensors in sides.items()
        if side is None or where == side
        for t in tensors
        if tensor is None or t.name == tensor
    ]
    if not rows:
        wanted = ".".join(part for part in (found.pipeline, step, side, tensor) if part)
        raise ValueError(f"request {found.id!r} has no tensors at {wanted!r}")
    return rows


def split_path(path: str) -> tuple[str, str | None, str | None, str | None]:
    """PIPELINE[.STEP[.inputs|.outputs[.TENSOR]]] in parts (a tensor's name may hold dots)."""
    parts: list[str | None] = [*path.split(".", 3)]
    pipeline, step, side, tensor = parts + [None] * (4 - len(parts))
    if not pipeline or step == "" or (side is not None and side not in SIDES) or tensor == "":
        raise ValueError(f"expected PIPELINE[.STEP[.inputs|.outputs[.TENSOR]]], got {path!r}")
    return pipeline, step, side, tensor


async def inspect(options: dict[str, Any]) -> str:
    """The text (or JSON) the command prints."""
    url = options["url"]
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"inspection is served over REST: give an http(s):// URL, not {url!r}")
    pipeline = split_path(options["path"])[0]
    async with InferenceRESTClient(url) as client:
        found = await client.pipeline_request(pipeline, options["request_id"])
    return shown(found, options["path"], options["json"])


def shown(found: InspectedRequest, path: str, as_json: bool) -> str:
    """The tensors of `found` at `path`, one line each (step.side.tensor, datatype, shape,
    data) or as JSON; ValueError when it has none there."""
    _, step, side, tensor = split_path(path)
    rows = _selected(found, step, side, tensor)
    if as_json:
        tensors = {where: t.model_dump() for where, t in rows}
        return orjson.dumps(tensors, option=orjson.OPT_INDENT_2).decode()
    return "\n".join(
        f"{where}\t{t.datatype}\t{t.shape}\t{orjson.dumps(t.data).decode()}" for where, t in rows
    )


def run(options: dict[str, Any]) -> int:
    """The `oipserve pipeline inspect` command: 0 on success, 1 for an error answer, 2 for bad
    input (a path the request has no tensors at included)."""
    return exit_code("pipeline inspect", printed(inspect(options)), message_of)


async def printed(work: Awaitable[str]) -> None:
    """Print what `work` gives."""
    print(await work)


def message_of(error: OIPError) -> str:
    return error.message
