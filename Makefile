# The two commands of the README: `make demo` (install everything, run the whole job offline)
# and `make test` (install everything, start the local Elasticsearch node, run the tests).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo serve-demo test test-fast lint bench es-up es-down clean

# setup.py and the .pyx kernels: a changed kernel is recompiled by the next `make`
$(STAMP): pyproject.toml setup.py $(wildcard analysis/_*.pyx analysis/_*.pxd)
	bash scripts/install-system-deps.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/yuqing demo

serve-demo: install
	$(VENV)/bin/yuqing demo --serve

test: install
	bash scripts/run-tests.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: install
	$(PY) bench/run_all.py

es-up:
	bash scripts/es.sh up

es-down:
	bash scripts/es.sh down

clean:
	rm -rf data .pytest_cache
