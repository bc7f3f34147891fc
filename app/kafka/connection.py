"""How the front, the commands and the bench connect to the brokers: the aiokafka options
that the settings give (TLS and SASL included)."""

from __future__ import annotations

from typing import Any

from app.kafka.settings import KafkaSettings


def client_options(settings: KafkaSettings) -> dict[str, Any]:
    """The keyword arguments every aiokafka client of these settings takes. ValueError when
    SASL is asked for without a user and password, or TLS files are missing."""
    from aiokafka.helpers import create_ssl_context

    protocol = settings.security_protocol
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap,
        "security_protocol": protocol,
    }
    if protocol in ("SSL", "SASL_SSL"):
        files = [settings.ssl_cafile, settings.ssl_certfile, settings.ssl_keyfile]
        missing = [str(path) for path in files if path is not None and not path.is_file()]
        if missing:
            raise ValueError(f"Kafka TLS: {missing[0]} is not a file")
        options["ssl_context"] = create_ssl_context(
            cafile=settings.ssl_cafile, certfile=settings.ssl_certfile, keyfile=settings.ssl_keyfile
        )
    if protocol.startswith("SASL"):
        if settings.sasl_username is None or settings.sasl_password is None:
            raise ValueError(
                f"Kafka {protocol} needs OIPSERVE_KAFKA_SASL_USERNAME and "
                "OIPSERVE_KAFKA_SASL_PASSWORD in the environment"
            )
        options.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=settings.sasl_password.get_secret_value(),
        )
    return options
