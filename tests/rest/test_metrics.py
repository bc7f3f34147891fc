"""GET /metrics over REST, in process."""

from __future__ import annotations

import httpx

from tests.payloads import iris_request
from tests.test_metrics import labels, scrape


async def test_metrics_count_rest_requests_by_outcome(rest: httpx.AsyncClient) -> None:
    for _ in range(3):
        await rest.post("/v2/models/iris/infer", json=iris_request())
    await rest.post("/v2/models/iris/infer", content=b"{")
    await rest.post("/v2/models/failing/infer", json={"inputs": []})
    await rest.post("/v2/models/nope/infer", json=iris_request())
    answer = await rest.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = scrape(answer.text)
    counts = {
        (dict(found)["model"], dict(found)["version"], dict(found)["outcome"]): value
        for (name, found), value in samples.items()
        if name == "oipserve_requests_total" and dict(found)["protocol"] == "rest"
    }
    assert counts == {
        ("iris", "1", "success"): 3,
        ("iris", "", "invalid_argument"): 1,
        ("failing", "1", "internal"): 1,
        ("", "", "not_found"): 1,
    }
    ok = labels(model="iris", version="1", protocol="rest", outcome="success")
    assert samples["oipserve_request_duration_seconds_count", ok] == 3
