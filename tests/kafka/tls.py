"""TLS in front of the test broker, which speaks only plaintext: a proxy on 127.0.0.1 that
takes TLS connections (with a certificate of the test authority, and requiring clients to
show one of theirs) and passes the bytes both ways to the broker, which advertises the
proxy's port, so that every client connection goes through it."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Credentials:
    """The files a TLS client of the proxy takes: the authority, its certificate and key."""

    ca: Path
    cert: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(str(self.cert), str(self.key))
        return context


def issue(authority: trustme.CA, folder: Path, name: str) -> Credentials:
    """The authority's file and a client certificate of it, written under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, cert, key = folder / "ca.pem", folder / f"{name}.pem", folder / f"{name}.key"
    authority.cert_pem.write_to_path(str(ca))
    issued = authority.issue_cert(f"{name}@example.org")
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return Credentials(ca, cert, key)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def tls_proxy(authority: trustme.CA, port: int, broker: str) -> AsyncIterator[str]:
    """TLS on 127.0.0.1:`port` in front of `broker` (host:port); its address."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    authority.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    host, broker_port = broker.rsplit(":", 1)
    pipes: set[asyncio.Task[None]] = set()

    async def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(broker_port))
        for pipe in (_pipe(reader, upstream_writer), _pipe(upstream_reader, writer)):
            task = asyncio.create_task(pipe)
            pipes.add(task)
            task.add_done_callback(pipes.discard)

    server = await asyncio.start_server(connect, "127.0.0.1", port, ssl=context)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.close()
        for task in list(pipes):
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
