"""deploy/: the Kubernetes manifests are valid, agree with the image and the server, and
their probes, called the way the kubelet calls them, say what they should."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import grpc
import httpx
import kubernetes_validate
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from app import __version__
from app.server import Server
from app.settings import ServerSettings
from tests.deploy.dockerfile import instruction
from tests.process import ROOT

HTTP_PROBES = ROOT / "deploy" / "oipserve.yaml"
GRPC_PROBES = ROOT / "deploy" / "oipserve-grpc-probes.yaml"
MANIFESTS = [HTTP_PROBES, GRPC_PROBES]
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
HTTP_PORT = ServerSettings.model_fields["http_port"].default
GRPC_PORT = ServerSettings.model_fields["grpc_port"].default
Resource = dict[str, Any]


def resources(path: Path) -> dict[str, Resource]:
    """The manifest's resources by kind."""
    found = {document["kind"]: document for document in yaml.safe_load_all(path.read_text())}
    assert set(found) == {"Deployment", "Service"}
    return found


def container(path: Path) -> Resource:
    (only,) = resources(path)["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only  # type: ignore[no-any-return]  # parsed YAML


def container_port(spec: Resource, port: int | str) -> int:
    """A probe's port as a container port number (probes may name ports)."""
    if isinstance(port, int):
        return port
    named = {entry["name"]: entry["containerPort"] for entry in spec["ports"]}
    return named[port]  # type: ignore[no-any-return]  # parsed YAML


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
@pytest.mark.parametrize("version", ["1.27.0", kubernetes_validate.latest_version()])
def test_manifest_is_valid_kubernetes(path: Path, version: str) -> None:
    """Strict schema validation (unknown fields are errors), from the first version with
    gRPC probes (1.27) to the newest the validator knows."""
    for resource in resources(path).values():
        kubernetes_validate.validate(resource, version, strict=True)


def test_grpc_variant_differs_only_in_probes() -> None:
    def without_probes(path: Path) -> dict[str, Resource]:
        found = copy.deepcopy(resources(path))
        (spec,) = found["Deployment"]["spec"]["template"]["spec"]["containers"]
        assert set(PROBES) <= set(spec)
        for probe in PROBES:
            del spec[probe]
        return found

    assert without_probes(HTTP_PROBES) == without_probes(GRPC_PROBES)
    assert all("httpGet" in container(HTTP_PROBES)[probe] for probe in PROBES)
    assert all("grpc" in container(GRPC_PROBES)[probe] for probe in PROBES)


def test_ports_are_the_servers_and_the_service_reaches_them() -> None:
    found = resources(HTTP_PROBES)
    spec = container(HTTP_PROBES)
    ports = {entry["name"]: entry["containerPort"] for entry in spec["ports"]}
    assert ports == {"http": HTTP_PORT, "grpc": GRPC_PORT}
    assert instruction("EXPOSE").words() == [str(port) for port in ports.values()]
    service = found["Service"]["spec"]
    assert {entry["targetPort"] for entry in service["ports"]} == set(ports)
    pod_labels = found["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= pod_labels.items()


def test_pod_runs_this_versions_image_command_as_its_user() -> None:
    deployment = resources(HTTP_PROBES)["Deployment"]["spec"]["template"]["spec"]
    user, group = instruction("USER").arguments.split(":")
    assert deployment["securityContext"]["runAsNonRoot"] is True
    assert deployment["securityContext"]["runAsUser"] == int(user)
    assert deployment["securityContext"]["runAsGroup"] == int(group)
    assert container(HTTP_PROBES)["args"] == instruction("CMD").exec_form()
    assert container(HTTP_PROBES)["image"] == f"oipserve:{__version__}"


def test_termination_grace_covers_prestop_and_the_servers_own_drain_and_grace() -> None:
    deployment = resources(HTTP_PROBES)["Deployment"]["spec"]["template"]["spec"]
    pre_stop = container(HTTP_PROBES)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    fields = ServerSettings.model_fields
    server = fields["drain_seconds"].default + fields["grace_seconds"].default
    assert deployment["terminationGracePeriodSeconds"] > int(pre_stop[1]) + server


async def probe_passes(server: Server, spec: Resource, probe: Resource) -> bool:
    """Call a probe as the kubelet does: HTTP passes on 200-399, gRPC on SERVING."""
    local = {HTTP_PORT: server.http_port, GRPC_PORT: server.grpc_port}
    if "httpGet" in probe:
        port = local[container_port(spec, probe["httpGet"]["port"])]
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}{probe['httpGet']['path']}")
        return 200 <= answer.status_code < 400
    port = local[container_port(spec, probe["grpc"]["port"])]
    request = health_pb2.HealthCheckRequest(service=probe["grpc"].get("service", ""))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(request)
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


async def probe_results(server: Server, path: Path) -> dict[str, bool]:
    spec = container(path)
    return {name: await probe_passes(server, spec, spec[name]) for name in PROBES}


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
async def test_every_probe_passes_on_a_ready_server(path: Path, server: Server) -> None:
    assert await probe_results(server, path) == dict.fromkeys(PROBES, True)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
async def test_a_failed_model_keeps_the_pod_alive_but_unready(
    path: Path, broken_server: Server
) -> None:
    assert await probe_results(broken_server, path) == {
        "startupProbe": True,
        "livenessProbe": True,
        "readinessProbe": False,
    }


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
async def test_readiness_fails_once_shutdown_begins(path: Path, server: Server) -> None:
    server.dataplane.mark_stopping()
    results = await probe_results(server, path)
    assert results["readinessProbe"] is False
    assert results["livenessProbe"] is True
