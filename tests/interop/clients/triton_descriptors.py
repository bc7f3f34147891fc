"""The protobuf descriptors that Triton compatibility rests on, as JSON-friendly rows:
`python -m tests.interop.clients.triton_descriptors` prints tritonclient's. (tritonclient's
messages share the `inference` package with ours, so the two cannot be imported into one
process: the test compares this output with `rows` of our generated module.)"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

MESSAGES = [
    "RepositoryIndexRequest",
    "RepositoryIndexResponse",
    "RepositoryModelLoadRequest",
    "RepositoryModelLoadResponse",
    "RepositoryModelUnloadRequest",
    "RepositoryModelUnloadResponse",
    "ModelRepositoryParameter",
    "ModelStatisticsRequest",
    "ModelStatisticsResponse",
    "ModelStatistics",
    "InferStatistics",
    "InferBatchStatistics",
    "StatisticDuration",
    "ModelConfigRequest",
    "ModelConfigResponse",
    "ModelConfig",
    "ModelInput",
    "ModelOutput",
    "ModelParameter",
]
"""The messages of the repository, statistics and model configuration extensions."""
ENUMS = ["DataType"]
METHODS = ["RepositoryIndex", "RepositoryModelLoad", "RepositoryModelUnload"]
METHODS += ["ModelStatistics", "ModelConfig"]


def _fields(message: Any, prefix: str, out: dict[str, list[Any]]) -> None:
    for field in message.fields:
        kind = field.message_type or field.enum_type
        row = [field.number, field.type, field.is_repeated, kind.full_name if kind else ""]
        out[f"{prefix}{message.name}.{field.name}"] = row
    for nested in message.nested_types:
        _fields(nested, f"{prefix}{message.name}.", out)


def rows(files: Iterable[Any]) -> dict[str, list[Any]]:
    """Field (number, type, repeated, message or enum type), enum value numbers and RPC types
    of MESSAGES, ENUMS and METHODS found in the file descriptors `files`."""
    out: dict[str, list[Any]] = {}
    for file in files:
        for name in MESSAGES:
            if name in file.message_types_by_name:
                _fields(file.message_types_by_name[name], "", out)
        for name in ENUMS:
            if name in file.enum_types_by_name:
                for value in file.enum_types_by_name[name].values:
                    out[f"{name}.{value.name}"] = [value.number]
        for service in file.services_by_name.values():
            for method in service.methods:
                if method.name in METHODS:
                    types = [method.input_type.full_name, method.output_type.full_name]
                    out[f"{service.full_name}/{method.name}"] = types
    return out


def main() -> None:
    import tritonclient.grpc.model_config_pb2 as model_config
    import tritonclient.grpc.service_pb2 as service

    print(json.dumps(rows([service.DESCRIPTOR, model_config.DESCRIPTOR])))


if __name__ == "__main__":
    main()
