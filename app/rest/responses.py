"""Response classes written with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import JSONResponse


class JSONBody(JSONResponse):
    """JSON written by orjson; Pydantic models are dumped first (None fields left out)."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            content = content.model_dump(mode="json", exclude_none=True)
        return orjson.dumps(content)
