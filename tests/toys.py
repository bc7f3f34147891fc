"""Toy predictors shared by the tests. Each exercises one kind of model behaviour."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import numpy as np

from app.client import InferInput, InferRequest
from app.context import current_context
from app.explainers import ExplainerMethod, Explanation, Predict
from app.model_settings import ModelSettings
from app.predictors import Predictor, Tensors
from app.protocol.codecs.datatypes import from_dtype
from app.protocol.errors import InvalidInput
from app.protocol.types import (
    InferenceRequest,
    InferenceResponse,
    ModelMetadataResponse,
    ResponseOutput,
)


class Echo(Predictor):
    """Returns every input unchanged, under the same name (async, on the loop)."""

    async def predict(self, inputs: Tensors) -> Tensors:
        return dict(inputs)


class SyncEcho(Predictor):
    """Echo with a plain predict, which runs in a worker thread."""

    def predict(self, inputs: Tensors) -> Tensors:
        return dict(inputs)


class WhichThread(Predictor):
    """Answers the id of the thread its plain `predict` ran in, with the request's id."""

    def predict(self, inputs: Tensors) -> Tensors:
        context = current_context()
        request_id = context and context.id
        return {"thread": np.array([threading.get_ident()]), "id": np.array([request_id])}


class Scale(Predictor):
    """output-0 = input-0 * parameters['factor'] of the model settings (default 2)."""

    async def predict(self, inputs: Tensors) -> Tensors:
        factor = float(self.settings.parameters.get("factor", 2))
        return {"output-0": (inputs["input-0"] * factor).astype(inputs["input-0"].dtype)}


class ParameterEcho(Predictor):
    """Answers the whole request: echoes inputs, and returns the request parameters."""

    def infer(self, request: InferenceRequest) -> InferenceResponse:
        outputs = [
            ResponseOutput(name=t.name, shape=t.shape, datatype=t.datatype, data=t.data)
            for t in request.inputs
        ]
        return InferenceResponse(
            model_name=self.name, parameters=request.parameters, outputs=outputs
        )


class Slow(Predictor):
    """Sleeps `parameters['seconds']` of the model settings (default 0.5), then echoes."""

    async def predict(self, inputs: Tensors) -> Tensors:
        await asyncio.sleep(float(self.settings.parameters.get("seconds", 0.5)))
        return dict(inputs)


class Blocking(Predictor):
    """Blocks its thread for `parameters['seconds']` (default 0.5): must not stall the loop."""

    def predict(self, inputs: Tensors) -> Tensors:
        time.sleep(float(self.settings.parameters.get("seconds", 0.5)))
        return dict(inputs)


class Failing(Predictor):
    """predict raises a plain exception: a predictor failure (500 / INTERNAL)."""

    def predict(self, inputs: Tensors) -> Tensors:
        raise RuntimeError("boom")


class Picky(Predictor):
    """Rejects requests itself with a protocol error (400 / INVALID_ARGUMENT)."""

    async def predict(self, inputs: Tensors) -> Tensors:
        raise InvalidInput("picky: no thanks")


class BadLoad(Predictor):
    """load raises: the model is reported unavailable with this reason."""

    def load(self) -> None:
        raise FileNotFoundError("weights.bin is missing")


class WrongOutput(Predictor):
    """predict returns something that is not a dict of arrays."""

    async def predict(self, inputs: Tensors) -> Tensors:
        return [np.zeros(1)]  # type: ignore[return-value]  # deliberately wrong


class Gated(Predictor):
    """A plain predict that blocks its worker thread until the test opens `gate`; `entered`
    is set once predict runs."""

    def __init__(self, settings: ModelSettings) -> None:
        super().__init__(settings)
        self.entered = threading.Event()
        self.gate = threading.Event()

    def predict(self, inputs: Tensors) -> Tensors:
        self.entered.set()
        if not self.gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        return dict(inputs)


class GatedLoad(Predictor):
    """load blocks until the test opens the class-wide `gate` (a model that loads slowly)."""

    gate = threading.Event()

    def load(self) -> None:
        if not type(self).gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")

    async def predict(self, inputs: Tensors) -> Tensors:
        return dict(inputs)


class Tracked(Predictor):
    """Records its life cycle on the instance: `loaded`, `unloaded`."""

    loaded = False
    unloaded = False

    async def load(self) -> None:
        self.loaded = True

    async def unload(self) -> None:
        self.unloaded = True

    async def predict(self, inputs: Tensors) -> Tensors:
        return dict(inputs)


class BadUnload(Tracked):
    """unload raises: logged, never propagated."""

    async def unload(self) -> None:
        raise RuntimeError("cannot let go")


class NotAPredictor:
    """A class that does not subclass Predictor."""


class Recorder(Predictor):
    """Sleeps `parameters['seconds']` (default 0.5), then echoes; appends what happens to
    `events.log` in its folder: load, start <id>, end <id>, cancelled <id>, unload."""

    def _record(self, event: str) -> None:
        with (self.path / "events.log").open("a") as events:
            events.write(event + "\n")

    async def load(self) -> None:
        self._record("load")

    async def unload(self) -> None:
        self._record("unload")

    async def infer(self, request: InferenceRequest) -> InferenceResponse:
        self._record(f"start {request.id}")
        try:
            await asyncio.sleep(float(self.settings.parameters.get("seconds", 0.5)))
        except asyncio.CancelledError:
            self._record(f"cancelled {request.id}")
            raise
        self._record(f"end {request.id}")
        outputs = [
            ResponseOutput(name=t.name, shape=t.shape, datatype=t.datatype, data=t.data)
            for t in request.inputs
        ]
        return InferenceResponse(model_name=self.name, outputs=outputs)


def recorded(folder: Path) -> list[str]:
    """The events a Recorder wrote in `folder`."""
    path = folder / "events.log"
    return path.read_text().splitlines() if path.exists() else []


class BufferFlags(Predictor):
    """Reports, per input, whether its array owns its memory and whether it is writeable."""

    async def predict(self, inputs: Tensors) -> Tensors:
        return {
            name: np.array([array.flags.owndata, array.flags.writeable])
            for name, array in inputs.items()
        }


class Tile(Predictor):
    """Answers every input repeated `parameters['times']` of the model settings (default 2)."""

    async def predict(self, inputs: Tensors) -> Tensors:
        times = int(self.settings.parameters.get("times", 2))
        return {name: np.tile(array, times) for name, array in inputs.items()}


class Relay(Predictor):
    """Calls model `parameters['target']` (default `params`) with its inputs through its
    client; answers the id and `x-tenant` that model saw, and its outputs."""

    async def predict(self, inputs: Tensors) -> Tensors:
        target = str(self.settings.parameters.get("target", "params"))
        tensors = []
        for name, array in inputs.items():
            tensor = InferInput(name, list(array.shape), from_dtype(array.dtype) or "BYTES")
            tensor.set_data_from_numpy(array)
            tensors.append(tensor)
        answer = await self.client.infer(InferRequest(target, tensors))
        seen = answer.parameters or {}
        outputs = {output.name: output.as_numpy() for output in answer.outputs}
        return {
            **outputs,
            "id": np.array([answer.id], dtype=object),
            "tenant": np.array([seen.get("x-tenant", "")], dtype=object),
        }


_APP = str(Path(__file__).resolve().parent.parent / "app") + "/"


class OurFrames(Predictor):
    """Answers the functions of app/ on the stack when predict runs, outermost first."""

    async def predict(self, inputs: Tensors) -> Tensors:
        names = []
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename.startswith(_APP):
                names.append(frame.f_code.co_qualname.encode())
            frame = frame.f_back
        return {"frames": np.array(names[::-1], dtype=object)}


class BadMetadata(Recorder):
    """Loads, then cannot say its signature: the load fails and what it loaded is released."""

    def metadata(self) -> ModelMetadataResponse:
        raise RuntimeError("no signature")


class Simple(Predictor):
    """Seldon's `tfsimple`: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1."""

    async def predict(self, inputs: Tensors) -> Tensors:
        a, b = inputs["INPUT0"], inputs["INPUT1"]
        return {"OUTPUT0": a + b, "OUTPUT1": a - b}


class Add10(Predictor):
    """Seldon's `add10`: OUTPUT = INPUT + 10."""

    async def predict(self, inputs: Tensors) -> Tensors:
        return {"OUTPUT": inputs["INPUT"] + np.float32(10)}


class Mul10(Predictor):
    """Seldon's `mul10`: OUTPUT = INPUT * 10."""

    async def predict(self, inputs: Tensors) -> Tensors:
        return {"OUTPUT": inputs["INPUT"] * np.float32(10)}


class Choose(Predictor):
    """Seldon's `conditional`: OUTPUT0 = INPUT0 when CHOICE is 0, else OUTPUT1 = INPUT1."""

    async def predict(self, inputs: Tensors) -> Tensors:
        if int(inputs["CHOICE"].ravel()[0]) == 0:
            return {"OUTPUT0": inputs["INPUT0"]}
        return {"OUTPUT1": inputs["INPUT1"]}


class Counter(Predictor):
    """Seldon's cyclic example: `output` = its input + 1, and an empty tensor named
    `continue` below 10, `stop` from 10."""

    async def predict(self, inputs: Tensors) -> Tensors:
        count = next(iter(inputs.values())) + 1
        signal = "continue" if int(count.ravel()[0]) < 10 else "stop"
        return {"output": count, signal: np.array([b""], dtype=object)}


_MEETINGS: dict[str, tuple[int, asyncio.Event]] = {}


class Rendezvous(Predictor):
    """Answers OUTPUT_<its name> = INPUT only once `parameters['size']` models of its kind are
    running for the same request at once; alone, it gives up after a second (a TimeoutError).
    Steps run one after the other never meet."""

    async def predict(self, inputs: Tensors) -> Tensors:
        context = current_context()
        key = context.id if context is not None and context.id else "-"
        count, met = _MEETINGS.get(key, (0, asyncio.Event()))
        _MEETINGS[key] = (count + 1, met)
        if count + 1 >= int(self.settings.parameters.get("size", 2)):
            met.set()
        await asyncio.wait_for(met.wait(), 1.0)
        return {f"OUTPUT_{self.name}": inputs["INPUT"]}


SEEN: list[tuple[str | None, dict[str, str] | None]] = []
"""The request id and X- headers of each call a Linear model answered."""


class Linear(Predictor):
    """output-0 = input-0 @ parameters['weights'] (a list of columns' weights, one output
    column); records each call's request id and X- headers in SEEN."""

    async def predict(self, inputs: Tensors) -> Tensors:
        context = current_context()
        SEEN.append((context.id, context.headers) if context is not None else (None, None))
        weights = np.array(self.settings.parameters["weights"], dtype=np.float64)
        return {"output-0": inputs["input-0"].astype(np.float64) @ weights}


class Doubling(ExplainerMethod):
    """An explainer method of a user's: each feature's attribution is twice its value times
    parameters['scale'], and the expected value the prediction of the background's mean."""

    async def explain(self, rows: np.ndarray, predict: Predict) -> Explanation:
        assert self.background is not None
        scale = float(self.parameters.get("scale", 1))
        expected = await predict(self.background.mean(axis=0, keepdims=True))
        return Explanation(2 * scale * rows[:, :, None], expected[0], {"rows": len(rows)})


class Shaped(Predictor):
    """Answers `parameters['output']` (default "y") as `parameters['fill']` (default 0) in
    `parameters['dtype']` (default float32) and `parameters['shape']` (default [3, 2]):
    right or wrong against what the settings declare."""

    async def predict(self, inputs: Tensors) -> Tensors:
        parameters = self.settings.parameters
        dtype, shape = parameters.get("dtype", "float32"), parameters.get("shape", [3, 2])
        filled = np.full(shape, parameters.get("fill", 0), dtype=dtype)
        return {str(parameters.get("output", "y")): filled}


class Responding(Predictor):
    """An `infer` predictor answering output `out` as `parameters['datatype']` and
    `parameters['shape']` holding `parameters['values']` (as numpy reads them), right or not."""

    async def infer(self, request: InferenceRequest) -> InferenceResponse:
        parameters = self.settings.parameters
        output = ResponseOutput(
            name="out",
            datatype=parameters["datatype"],
            shape=parameters["shape"],
            data=np.array(parameters["values"]),
        )
        return InferenceResponse(model_name=self.name, outputs=[output])


class Keyed(Predictor):
    """Answers x under the key `parameters['key']`, whatever it is (a number, "")."""

    async def predict(self, inputs: Tensors) -> Tensors:
        return {self.settings.parameters["key"]: inputs["x"]}


class Masked(Predictor):
    """Answers y as a numpy masked array (a subclass of ndarray) of x."""

    async def predict(self, inputs: Tensors) -> Tensors:
        return {"y": np.ma.masked_array(inputs["x"], mask=np.zeros(inputs["x"].shape, dtype=bool))}


class RowSums(Predictor):
    """sum = each row of x summed; calls = this call's serial number, once per row (so that
    callers can tell which requests one call answered)."""

    calls = 0

    async def predict(self, inputs: Tensors) -> Tensors:
        RowSums.calls += 1
        x = inputs["x"]
        return {"sum": x.sum(axis=1), "calls": np.full(len(x), RowSums.calls, dtype=np.int64)}


class Writable(Predictor):
    """Answers whether each input array can be written to (PyTorch warns on those that
    cannot)."""

    async def predict(self, inputs: Tensors) -> Tensors:
        return {name: np.array([array.flags.writeable]) for name, array in inputs.items()}


class Pid(Predictor):
    """Answers the id of the process that answered (which worker)."""

    async def predict(self, inputs: Tensors) -> Tensors:
        return {"pid": np.array([os.getpid()], dtype=np.int64)}


class Exiting(Predictor):
    """Calls sys.exit(3), or raises KeyboardInterrupt, in `parameters['when']` (load,
    predict or unload), as careless model code might: a failure of that call alone."""

    def _maybe(self, when: str) -> None:
        if self.settings.parameters.get("when") == when:
            if self.settings.parameters.get("interrupt"):
                raise KeyboardInterrupt
            sys.exit(3)

    def load(self) -> None:
        self._maybe("load")

    async def predict(self, inputs: Tensors) -> Tensors:
        self._maybe("predict")
        return inputs

    def unload(self) -> None:
        self._maybe("unload")
