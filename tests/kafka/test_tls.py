"""The Kafka front over TLS: the test broker behind a TLS proxy that requires a client
certificate. The server's CA file, certificate and key reach aiokafka and carry a request and
its answer; a server that does not trust the brokers' authority, or shows no certificate,
stops at start with one clear error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import trustme

from tests.kafka.broker import Reader, free_port, producer, running_broker, serving
from tests.kafka.tls import Credentials, issue, tls_proxy
from tests.repo import add_model

INPUTS = "seldon.default.model.linear.inputs"
OUTPUTS = "seldon.default.model.linear.outputs"
REQUEST = orjson.dumps(
    {"inputs": [{"name": "input-0", "datatype": "FP64", "shape": [1, 2], "data": [1.0, 1.0]}]}
)


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_broker(authority: trustme.CA) -> AsyncIterator[str]:
    """The bootstrap address of the broker, reachable only over TLS."""
    port = free_port()
    with running_broker(advertised_port=port) as plaintext:
        async with tls_proxy(authority, port, plaintext) as bootstrap:
            yield bootstrap


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    add_model(folder, "linear", "tests.toys:Linear", parameters={"weights": [1.0, 2.0]})
    return folder


def _tls(credentials: Credentials) -> dict[str, Any]:
    return {"security_protocol": "SSL", "ssl_context": credentials.context()}


async def test_requests_and_answers_travel_over_tls_with_the_settings_files(
    tls_broker: str, authority: trustme.CA, repository: Path, tmp_path: Path
) -> None:
    server_files = issue(authority, tmp_path / "server", "oipserve")
    server = serving(
        repository,
        tls_broker,
        security_protocol="SSL",
        ssl_cafile=server_files.ca,
        ssl_certfile=server_files.cert,
        ssl_keyfile=server_files.key,
    )
    await server.start()
    client = _tls(issue(authority, tmp_path / "client", "client"))
    try:
        async with Reader(tls_broker, [OUTPUTS], options=client) as reader:
            sending = await producer(tls_broker, **client)
            try:
                await sending.send_and_wait(INPUTS, REQUEST, key=b"over-tls")
            finally:
                await sending.stop()
            (answer,) = await reader.wait("over-tls")
    finally:
        await server.stop(grace=2)
    assert answer.topic == OUTPUTS
    assert orjson.loads(answer.value)["outputs"][0]["data"] == [3.0]


@pytest.mark.parametrize("trusted", [False, True], ids=["other-authority", "no-certificate"])
async def test_a_server_the_brokers_refuse_or_do_not_prove_themselves_to_stops_at_start(
    tls_broker: str, authority: trustme.CA, repository: Path, tmp_path: Path, trusted: bool
) -> None:
    if trusted:  # the brokers' authority, but no client certificate to show
        files = issue(authority, tmp_path / "server", "oipserve")
        tls: dict[str, Any] = {"ssl_cafile": files.ca}
    else:  # a certificate of its own, and an authority that did not sign the brokers'
        files = issue(trustme.CA(), tmp_path / "server", "oipserve")
        tls = {"ssl_cafile": files.ca, "ssl_certfile": files.cert, "ssl_keyfile": files.key}
    server = serving(repository, tls_broker, security_protocol="SSL", **tls)
    try:
        with pytest.raises(OSError, match=f"cannot reach the Kafka brokers at {tls_broker}"):
            await server.start()
    finally:
        await server.stop(grace=1)
