"""The generated protobuf code matches protos/ (regenerate with `python protos/generate.py`),
and the extension messages match tritonclient's, so Triton's tools keep working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.grpc.generated import open_inference_pb2 as pb
from tests.interop.clients.triton_descriptors import ENUMS, MESSAGES, METHODS, rows
from tests.process import python

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_has_not_drifted() -> None:
    python("protos/generate.py", "--check", timeout=60)


def test_the_service_has_every_oip_rpc() -> None:
    from app.grpc.service import SERVICE

    assert SERVICE.full_name == "inference.GRPCInferenceService"
    assert {
        "ServerLive",
        "ServerReady",
        "ModelReady",
        "ServerMetadata",
        "ModelMetadata",
        "ModelInfer",
    } <= {method.name for method in SERVICE.methods}


@pytest.mark.slow
def test_the_extension_messages_match_tritonclients() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.interop.clients.triton_descriptors"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    triton = json.loads(done.stdout)
    ours = rows([pb.DESCRIPTOR])
    named = {key.split("/")[-1] if "/" in key else key.split(".")[0] for key in ours}
    empty = {"RepositoryModelLoadResponse", "RepositoryModelUnloadResponse"}
    assert named == {*MESSAGES, *ENUMS, *METHODS} - empty
    differ = {key: (row, triton.get(key)) for key, row in ours.items() if triton.get(key) != row}
    assert not differ  # ours may leave fields out (ModelConfig has fewer), never differ
    partial = {"ModelStatistics", "ModelConfig", "ModelInput", "ModelOutput"}
    for name in {*MESSAGES, *ENUMS} - partial:  # these have every field tritonclient's have
        theirs = {key for key in triton if key.startswith(name + ".")}
        assert theirs == {key for key in ours if key.startswith(name + ".")}, name
