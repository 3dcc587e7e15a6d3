# The two commands: `make run` serves the API, `make test` runs every test.
# Both create .venv and install what they need first (again only when setup.cfg changes).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint unit bench-coldstart clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: install
	$(BIN)/python scripts/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml

test: lint
	$(BIN)/python scripts/test.py

unit: install
	$(BIN)/python -m pytest tests/unit

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .aws-sam build

# The Lambda artefacts (scripts/build_lambda.py), for Linux/CPython 3.13: the function (runtime
# code + setup.cfg's install_requires) and the optional Gemini layer (the `ai` extra minus what
# the function ships). `sam build` runs build-ApiFunction and build-GeminiLayer (template.yaml
# BuildMethod: makefile) with their ARTIFACTS_DIR; `make artifact` writes build/lambda and
# build/gemini-layer, each with a zip, and smoke-tests them when LAMBDA_ARCH is this machine's.
LAMBDA_ARCH ?= arm64

.PHONY: artifact build-ApiFunction build-GeminiLayer

artifact:
	$(PYTHON) scripts/build_lambda.py build/lambda --arch $(LAMBDA_ARCH) --zip build/lambda.zip
	$(PYTHON) scripts/build_lambda.py build/gemini-layer --layer ai --arch $(LAMBDA_ARCH) --function build/lambda --zip build/gemini-layer.zip

build-ApiFunction:
	$(PYTHON) scripts/build_lambda.py "$(ARTIFACTS_DIR)" --arch arm64

build-GeminiLayer:
	$(PYTHON) scripts/build_lambda.py "$(ARTIFACTS_DIR)" --layer ai --arch arm64

# Import time of wsgi_handler (median of 5 fresh processes) and the artefact's size.
bench-coldstart: install
	$(BIN)/python bench/coldstart.py
