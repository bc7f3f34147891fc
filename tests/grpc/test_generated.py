"""The generated protobuf code matches protos/ (regenerate with `python protos/generate.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_has_not_drifted() -> None:
    result = subprocess.run(
        [sys.executable, "protos/generate.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


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
