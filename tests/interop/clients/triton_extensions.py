"""NVIDIA's tritonclient's health, repository, statistics and model-config calls over HTTP
and gRPC against a running server; prints what they returned as JSON:
`python -m tests.interop.clients.triton_extensions HTTP_HOST:PORT GRPC_HOST:PORT`
(it unloads and loads iris: give it a server of its own)."""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def _iris_inputs(module: Any) -> list[Any]:
    tensor = module.InferInput("input-0", [1, 4], "FP32")
    tensor.set_data_from_numpy(np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32))
    return [tensor]


def _errors(call: Any) -> str:
    try:
        call()
    except InferenceServerException as error:
        return str(error.message())
    return "no error"


def http_calls(url: str) -> dict[str, Any]:
    client = httpclient.InferenceServerClient(url)
    found: dict[str, Any] = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready("iris"),
        "extensions": client.get_server_metadata()["extensions"],
        "index": client.get_model_repository_index(),
    }
    client.unload_model("iris")
    found["ready_after_unload"] = client.is_model_ready("iris")
    found["index_after_unload"] = client.get_model_repository_index()
    client.load_model("iris")
    found["ready_after_load"] = client.is_model_ready("iris")
    client.infer("iris", _iris_inputs(httpclient), request_id="t-1")
    found["statistics"] = client.get_inference_statistics("iris")
    found["statistics_v1"] = client.get_inference_statistics("iris", "1")
    found["config"] = client.get_model_config("iris")
    found["load_error"] = _errors(lambda: client.load_model("nope"))
    return found


def grpc_calls(url: str) -> dict[str, Any]:
    client = grpcclient.InferenceServerClient(url)
    found: dict[str, Any] = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready("iris"),
        "extensions": list(client.get_server_metadata().extensions),
        "index": client.get_model_repository_index(as_json=True),
    }
    client.unload_model("iris")
    found["ready_after_unload"] = client.is_model_ready("iris")
    client.load_model("iris")
    found["ready_after_load"] = client.is_model_ready("iris")
    client.infer("iris", _iris_inputs(grpcclient), request_id="t-2")
    found["statistics"] = client.get_inference_statistics("iris", as_json=True)
    found["config"] = client.get_model_config("iris", as_json=True)
    found["load_error"] = _errors(lambda: client.load_model("nope"))
    client.close()
    return found


if __name__ == "__main__":
    print(json.dumps({"http": http_calls(sys.argv[1]), "grpc": grpc_calls(sys.argv[2])}))
