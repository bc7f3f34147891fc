"""The Kafka front's settings: `--kafka-*` flags and `OIPSERVE_KAFKA_*` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.settings import as_environment

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
_TOPIC_PART = r"^[A-Za-z0-9._-]+$"
BATCH_BYTES = 1 << 18
"""The default most bytes of answers written to one partition at once. aiokafka writes one
batch per partition at a time and its default (16 KB) holds about 70 small answers, so under
load the workers waited for a write's acknowledgement to append theirs: 256 KB, 1.2x the
records per second (bench.kafka), under the brokers' default limit of 1 MB per batch."""


class KafkaSettings(BaseSettings):
    """Where the broker is, which topics to read and write, how to commit and connect; every
    field is also an `OIPSERVE_KAFKA_<FIELD>` environment variable. The SASL user and
    password are read from the environment only."""

    model_config = SettingsConfigDict(env_prefix="OIPSERVE_KAFKA_", extra="ignore")

    bootstrap: str | None = Field(
        None, description="host:port[,host:port...] of the brokers; unset: no Kafka front."
    )
    topic_prefix: str = Field("seldon", pattern=_TOPIC_PART)
    namespace: str = Field("default", pattern=_TOPIC_PART)
    group_id: str | None = Field(
        None, description="The consumer group of this deployment (default oipserve-<namespace>)."
    )
    max_in_flight: int = Field(
        32, ge=1, description="Records of one partition answered at once, at most."
    )
    step_topics: bool = Field(
        False, description="Write each pipeline step's answer to model.<step>.outputs."
    )
    session_timeout_ms: int = Field(
        10_000, ge=1000, description="How long the group waits for a silent member."
    )
    batch_bytes: int = Field(
        BATCH_BYTES,
        ge=1024,
        description="The most bytes of answers written to a partition at once: keep it under "
        "the brokers' (or the topics') max.message.bytes.",
    )
    security_protocol: SecurityProtocol = "PLAINTEXT"
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    sasl_mechanism: SaslMechanism = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None

    @property
    def group(self) -> str:
        return self.group_id or f"oipserve-{self.namespace}"

    def environment(self) -> dict[str, str]:
        """These settings as the variables that give them to a worker process (the SASL
        user and password travel in the environment they came from)."""
        values = self.model_dump(mode="json", exclude={"sasl_username", "sasl_password"})
        return as_environment(values, "OIPSERVE_KAFKA_")
