"""Every bad request of the table over REST: the right status, `{"error": ...}` naming the
problem, and the server still live and ready afterwards."""

from __future__ import annotations

import httpx
import pytest

from tests.bad_requests import REST_CASES
from tests.request_forms import BadRequest, send_rest


@pytest.mark.parametrize("case", REST_CASES, ids=lambda case: case.id)
async def test_bad_request(rest: httpx.AsyncClient, case: BadRequest) -> None:
    assert case.rest is not None
    code, message = await send_rest(rest, case.rest)
    assert code == case.status.http, message
    assert case.matches(message), message
    assert (await rest.get("/v2/health/live")).status_code == 200
    assert (await rest.get("/v2/health/ready")).status_code == 200
