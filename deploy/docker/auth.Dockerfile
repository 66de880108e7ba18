# syntax=docker/dockerfile:1
# meshserve auth: python -m services.auth. Build from the repository root:
#   docker build -f deploy/docker/auth.Dockerfile -t meshserve/auth .

# --- build: a virtual environment with the pinned dependencies -----------------------------------
FROM python:3.11.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY constraints.txt pyproject.toml ./
COPY sdk ./sdk
COPY services ./services
COPY gateway ./gateway
RUN pip install -c constraints.txt ./sdk[grpc] "." opentelemetry-exporter-otlp-proto-grpc==1.45.2

# --- run: the environment and the code, as an unprivileged user ----------------------------------
FROM python:3.11.11-slim-bookworm AS run
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    MESHSERVE_AUTH_HOST=0.0.0.0 MESHSERVE_AUTH_PORT=50051 MESHSERVE_AUTH_DATA_DIR=/data
RUN groupadd --system --gid 10001 meshserve \
 && useradd --system --uid 10001 --gid meshserve --home-dir /data --create-home meshserve
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY services ./services
COPY gateway ./gateway
COPY deploy/docker/healthcheck.py ./healthcheck.py
USER 10001:10001
VOLUME ["/data"]
EXPOSE 50051
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "/app/healthcheck.py", "grpc", "127.0.0.1:50051"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "services.auth"]
