"""A model version and where it stands (`ModelState`): its settings, its loaded predictor and
the plan it is called through, its statistics, and the requests it is answering, which an
unload waits for."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from enum import StrEnum

from app.model_settings import ModelSettings
from app.plans import Calls
from app.predictors.base import Predictor
from app.resolver import Target
from app.stats import VersionStats


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
