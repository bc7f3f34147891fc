"""KServe's own InferenceRESTClient with protocol="v1" against oipserve (in its own process,
as the other third-party clients): liveness, readiness, `:predict` with instances and with an
InferRequest, `:explain`, and a 404 for an unknown model."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from tests.interop.clients.common import REQUEST_ID, UNKNOWN_MODEL
from tests.payloads import IRIS_CLASSES, iris_request
from tests.process import ServerProcess, python

pytestmark = pytest.mark.slow


def test_kserves_v1_client(bundled: ServerProcess) -> None:
    script = "tests.interop.clients.kserve_v1"
    seen = json.loads(python("-m", script, f"127.0.0.1:{bundled.http_port}", "v1"))
    v2 = httpx.post(f"{bundled.url}/v2/models/iris/infer", json=iris_request()).json()
    expected = np.array(v2["outputs"][0]["data"]).reshape(2, 3)
    assert (seen["live"], seen["ready"]) == (True, True)
    for answer in (seen["predict"], seen["predict_v2_tensors"]):
        np.testing.assert_allclose(answer["predictions"], expected, rtol=1e-6)
        assert np.argmax(answer["predictions"], axis=1).tolist() == IRIS_CLASSES
    assert seen["request_id"]
    assert seen["request_id"] != REQUEST_ID  # the instances body carries no id
    explanation = seen["explain"]
    assert explanation["meta"]["name"] == "occlusion"
    assert np.array(explanation["data"]["prediction"]) == pytest.approx(expected, rel=1e-6)
    assert np.array(explanation["data"]["attributions"]).shape == (2, 4, 3)
    assert seen["unknown"] == {
        "status": 404,
        "message": f'{{"error":"model \'{UNKNOWN_MODEL}\' not found"}}',
    }
