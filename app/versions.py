"""A model version and where it stands (`ModelState`): its settings, its loaded predictor and
the plan it is called through, its statistics, and the requests it is answering, which an
unload waits for; and how it loads and unloads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum

from app.client.interface import InferenceClient
from app.model_settings import ModelSettings
from app.plans import Calls, Plan
from app.predictors.base import MODEL_FAILURES, Predictor, call
from app.predictors.loader import build_predictor
from app.resolver import Target
from app.stats import VersionStats

log = logging.getLogger("oipserve.registry")


class ModelState(StrEnum):
    LOADING = "LOADING"
    READY = "READY"
    UNLOADING = "UNLOADING"
    UNAVAILABLE = "UNAVAILABLE"


@dataclass(eq=False)
class ModelVersion:
    """One version of a model, where it stands, and the requests it is answering."""

    name: str
    version: str
    state: ModelState = ModelState.LOADING
    reason: str = ""
    predictor: Predictor | None = None
    settings: ModelSettings | None = field(default=None, repr=False)
    stats: VersionStats = field(default_factory=VersionStats, repr=False)
    load_seconds: float = 0.0
    required: bool = False
    """Readiness waits for this version (loaded at start-up, or replacing one that was)."""
    inflight: int = 0
    plan: Calls | None = field(default=None, repr=False)
    """How the DataPlane calls it: made when it loads, dropped when it unloads."""
    explains: Target | None = None
    """What it explains, when it is an explainer (ready only while that is)."""
    _idle: asyncio.Event | None = field(default=None, repr=False)

    def enter(self) -> None:
        """A request starts using the predictor."""
        self.inflight += 1

    def leave(self) -> None:
        """A request is done with the predictor."""
        self.inflight -= 1
        if not self.inflight and self._idle is not None:
            self._idle.set()

    async def drain(self, grace: float) -> bool:
        """Wait until no request uses the predictor (at most `grace` s); False on timeout."""
        if not self.inflight:
            return True
        self._idle = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
        return not self.inflight

    async def load(self, client: InferenceClient | None = None) -> None:
        """Build, load and plan the predictor its settings name (given `client` to call
        other models with); on failure the version is UNAVAILABLE with the reason."""
        assert self.settings is not None
        started = time.perf_counter()
        try:
            predictor = build_predictor(self.settings)
            if client is not None:
                predictor.client = client
            await call(predictor.load)
        except MODEL_FAILURES as error:
            self._failed(error)
            return
        try:
            plan = Plan(predictor, self.stats)  # reads the metadata, which load may have read
        except MODEL_FAILURES as error:
            self._failed(error)
            await self._release(predictor)
            return
        self.load_seconds = time.perf_counter() - started
        self.predictor, self.plan, self.state = predictor, plan, ModelState.READY
        log.info("model %s version %s ready in %.2fs", self.name, self.version, self.load_seconds)

    async def unload(self) -> None:
        """Drop the plan and unload the predictor (now UNAVAILABLE, "unloaded")."""
        predictor, self.predictor, self.plan = self.predictor, None, None
        self.state, self.reason = ModelState.UNAVAILABLE, "unloaded"
        if predictor is not None:
            await self._release(predictor)

    def _failed(self, error: BaseException) -> None:
        self.state, self.reason = ModelState.UNAVAILABLE, f"{type(error).__name__}: {error}"
        log.error("model %s version %s failed to load: %s", self.name, self.version, self.reason)

    async def _release(self, predictor: Predictor) -> None:
        """The predictor's unload; its failure is logged, never raised."""
        try:
            await call(predictor.unload)
        except MODEL_FAILURES:
            log.exception("model %s version %s failed to unload", self.name, self.version)
