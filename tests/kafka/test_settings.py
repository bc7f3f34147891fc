"""The Kafka settings: defaults, the environment, what workers inherit, and the aiokafka
options for each security protocol."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from app.kafka.connection import client_options
from app.kafka.settings import KafkaSettings


def test_defaults_follow_seldon_and_the_group_names_the_namespace() -> None:
    settings = KafkaSettings(namespace="prod")
    assert (settings.bootstrap, settings.topic_prefix) == (None, "seldon")
    assert settings.group == "oipserve-prod"
    assert KafkaSettings(group_id="mine").group == "mine"


def test_settings_come_from_the_environment_and_go_to_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OIPSERVE_KAFKA_BOOTSTRAP", "broker:9092")
    monkeypatch.setenv("OIPSERVE_KAFKA_STEP_TOPICS", "true")
    monkeypatch.setenv("OIPSERVE_KAFKA_SASL_PASSWORD", "secret")
    monkeypatch.setenv("OIPSERVE_KAFKA_BATCH_BYTES", "65536")
    settings = KafkaSettings(max_in_flight=4)
    assert settings.bootstrap == "broker:9092"
    assert settings.step_topics
    assert settings.batch_bytes == 65536
    environment = settings.environment()
    assert environment["OIPSERVE_KAFKA_BOOTSTRAP"] == "broker:9092"
    assert environment["OIPSERVE_KAFKA_MAX_IN_FLIGHT"] == "4"
    assert environment["OIPSERVE_KAFKA_STEP_TOPICS"] == "true"
    assert environment["OIPSERVE_KAFKA_BATCH_BYTES"] == "65536"
    assert "OIPSERVE_KAFKA_SASL_PASSWORD" not in environment  # inherited, never written out


@pytest.mark.parametrize(
    "bad", [{"topic_prefix": "a b"}, {"namespace": ""}, {"max_in_flight": 0}, {"batch_bytes": 100}]
)
def test_bad_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        KafkaSettings(**bad)  # type: ignore[arg-type]  # a bad value on purpose


def test_plaintext_passes_the_brokers_only() -> None:
    assert client_options(KafkaSettings(bootstrap="b:1")) == {
        "bootstrap_servers": "b:1",
        "security_protocol": "PLAINTEXT",
    }


def test_sasl_ssl_passes_a_tls_context_and_the_credentials(tmp_path: Path) -> None:
    authority = trustme.CA()
    ca = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca))
    settings = KafkaSettings(
        bootstrap="b:1",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="user",
        sasl_password="pass",
        ssl_cafile=ca,
    )
    options = client_options(settings)
    assert isinstance(options.pop("ssl_context"), ssl.SSLContext)
    assert options == {
        "bootstrap_servers": "b:1",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "user",
        "sasl_plain_password": "pass",
    }


def test_sasl_without_credentials_or_tls_without_its_files_says_what_is_missing(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="OIPSERVE_KAFKA_SASL_USERNAME"):
        client_options(KafkaSettings(bootstrap="b:1", security_protocol="SASL_PLAINTEXT"))
    missing = tmp_path / "nope.pem"
    with pytest.raises(ValueError, match=r"nope\.pem is not a file"):
        client_options(KafkaSettings(bootstrap="b:1", security_protocol="SSL", ssl_cafile=missing))
