"""What both Kafka commands share: their settings, clients, answers' decoding and exit codes."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from app.client.command import exit_code, with_kind
from app.client.errors import ServerUnreachable
from app.grpc.convert import response_from_proto
from app.kafka.connection import client_options
from app.kafka.records import Encoding, Headers, encoding_of, response_message
from app.kafka.settings import KafkaSettings
from app.protocol.codecs.messages import response_from_body
from app.protocol.errors import OIPError
from app.protocol.types import InferenceResponse

Record = Any
"""A consumed record (aiokafka's ConsumerRecord: topic, partition, offset, timestamp, key,
value, headers)."""


class ErrorRecord(OIPError):
    """The request was answered on the errors topic: `source` is what failed."""


def settings_of(options: dict[str, Any]) -> KafkaSettings:
    """The brokers of --kafka, the topics' prefix and namespace if given, the rest (TLS,
    SASL) from the OIPSERVE_KAFKA_* environment."""
    given = {"topic_prefix": options["kafka_topic_prefix"], "namespace": options["kafka_namespace"]}
    kept = {key: value for key, value in given.items() if value is not None}
    return KafkaSettings(bootstrap=options["kafka"], **kept)


def consumer(settings: KafkaSettings) -> AIOKafkaConsumer:
    """A consumer in no group: it reads the partitions it is given, from where it is told."""
    return AIOKafkaConsumer(
        **client_options(settings), group_id=None, enable_auto_commit=False, fetch_max_wait_ms=100
    )


@contextlib.asynccontextmanager
async def started(settings: KafkaSettings, *clients: Any) -> AsyncIterator[None]:
    """The clients started (ServerUnreachable when the brokers cannot be reached), stopped
    at the end."""
    try:
        try:
            for client in clients:
                await client.start()
        except KafkaError as error:
            raise ServerUnreachable(
                f"cannot reach the Kafka brokers at {settings.bootstrap}: {error}"
            ) from None
        yield
    finally:
        for client in clients:
            stop = client.close if isinstance(client, AIOKafkaAdminClient) else client.stop
            with contextlib.suppress(KafkaError):
                await stop()


def response_of(value: bytes, headers: Headers) -> InferenceResponse:
    """An answer record's response, in JSON or protobuf."""
    if encoding_of(value, headers) is Encoding.JSON:
        return response_from_body(value)
    return response_from_proto(response_message(value))


def run(
    command: str,
    work: Coroutine[Any, Any, object],
    describe: Callable[[OIPError], str] | None = None,
) -> int:
    """Run a command: 0 on success, 1 for an error (answered, or the brokers'), 2 for bad
    input. aiokafka's own log lines are left out: the error says what failed."""
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
    return exit_code(command, _brokers_errors(work), describe or _described)


async def _brokers_errors(work: Coroutine[Any, Any, object]) -> None:
    """`work`, the brokers' errors as ServerUnreachable."""
    try:
        await work
    except KafkaError as error:
        raise ServerUnreachable(f"Kafka: {error}") from None


def _described(error: OIPError) -> str:
    """An error record by its message (it names what failed), other errors with their kind."""
    return error.message if isinstance(error, ErrorRecord) else with_kind(error)
