"""The model repository extension over REST: index, load and unload, over the DataPlane."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from app.dataplane import DataPlane
from app.protocol.errors import InvalidInput
from app.protocol.types import (
    ErrorResponse,
    RepositoryIndexRequest,
    RepositoryModel,
    RepositoryModelRequest,
)
from app.rest.docs import REPOSITORY
from app.rest.responses import JSONBody
from app.rest.routing import NamePath

Body = TypeVar("Body", bound=BaseModel)

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in [
        (400, "The body is malformed"),
        (404, "No such model in the repository"),
        (500, "The model failed to load (an earlier load keeps serving)"),
        (501, "A parameter this server does not support"),
    ]
}


def body_schema(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    """openapi_extra for an optional JSON body of type `model`."""
    schema = {"schema": model.model_json_schema(), "example": example}
    return {"requestBody": {"required": False, "content": {"application/json": schema}}}


async def parse_body(request: Request, model: type[Body]) -> Body:
    """The body as `model`; an empty body gives the defaults (any content type is read)."""
    raw = await request.body()
    try:
        return model.model_validate(orjson.loads(raw) if raw.strip() else {})
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"malformed JSON: {error}") from None
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None


def repository_router(dataplane: DataPlane) -> APIRouter:
    """POST /v2/repository/index, /v2/repository/models/{m}/load and /unload."""
    router = APIRouter(prefix="/v2/repository", tags=[REPOSITORY])

    @router.post(
        "/index",
        response_model=list[RepositoryModel],
        responses=_ERRORS,
        summary="Every model of the repository with its versions and their state",
        openapi_extra=body_schema(RepositoryIndexRequest, {"ready": False}),
    )
    async def repository_index(request: Request) -> JSONBody:
        index = await dataplane.repository_index(await parse_body(request, RepositoryIndexRequest))
        return JSONBody([model.model_dump(mode="json") for model in index.models])

    for action, run, summary in [
        ("load", dataplane.repository_load, "Load a model, or reload it if its folder changed"),
        ("unload", dataplane.repository_unload, "Unload a model once its requests are done"),
    ]:
        router.add_api_route(
            f"/models/{{model_name}}/{action}",
            _model_endpoint(run),
            methods=["POST"],
            name=f"repository_{action}",
            responses=_ERRORS,
            summary=summary,
            openapi_extra=body_schema(RepositoryModelRequest, {}),
        )
    return router


def _model_endpoint(
    run: Callable[[str, RepositoryModelRequest], Awaitable[None]],
) -> Callable[[Request, str], Awaitable[Response]]:
    """The endpoint of a load or unload: 200 with an empty body once `run` is done."""

    async def endpoint(request: Request, model_name: NamePath) -> Response:
        await run(model_name, await parse_body(request, RepositoryModelRequest))
        return Response(status_code=200)

    return endpoint
