# LE-SDE Lab: the two commands of the quick start (make demo, make test) and friends.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

PROJECTS := shared/contract/pyproject.toml shared/runtime/pyproject.toml shared/client/pyproject.toml services/api/pyproject.toml services/trainer/pyproject.toml services/analyzer/pyproject.toml \
            services/launcher/pyproject.toml

.PHONY: venv demo up test lint bench reproduce clean

venv: $(STAMP)

# torch==2.14.1 is pinned in services/trainer/pyproject.toml. The launcher (lesde up, lesde demo)
# needs the three services; each service asks for the contract as lesde[services].
$(STAMP): $(PROJECTS) requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e shared/contract -e shared/runtime -e shared/client -e services/api -e services/trainer -e "services/analyzer[worker]" \
		-e services/launcher -r requirements-dev.txt
	touch $(STAMP)

## Run one real GEOMNIST experiment end to end on the embedded stack, print the summary; its state
## stays in .lesde/stack, the state of `make up`, whose dashboard lists it (on that stack if it runs).
demo: venv
	$(VENV)/bin/lesde demo examples/geomnist-small.json --state-dir .lesde/stack

## Serve the embedded stack on 127.0.0.1:$(PORT) until Ctrl-C (make up PORT=8001 for another port).
PORT ?= 8000
up: venv
	$(VENV)/bin/lesde up --host 127.0.0.1 --port $(PORT) --state-dir .lesde/stack

## Lint (ruff), formatting (ruff format --check) and types (mypy): ruff.toml and mypy.ini.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## Start a private Redis and S3 (SeaweedFS) on free ports, run every test, stop them.
test: venv
	$(PY) scripts/test_stack.py tests -q

## Run the reduced label-noise sweep on the embedded stack and rewrite docs/reproduction.md from it (~12 min on 2 cores).
reproduce: venv
	$(PY) scripts/reproduce.py

## Print the benchmark figures quoted in the README (each beside its naive baseline).
bench: venv
	$(PY) bench/train.py
	$(PY) bench/leode.py
	$(PY) bench/estimators.py
	$(PY) bench/analyze.py
	$(PY) bench/listing.py
	$(PY) bench/load.py
	$(PY) bench/load.py --stack redis-s3

clean:
	rm -rf .lesde lesde-results
