"""NVIDIA's tritonclient, over HTTP or gRPC:
`python -m tests.interop.clients.triton HOST:PORT http-binary|http-json|grpc-raw`
(its gRPC client always sends raw_input_contents)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import tritonclient.grpc
import tritonclient.http
from tritonclient.utils import InferenceServerException

from tests.interop.clients import common


class Triton:
    """One tritonclient (HTTP or gRPC; the two share their API) and the request it sends."""

    def __init__(self, target: str, mode: str) -> None:
        self.grpc = mode.startswith("grpc")
        self.module: ModuleType = tritonclient.grpc if self.grpc else tritonclient.http
        self.binary = mode in {"http-binary", "grpc-raw"}
        self.client = self.module.InferenceServerClient(target)

    def infer(self, model: str = common.MODEL, datatype: str = "FP32", version: str = "") -> Any:
        data = common.rows(datatype)
        tensor = self.module.InferInput(common.INPUT, list(data.shape), datatype)
        if self.grpc:
            tensor.set_data_from_numpy(data)
            wanted = self.module.InferRequestedOutput(common.OUTPUT)
        else:
            tensor.set_data_from_numpy(data, binary_data=self.binary)
            wanted = self.module.InferRequestedOutput(common.OUTPUT, binary_data=self.binary)
        return self.client.infer(
            model, [tensor], model_version=version, outputs=[wanted], request_id=common.REQUEST_ID
        )

    def failure(self, error: InferenceServerException) -> dict[str, Any]:
        """HTTP: the status code; gRPC: the code name (tritonclient gives `StatusCode.X`)."""
        status = str(error.status())
        return common.failure(
            status.removeprefix("StatusCode.") if self.grpc else int(status), error.message()
        )

    def error_of(self, **request: str) -> Any:
        try:
            self.infer(**request)
        except InferenceServerException as error:
            return self.failure(error)
        return None

    def model_ready(self, model: str) -> Any:
        """Model readiness; over gRPC an unknown model is the server's NOT_FOUND."""
        try:
            return self.client.is_model_ready(model)
        except InferenceServerException as error:
            return self.failure(error)

    def metadata(self) -> dict[str, Any]:
        extra = {"as_json": True} if self.grpc else {}
        return {
            "server_metadata": self.client.get_server_metadata(**extra),
            "model_metadata": self.client.get_model_metadata(common.MODEL, **extra),
        }

    def output(self, result: Any) -> dict[str, Any]:
        """What came back: probabilities, datatype, id, and whether the output was binary."""
        response = result.get_response()
        if self.grpc:
            output, binary = response.outputs[0], len(response.raw_output_contents) == 1
            datatype, id_ = output.datatype, response.id
        else:
            output = response["outputs"][0]
            binary = "binary_data_size" in output.get("parameters", {})
            datatype, id_ = output["datatype"], response.get("id")
        return {
            "probabilities": result.as_numpy(common.OUTPUT),
            "datatype": datatype,
            "binary_output": binary,
            "id": id_,
        }


def main() -> None:
    options = common.arguments(["http-binary", "http-json", "grpc-raw"])
    triton = Triton(options.target, options.mode)
    client = triton.client
    common.report(
        live=client.is_server_live(),
        ready=client.is_server_ready(),
        model_ready=client.is_model_ready(common.MODEL),
        unknown_model_ready=triton.model_ready(common.UNKNOWN_MODEL),
        **triton.metadata(),
        **triton.output(triton.infer()),
        unknown_model=triton.error_of(model=common.UNKNOWN_MODEL),
        unknown_version=triton.error_of(version="999"),
        bad_request=triton.error_of(datatype=common.WRONG_DATATYPE),
        ready_after=client.is_server_ready(),
    )
    client.close()


if __name__ == "__main__":
    main()
