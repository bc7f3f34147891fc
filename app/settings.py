"""Server settings: the flags and OIPSERVE_* environment variables (per-model settings are
app.model_settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_MB = 1024 * 1024


class ServerSettings(BaseSettings):
    """How the server runs; every field is also an `OIPSERVE_<FIELD>` environment variable."""

    model_config = SettingsConfigDict(env_prefix="OIPSERVE_", extra="ignore")

    model_repository: Path = Path("models")
    host: str = "0.0.0.0"
    http_port: int = Field(8080, ge=0, le=65535)
    grpc_port: int = Field(8081, ge=0, le=65535)
    metrics_port: int | None = Field(
        None, ge=0, le=65535, description="Also serve /metrics on this port (0 picks one)."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    log_requests: bool = Field(False, description="Log one line per inference request at info.")
    inspect_requests: int = Field(
        0, ge=0, description="Keep the step tensors of the last N pipeline requests (0: none)."
    )
    server_name: str = Field("oipserve", min_length=1)
    load_models: str = Field(
        "all", description="Models to load at start: 'all', 'none' or a comma-separated list."
    )
    ready_when: str = Field(
        "all",
        description="Server readiness: 'all' (every model and pipeline loaded at start is "
        "ready), 'any' (one is), or a comma-separated list of those that must be "
        "(pipelines as 'name.pipeline').",
    )
    drain_seconds: float = Field(
        5.0, ge=0, description="After SIGTERM: keep serving this long while readiness is 503."
    )
    grace_seconds: float = Field(
        10.0, ge=0, description="Then: how long in-flight requests (and unloads) may take."
    )

    http_max_body_mb: float = Field(64, gt=0, description="REST request bodies beyond are 413s")
    grpc_max_message_mb: float = Field(
        64,
        gt=0,
        le=2047,  # gRPC holds the limit in a 32-bit integer of bytes
        description="gRPC messages beyond are RESOURCE_EXHAUSTED, both ways",
    )
    workers: int = Field(
        1, ge=1, description="Server processes on the same ports (SO_REUSEPORT), supervised."
    )
    reuse_port: bool = Field(
        False, description="Bind the ports with SO_REUSEPORT (what --workers sets in each worker)."
    )
    peers_dir: Path | None = Field(
        None,
        description="Where the workers of one --workers server find each other (set by it).",
    )
    gzip_min_bytes: int = Field(
        1000, ge=0, description="gzip REST answers of this many bytes or more (0: never)"
    )
    cors_origins: str = Field(
        "", description="Origins CORS allows, comma-separated ('*': any; empty: CORS off)"
    )
    tune_malloc: bool = Field(
        True, description="keep large tensor buffers in glibc's heap (see app.memory)"
    )

    @model_validator(mode="after")
    def _ports_differ(self) -> ServerSettings:
        """The gRPC port is not the REST or metrics port (0 picks a free one each)."""
        for other, name in ((self.http_port, "http_port"), (self.metrics_port, "metrics_port")):
            if other and other == self.grpc_port:
                raise ValueError(f"grpc_port and {name} are both {other}: they must differ")
        return self

    @property
    def http_max_body_bytes(self) -> int:
        return int(self.http_max_body_mb * _MB)

    @property
    def grpc_max_message_bytes(self) -> int:
        return int(self.grpc_max_message_mb * _MB)

    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    def required_for_readiness(self) -> list[str] | None:
        """What `ready_when` asks for: None for all, [] for any, else the names."""
        choice = self.ready_when.strip()
        if choice == "all":
            return None
        if choice == "any":
            return []
        return [name.strip() for name in choice.split(",") if name.strip()]

    def startup_models(self) -> list[str] | None:
        """The models `load_models` names: None for all, [] for none."""
        choice = self.load_models.strip()
        if choice == "all":
            return None
        if choice == "none":
            return []
        return [name.strip() for name in choice.split(",") if name.strip()]


def as_environment(values: dict[str, Any], prefix: str) -> dict[str, str]:
    """Settings' values (a JSON dump) as the variables that give them to a worker process:
    `<prefix><NAME>`, booleans as true and false, unset values left out."""
    return {
        f"{prefix}{name.upper()}": ("true" if value else "false")
        if isinstance(value, bool)
        else str(value)
        for name, value in values.items()
        if value is not None
    }
