# syntax=docker/dockerfile:1
# oipserve: `docker build -t oipserve .`, then `docker run -p 8080:8080 -p 8081:8081 oipserve`
# serves the bundled models/ (mount your own repository over /models to serve yours).

ARG PYTHON_VERSION=3.11

# Builder: the oipserve wheel (with its production extras, tracing and kafka) and the wheels
# of all its dependencies, at the versions deploy/constraints.txt pins (`python deploy/lock.py`).
FROM python:${PYTHON_VERSION}-slim AS builder
WORKDIR /src
COPY pyproject.toml README.md deploy/constraints.txt ./
COPY app ./app
RUN pip wheel --no-cache-dir --wheel-dir /wheels --constraint ./constraints.txt ".[tracing,kafka]"

# Runtime: those wheels installed offline, the models, a non-root user; no build tools.
FROM python:${PYTHON_VERSION}-slim AS runtime
LABEL org.opencontainers.image.title="oipserve" \
      org.opencontainers.image.description="Open Inference Protocol (KServe v2) model server, REST and gRPC" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# glibc malloc: keep large tensor buffers in the heap instead of mapping and faulting them in
# afresh per request (the same settings the server applies at start-up; see app/memory.py).
ENV MALLOC_MMAP_THRESHOLD_=33554432 \
    MALLOC_TRIM_THRESHOLD_=134217728 \
    MALLOC_ARENA_MAX=2
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl \
 && groupadd --system --gid 10001 oipserve \
 && useradd --system --uid 10001 --gid oipserve --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin oipserve
COPY models /models
USER 10001:10001
EXPOSE 8080 8081
# Readiness, not liveness: Docker has one health state, and what compose (depends_on:
# service_healthy) and swarm act on is "can this container answer inferences", which is
# false while models load and when one failed to load. Python's urllib: no curl needed.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/v2/health/ready' % os.environ.get('OIPSERVE_HTTP_PORT', '8080'), timeout=2)"]
ENTRYPOINT ["oipserve"]
CMD ["serve", "/models"]
