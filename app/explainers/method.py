"""The interface of an explanation method: what it is given and what it answers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.protocol.errors import InvalidInput
from app.protocol.types import Parameters

Predict = Callable[[np.ndarray], Coroutine[Any, Any, np.ndarray]]
"""Calls the target on rows of features; its explained output as an (rows, outputs) array."""


@dataclass
class Explanation:
    """Per-feature attributions, shaped (rows, features, outputs), and the expected value
    of each output (what the attributions add to, where the method says)."""

    attributions: np.ndarray
    expected_value: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """More for the answer's `data` (JSON-ready values)."""


class ExplainerMethod:
    """An explanation method. Subclass it for an explainer of `type` `module:Class`: the
    class gets the explainer's `parameters` and its background rows (None without a
    background file), and explains rows of features through `predict`."""

    needs_background = False

    def __init__(self, parameters: Parameters, background: np.ndarray | None) -> None:
        self.parameters = parameters
        self.background = background

    async def explain(self, rows: np.ndarray, predict: Predict) -> Explanation:
        """The attributions of each feature of each row."""
        raise NotImplementedError

    def check_rows(self, rows: np.ndarray) -> None:
        """InvalidInput unless `rows` are rows of as many features as the background."""
        features = None if self.background is None else self.background.shape[1]
        if rows.ndim != 2 or (features is not None and rows.shape[1] != features):
            wanted = f"[rows, {features}]" if features is not None else "[rows, features]"
            raise InvalidInput(
                f"rows of features of shape {wanted} expected, got shape {list(rows.shape)}"
            )
