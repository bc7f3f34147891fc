"""The DataPlane: the one object every transport calls. Protocol types in, protocol types out."""

from __future__ import annotations

from app import __version__
from app.context import RequestContext, enter_context, leave_context, new_request_id
from app.deadlines import tightened, timeout_seconds, within
from app.extensions import Extensions
from app.monitor import SUCCESS, Monitor, outcome_of
from app.peers import Peers
from app.pipelines.inspection import Inspection
from app.pipelines.spec import PipelineInput
from app.pipelines.store import Pipelines
from app.protocol.errors import InvalidInput, ModelNotReady, NotFound, OIPError
from app.protocol.payload import Answer, Encoded, Payload
from app.protocol.types import (
    InspectedRequest,
    ModelMetadataResponse,
    ServerMetadataResponse,
)
from app.registry import ModelRegistry
from app.resolver import Kind, Target, target_of
from app.settings import ServerSettings
from app.tracing import Tracing
from app.versions import ModelState, ModelVersion

EXTENSIONS = ["binary_tensor_data", "model_repository", "statistics", "model_configuration"]
"""Protocol extensions this server speaks, advertised in the server metadata (by the names
Triton gives them)."""


class DataPlane(Extensions):
    """Answers every question a client can ask, for every transport (the statistics,
    repository and model configuration extensions: see Extensions)."""

    def __init__(
        self, registry: ModelRegistry, settings: ServerSettings, tracing: Tracing | None = None
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.tracing = tracing
        """Opens a span per request, when tracing is on."""
        self.peers: Peers | None = None
        """The other workers of a --workers server, which answer for the whole server."""
        self.pipelines = Pipelines(registry, Inspection(settings.inspect_requests))
        self.monitor = Monitor(registry, settings.log_requests, self._known)
        self._started = False
        self._stopping = False

    def _known(self, label: str) -> bool:
        """Whether `label` (a target's, as metrics name it) is a model or pipeline we have."""
        if not label:
            return False
        target = target_of(label)
        if target.kind is Kind.PIPELINE:
            return self.pipelines.known(target.name)
        return self.registry.known(label)

    def mark_started(self) -> None:
        """The repository has been loaded: readiness now follows the models."""
        self._started = True

    @property
    def stopping(self) -> bool:
        """Whether shutdown has begun."""
        return self._stopping

    def mark_stopping(self) -> None:
        """Shutdown has begun: readiness is false from now on."""
        self._stopping = True

    async def live(self) -> bool:
        return True

    async def ready(self) -> bool:
        """Whether the server takes traffic: started, not stopping, and what `ready_when`
        asks for is ready (every model and pipeline loaded at start, any one, or those
        named)."""
        if not self._started or self._stopping:
            return False
        required = self.settings.required_for_readiness()
        if required is None:
            return self.registry.all_ready() and self.pipelines.all_ready()
        if required:
            targets = [target_of(name) for name in required]
        else:
            targets = [Target(Kind.MODEL, entry.name) for entry in self.registry.entries()]
            targets += [Target(Kind.PIPELINE, entry.name) for entry in self.pipelines.entries()]
        ready = [await self._ready(target) for target in targets]
        return all(ready) if required else any(ready)

    async def _ready(self, target: Target) -> bool:
        try:
            return await self.model_ready(target)
        except NotFound:
            return False

    async def server_metadata(self) -> ServerMetadataResponse:
        return ServerMetadataResponse(
            name=self.settings.server_name, version=__version__, extensions=list(EXTENSIONS)
        )

    async def model_ready(self, target: Target) -> bool:
        """Whether the target serves (False for a model or pipeline folder not loaded);
        NotFound for a target the server does not know."""
        name = target.name
        store = self.pipelines if target.kind is Kind.PIPELINE else self.registry
        if target.kind is not Kind.EXPLAINER and not store.known(name) and name in store.folders():
            return False  # a folder of the repository, not loaded
        try:
            self._serving(target)
        except ModelNotReady:
            return False
        return True

    async def model_metadata(self, target: Target) -> ModelMetadataResponse:
        """The metadata of the target's version (of the model, with its ready versions,
        when the target names none), or of the pipeline."""
        if target.kind is Kind.PIPELINE:
            return self.pipelines.metadata(_pipeline_name(target))
        entry = self.registry.serving(target)
        assert entry.predictor is not None
        metadata = entry.predictor.metadata()
        if target.version is None:
            versions = self.registry.versions(target.name)
            ready = [v.version for v in versions if v.state is ModelState.READY]
            metadata = metadata.model_copy(update={"versions": ready})
        return metadata

    async def pipeline_request(self, pipeline: str, request_id: str) -> InspectedRequest:
        """What each step of `pipeline` was sent and answered in request `request_id`
        (kept for the last --inspect-requests requests)."""
        return self.pipelines.inspect(pipeline, request_id)

    async def infer(self, target: Target, encoded: Encoded, context: RequestContext) -> Answer:
        """Answer one inference request, whichever front it came by: decode the payload,
        settle the request id (so that every answer, errors included, carries it), find the
        servable the target names (once), and call it through its plan (within the request's
        `timeout` parameter, if it has one). Every outcome is counted, timed and logged here."""
        token = enter_context(context)
        context.model = target.label
        self.monitor.begin(context)
        span = self.tracing.start(context) if self.tracing is not None else None
        entry = None
        try:
            payload = encoded.decode()
            if context.id is None:
                context.id = _checked_id(payload.id) if payload.id else new_request_id()
            entry = self._serving(target)
            context.version = entry.version
            answer = await _call(target, entry, payload, context)
        except BaseException as error:
            if context.id is None:
                context.id = new_request_id()  # before the log line that names it
            outcome = outcome_of(error, context)
            self.monitor.finish(context, entry, outcome)
            if span is not None:
                span.end(context, outcome, error)
            raise
        finally:
            leave_context(token)
        self.monitor.finish(context, entry, SUCCESS)
        if span is not None:
            span.end(context, SUCCESS, None)
        return answer

    def _serving(self, target: Target) -> ModelVersion:
        """The servable the target names, ready to call through its plan (an explainer
        only while what it explains is ready too)."""
        entry = self._servable(target)
        if entry.explains is not None:
            try:
                self._servable(entry.explains)
            except OIPError as error:
                raise ModelNotReady(
                    f"explainer {entry.name!r} is not ready: {error.message}"
                ) from None
        return entry

    def _servable(self, target: Target) -> ModelVersion:
        if target.kind is Kind.PIPELINE:
            return self.pipelines.serving(_pipeline_name(target))
        return self.registry.serving(target)

    def explainer_of(self, target: Target) -> Target:
        """The explainer of the model or pipeline `target` names (KServe v1 `:explain`);
        NotFound naming the target when it has none."""
        if target.kind is Kind.EXPLAINER:
            return target
        for entry in self.registry.entries():
            explains = entry.explains
            if explains is not None and (explains.kind, explains.name) == (
                target.kind,
                target.name,
            ):
                return Target(Kind.EXPLAINER, entry.name)
        raise NotFound(f"{target} has no explainer")

    def serving_targets(self) -> list[Target]:
        """Every servable that answers now: each model with a ready version (an explainer
        as kind explainer, while what it explains is ready) and each ready pipeline."""
        ready = ModelState.READY
        models = {
            Target(Kind.EXPLAINER if entry.explains else Kind.MODEL, entry.name)
            for entry in self.registry.entries()
            if entry.state is ready
        }
        found = sorted(models) + [
            Target(Kind.PIPELINE, entry.name)
            for entry in self.pipelines.entries()
            if entry.state is ready
        ]
        return [target for target in found if self._answers(target)]

    def _answers(self, target: Target) -> bool:
        try:
            self._serving(target)
        except OIPError:
            return False
        return True

    def pipeline_input(self, name: str) -> PipelineInput | None:
        """What feeds pipeline `name` from another pipeline's answers (`spec.input`)."""
        return self.pipelines.spec(name).input

    def model_names(self) -> list[str]:
        """The names of the models in the repository, loaded or not (KServe v1)."""
        return sorted({entry.name for entry in self.registry.index()})


def _pipeline_name(target: Target) -> str:
    """The name of the pipeline `target` names; NotFound when it names a version too
    (pipelines have none)."""
    if target.version:
        raise NotFound(f"{target} has no version {target.version!r}: pipelines have no versions")
    return target.name


MAX_REQUEST_ID = 1024
"""The longest request id a request's body may give (it comes back as a header)."""


def _checked_id(request_id: str) -> str:
    """The id a request's body gives, which must be fit to come back as a header or gRPC
    metadata: printable ASCII, at most MAX_REQUEST_ID characters."""
    if len(request_id) <= MAX_REQUEST_ID and request_id.isascii() and request_id.isprintable():
        return request_id
    raise InvalidInput(
        f"the request id must be printable ASCII of at most {MAX_REQUEST_ID} characters "
        f"(it comes back in the x-request-id header), got {request_id[:40]!r}"
        + ("..." if len(request_id) > 40 else "")
    )


async def _call(
    target: Target, entry: ModelVersion, payload: Payload, context: RequestContext
) -> Answer:
    """The version's answer through its plan; within the request's `timeout` parameter, when
    it has one (the context's own deadline is the front's or the caller's to keep: gRPC
    cancels a call at its deadline, the in-process client its own calls)."""
    plan = entry.plan
    assert plan is not None
    timeout = timeout_seconds(payload.parameters)
    entry.enter()
    try:
        if timeout is None:
            return await plan(payload, context)
        deadline = context.deadline = tightened(context.deadline, timeout)
        assert deadline is not None
        return await within(plan(payload, context), deadline, str(target))
    finally:
        entry.leave()
