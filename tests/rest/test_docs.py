"""/docs, /redoc and /openapi.json document every route, with a working example."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import ServerSettings
from tests.repo import IRIS

ROUTES: dict[str, tuple[str, str]] = {
    "/v2": ("get", "ServerMetadataResponse"),
    "/v2/health/live": ("get", "ServerLiveResponse"),
    "/v2/health/ready": ("get", "ServerReadyResponse"),
    "/v2/models/{model_name}": ("get", "ModelMetadataResponse"),
    "/v2/models/{model_name}/versions/{model_version}": ("get", "ModelMetadataResponse"),
    "/v2/models/{model_name}/ready": ("get", "ModelReadyResponse"),
    "/v2/models/{model_name}/versions/{model_version}/ready": ("get", "ModelReadyResponse"),
    "/v2/models/{model_name}/infer": ("post", "InferenceResponse"),
    "/v2/models/{model_name}/versions/{model_version}/infer": ("post", "InferenceResponse"),
}
EXTENSION_ROUTES: dict[str, tuple[str, str]] = {
    "/v2/models/stats": ("get", "ModelStatisticsResponse"),
    "/v2/models/{model_name}/stats": ("get", "ModelStatisticsResponse"),
    "/v2/models/{model_name}/versions/{model_version}/stats": ("get", "ModelStatisticsResponse"),
    "/v2/models/{model_name}/config": ("get", "ModelConfig"),
    "/v2/models/{model_name}/versions/{model_version}/config": ("get", "ModelConfig"),
}
PIPELINE_ROUTES: dict[str, tuple[str, str]] = {
    "/v2/pipelines/{pipeline_name}": ("get", "ModelMetadataResponse"),
    "/v2/pipelines/{pipeline_name}/ready": ("get", "ModelReadyResponse"),
    "/v2/pipelines/{pipeline_name}/infer": ("post", "InferenceResponse"),
    "/v2/pipelines/{pipeline_name}/requests/{request_id}": ("get", "InspectedRequest"),
}
V1_ROUTES: dict[str, tuple[str, str]] = {
    "/": ("get", "V1Live"),
    "/v1/models": ("get", "V1Models"),
    "/v1/models/{model_name}": ("get", "V1Ready"),
    "/v1/models/{model_name}:predict": ("post", "V1Predictions"),
}
OTHER_ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "/v1/models/{model_name}:explain": ("post", ("400", "404", "503")),
    "/metrics": ("get", ()),
    "/v2/repository/index": ("post", ("400",)),
    "/v2/repository/models/{model_name}/load": ("post", ("400", "404", "500", "501")),
    "/v2/repository/models/{model_name}/unload": ("post", ("400", "404", "500", "501")),
}
"""Routes whose answer is not one JSON model: (method, documented error codes)."""
NOT_READY_400 = {
    ("/v2/models/{model_name}/ready", "400"),
    ("/v2/models/{model_name}/versions/{model_version}/ready", "400"),
}


@pytest.fixture
def repository(repository: Path) -> Path:
    """The bundled iris explainer too, so that `:explain`'s example has an explainer."""
    shutil.copytree(IRIS.parent / "iris-explainer", repository / "iris-explainer")
    return repository


@pytest.fixture
def settings(settings: ServerSettings) -> ServerSettings:
    """The inspection buffer on, so that the inspection route's example has a request."""
    return settings.model_copy(update={"inspect_requests": 4})


@pytest.fixture
async def openapi(rest: httpx.AsyncClient) -> dict[str, Any]:
    answer = await rest.get("/openapi.json")
    assert answer.status_code == 200
    schema: dict[str, Any] = answer.json()
    return schema


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_every_route_is_documented(openapi: dict[str, Any]) -> None:
    documented = {*ROUTES, *EXTENSION_ROUTES, *PIPELINE_ROUTES, *V1_ROUTES, *OTHER_ROUTES}
    assert set(openapi["paths"]) == documented
    for path, (method, _) in OTHER_ROUTES.items():
        assert list(openapi["paths"][path]) == [method], path
        assert openapi["paths"][path][method]["summary"], path
    for path, (method, model) in (ROUTES | EXTENSION_ROUTES | PIPELINE_ROUTES | V1_ROUTES).items():
        operations = openapi["paths"][path]
        assert list(operations) == [method], path
        operation = operations[method]
        assert operation["summary"]
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{model}"}, path
        parameters = {p["name"] for p in operation.get("parameters", [])}
        names = {"model_name", "model_version", "pipeline_name", "request_id"}
        expected = names & set(path.replace("}", "{").split("{"))
        if (path in ROUTES or path in V1_ROUTES) and expected:  # the header may name the target
            expected.add("seldon-model")
        assert parameters == expected, path


def test_error_responses_are_documented_as_error_bodies(openapi: dict[str, Any]) -> None:
    for path in ROUTES:
        if "{model_name}" not in path:
            continue
        responses = next(iter(openapi["paths"][path].values()))["responses"]
        for code in ("400", "404", "503"):
            schema = responses[code]["content"]["application/json"]["schema"]
            # not ready is a 400 (a 4xx, as the protocol asks) with the readiness as body
            body = "ModelReadyResponse" if (path, code) in NOT_READY_400 else "ErrorResponse"
            assert schema == {"$ref": f"#/components/schemas/{body}"}, (path, code)
    expected: dict[str, tuple[str, ...]] = {
        path: ("404", "503") for path in EXTENSION_ROUTES if "{model_name}" in path
    }
    expected |= {path: codes for path, (_, codes) in OTHER_ROUTES.items()}
    for path, codes in expected.items():
        responses = next(iter(openapi["paths"][path].values()))["responses"]
        for code in codes:
            schema = responses[code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, code)


def test_no_validation_error_leftovers(openapi: dict[str, Any]) -> None:
    for path, operations in openapi["paths"].items():
        for operation in operations.values():
            assert "422" not in operation["responses"], path
    schemas = openapi["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas


def test_every_reference_resolves(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    for ref in _refs(openapi):
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_inference_request_schema(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    request = schemas["InferenceRequest"]
    assert request["required"] == ["inputs"]
    tensor = schemas["RequestInput"]
    assert set(tensor["required"]) == {"name", "shape", "datatype", "data"}
    assert tensor["properties"]["data"]["type"] == "array"
    assert schemas["Datatype"]["enum"][0] == "BOOL"
    assert "BYTES" in schemas["Datatype"]["enum"]


async def test_the_embedded_example_works(openapi: dict[str, Any], rest: httpx.AsyncClient) -> None:
    operation = openapi["paths"]["/v2/models/{model_name}/infer"]["post"]
    content = operation["requestBody"]["content"]
    assert "application/octet-stream" in content
    example = content["application/json"]["example"]
    answer = await rest.post("/v2/models/iris/infer", json=example)
    assert answer.status_code == 200, answer.text
    documented = operation["responses"]["200"]["content"]["application/json"]["example"]
    assert answer.json() == documented  # the example answer is iris' real one
    metadata = openapi["paths"]["/v2/models/{model_name}"]["get"]["responses"]["200"]
    example_metadata = metadata["content"]["application/json"]["example"]
    assert (await rest.get("/v2/models/iris")).json() == example_metadata
    for code in ("500", "504"):
        assert operation["responses"][code]["description"]


def _example_path(path: str, operation: dict[str, Any]) -> str:
    """`path` with each path parameter replaced by its first documented example."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and not parameter["required"]:
            continue  # left empty in "Try it out"
        assert parameter["in"] == "path", (path, parameter)
        examples = parameter.get("examples")
        assert examples, f"{path}: parameter {parameter['name']} has no example"
        value = next(iter(examples.values()))["value"]
        path = path.replace("{" + parameter["name"] + "}", str(value))
    return path


def _example_body(path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """httpx arguments for the documented JSON example body, if the route takes a body."""
    body = operation.get("requestBody")
    if body is None:
        return {}
    content = body["content"]["application/json"]
    assert "example" in content or not body["required"], f"{path}: no example body"
    return {"json": content["example"]} if "example" in content else {}


async def test_every_documented_example_works(
    openapi: dict[str, Any], rest: httpx.AsyncClient
) -> None:
    """What /docs' "Try it out" sends, for every route, answers 2xx (inspecting the pipeline
    after it answered the example, unloading iris last)."""
    operations = [
        (path, method, operation)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
    ]
    operations.sort(key=lambda item: ("/requests/" in item[0], item[0].endswith("/unload")))
    assert {path for path, _, _ in operations} >= set(ROUTES)
    for path, method, operation in operations:
        url = _example_path(path, operation)
        answer = await rest.request(method.upper(), url, **_example_body(path, operation))
        assert 200 <= answer.status_code < 300, (method, url, answer.text)


@pytest.mark.parametrize(("path", "marker"), [("/docs", "swagger-ui"), ("/redoc", "redoc")])
async def test_documentation_pages(rest: httpx.AsyncClient, path: str, marker: str) -> None:
    answer = await rest.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert marker in answer.text
    assert "/openapi.json" in answer.text
