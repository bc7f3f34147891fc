"""REST client settings: `RESTConfig`, with KServe's names and defaults (but protocol v2)."""

from __future__ import annotations

import os
import ssl
from enum import Enum
from typing import Any

import certifi
import httpx

PROTOCOLS = ("v1", "v2")

TimeoutTypes = (
    float | None | tuple[float | None, float | None, float | None, float | None] | httpx.Timeout
)
CertTypes = str | os.PathLike[str] | tuple[str, str] | tuple[str, str, str]
VerifyTypes = bool | str | os.PathLike[str] | ssl.SSLContext


def _protocol(protocol: object) -> str:
    value = protocol.value if isinstance(protocol, Enum) else protocol
    if not isinstance(value, str) or value.lower() not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    return value.lower()


class RESTConfig:
    """How an `InferenceRESTClient` talks to its server.

    transport: an httpx transport to send requests through (e.g. `httpx.ASGITransport(app)`);
        TLS and HTTP/2 are then the transport's business.
    protocol: "v2" (Open Inference Protocol) or "v1" (KServe v1: `:predict`, `:explain`).
    retries: how many times to retry a request that failed to connect or got a 503,
        waiting 0.1 s, 0.2 s, 0.4 s, ... (at most 2 s) in between.
    http2: negotiate HTTP/2 (over TLS) when the server offers it.
    timeout: seconds for the whole request, None for no limit, or an `httpx.Timeout`.
    cert: a client certificate for mutual TLS: a PEM file holding certificate and key, or
        (certificate file, key file) or (certificate file, key file, password).
    verify: True (the usual public CAs), False (no verification, for tests only), a CA bundle
        file, or an `ssl.SSLContext`.
    auth: any `httpx.Auth` (or a (user, password) tuple for basic auth).
    verbose: log every request and answer on the "oipserve.client" logger.
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        protocol: str | Enum = "v2",
        retries: int = 3,
        http2: bool = False,
        timeout: TimeoutTypes = 60,
        cert: CertTypes | None = None,
        verify: VerifyTypes = True,
        auth: httpx.Auth | tuple[str, str] | None = None,
        verbose: bool = False,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.transport = transport
        self.protocol = _protocol(protocol)
        self.retries = retries
        self.http2 = http2
        self.timeout = timeout
        self.cert = cert
        self.verify = verify
        self.auth = auth
        self.verbose = verbose

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS settings `verify` and `cert` describe, as one SSL context."""
        verify = self.verify
        if isinstance(verify, ssl.SSLContext):
            context = verify
        elif verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif verify is True:
            context = ssl.create_default_context(cafile=certifi.where())
        elif os.path.isdir(verify):
            context = ssl.create_default_context(capath=verify)
        else:
            context = ssl.create_default_context(cafile=verify)
        cert = self.cert
        if isinstance(cert, tuple):
            context.load_cert_chain(cert[0], cert[1], cert[2] if len(cert) == 3 else None)
        elif cert is not None:
            context.load_cert_chain(cert)
        return context

    def __repr__(self) -> str:
        shown: dict[str, Any] = {
            "protocol": self.protocol,
            "retries": self.retries,
            "http2": self.http2,
            "timeout": self.timeout,
            "verbose": self.verbose,
        }
        return "RESTConfig(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"
