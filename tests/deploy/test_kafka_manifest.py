"""deploy/oipserve-kafka.yaml: valid Kubernetes, the same pod as deploy/oipserve.yaml plus the
Kafka front's settings, each a real setting, with the SASL credentials and CA from a Secret."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest
import yaml

from app.kafka.settings import KafkaSettings
from tests.process import ROOT

KAFKA = ROOT / "deploy" / "oipserve-kafka.yaml"
PLAIN = ROOT / "deploy" / "oipserve.yaml"


def _resources(path: Any) -> dict[str, dict[str, Any]]:
    return {document["kind"]: document for document in yaml.safe_load_all(path.read_text())}


def _container(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (only,) = resources["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only  # type: ignore[no-any-return]  # parsed YAML


@pytest.mark.parametrize("version", ["1.27.0", kubernetes_validate.latest_version()])
def test_the_manifest_is_valid_kubernetes(version: str) -> None:
    for resource in _resources(KAFKA).values():
        kubernetes_validate.validate(resource, version, strict=True)


def test_every_variable_is_a_kafka_setting_and_the_secrets_come_from_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment = _container(_resources(KAFKA))["env"]
    for variable in environment:
        name = variable["name"]
        assert name.startswith("OIPSERVE_KAFKA_")
        assert name.removeprefix("OIPSERVE_KAFKA_").lower() in KafkaSettings.model_fields
        monkeypatch.setenv(name, variable.get("value", "from-the-secret"))
        if "SASL" in name and "MECHANISM" not in name:
            assert variable["valueFrom"]["secretKeyRef"]["name"] == "oipserve-kafka"
    settings = KafkaSettings()
    assert settings.bootstrap
    assert settings.security_protocol == "SASL_SSL"
    assert settings.sasl_password is not None
    mounts = {m["mountPath"] for m in _container(_resources(KAFKA))["volumeMounts"]}
    assert settings.ssl_cafile is not None
    assert str(settings.ssl_cafile.parent) in mounts


def test_the_pod_is_the_plain_manifests_plus_kafka() -> None:
    kafka, plain = _resources(KAFKA), _resources(PLAIN)
    pod = copy.deepcopy(kafka["Deployment"]["spec"]["template"]["spec"])
    (container,) = pod["containers"]
    del container["env"]
    container["volumeMounts"] = container["volumeMounts"][:1]
    pod["volumes"] = pod["volumes"][:1]
    assert pod == plain["Deployment"]["spec"]["template"]["spec"]
    assert kafka["Deployment"]["spec"]["replicas"] > 1
