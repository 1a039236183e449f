# neuro-sync developer entry points. `make test` works on a fresh clone: it builds .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
GEN_PKG := generated/neuro_sync_api
GEN_ARGS := --path openapi/jobs.yaml --config openapi/config.yml \
	--custom-template-path openapi/templates --meta none --overwrite
# The validation schemas (openapi-python-client makes only models): see openapi/gen_validation.py.
GEN_VALIDATION = f() { $(BIN)/python openapi/gen_validation.py openapi/jobs.yaml "$$1" && \
	$(BIN)/ruff format -q "$$1"; }; f
# The reply readers of the job object (plain functions, no models): see openapi/gen_readers.py.
GEN_READERS = f() { $(BIN)/python openapi/gen_readers.py openapi/jobs.yaml "$$1" && \
	$(BIN)/ruff format -q "$$1"; }; f
# ... and their fast path: msgspec Structs of the same schemas (gen_readers.py --structs).
GEN_STRUCTS = f() { $(BIN)/python openapi/gen_readers.py --structs openapi/jobs.yaml "$$1" && \
	$(BIN)/ruff format -q "$$1"; }; f
# The server's reply writers (the local platform's job object and /config): openapi/gen_writers.py.
GEN_WRITERS = f() { $(BIN)/python openapi/gen_writers.py openapi/jobs.yaml "$$1" && \
	$(BIN)/ruff format -q "$$1"; }; f

.PHONY: setup test unit pytest lint generate generate-check docs demo bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,local,docs,notebook]'
	# A kernelspec naming this venv's python by absolute path, for the notebook test.
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# Regenerate generated/ from openapi/. Never edit generated/ by hand.
generate: $(STAMP)
	$(BIN)/openapi-spec-validator openapi/jobs.yaml
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/openapi-python-client generate $(GEN_ARGS) --output-path $(GEN_PKG)
	$(GEN_VALIDATION) $(GEN_PKG)/validation.py
	$(GEN_READERS) $(GEN_PKG)/readers.py
	$(GEN_STRUCTS) $(GEN_PKG)/structs.py
	$(GEN_WRITERS) $(GEN_PKG)/writers.py

# Regenerate into a temporary folder and fail on any difference from the committed output.
generate-check: $(STAMP)
	$(BIN)/openapi-spec-validator openapi/jobs.yaml
	@tmp=$$(mktemp -d) && mkdir -p $$tmp/generated && cp pyproject.toml $$tmp/ && \
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/openapi-python-client generate $(GEN_ARGS) \
		--output-path $$tmp/$(GEN_PKG) >/dev/null && \
	$(GEN_VALIDATION) $$tmp/$(GEN_PKG)/validation.py && \
	$(GEN_READERS) $$tmp/$(GEN_PKG)/readers.py && \
	$(GEN_STRUCTS) $$tmp/$(GEN_PKG)/structs.py && \
	$(GEN_WRITERS) $$tmp/$(GEN_PKG)/writers.py && \
	diff -r -x __pycache__ $(GEN_PKG) $$tmp/$(GEN_PKG) && rm -rf $$tmp && \
	echo "generated/ is in sync with openapi/"
	@! grep -rl httpx $(GEN_PKG) || (echo "httpx found in generated/" && exit 1)

lint: $(STAMP)
	$(BIN)/ruff check neuro_sync generated tests benchmarks examples openapi
	$(BIN)/ruff format --check neuro_sync tests benchmarks examples openapi
	$(BIN)/mypy --strict neuro_sync generated/neuro_sync_api examples benchmarks tests openapi

# The fast lane: no servers, no processes (markers in tests/conftest.py). `make test` runs all.
unit: $(STAMP)
	$(BIN)/pytest -q -m "not integration and not sockets and not packaging and not docs and not notebook"

pytest: $(STAMP)
	$(BIN)/pytest -q --durations=25

# HTML docs in build/docs/html; any warning fails the build. Offline: intersphinx only uses
# inventories installed on the machine (docs/conf.py).
docs: $(STAMP)
	$(BIN)/sphinx-build -E -W --keep-going -q -b html docs build/docs/html

test: $(STAMP) lint generate-check pytest docs

demo: $(STAMP)
	$(BIN)/python examples/run_demo.py

# Compiled first, as an installed wheel is: the import line measures importing, not compiling
# (PYTHONDONTWRITEBYTECODE would otherwise make every timed import recompile our sources).
bench: $(STAMP)
	$(BIN)/python -m compileall -q neuro_sync generated/neuro_sync_api
	$(BIN)/python -m benchmarks.run $(if $(PEER),--peer,)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
