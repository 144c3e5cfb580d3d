# `make demo` and `make test` work on a fresh machine: they create .venv,
# install what is needed (Python packages into the venv, Debian packages with
# apt-get when missing and we are root), then run.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# The demo needs the library with its extras; the tests need everything (PyTorch,
# HIPS autograd, micrograd, the linters, Selenium, MkDocs) on top.
DEMO_STAMP := $(VENV)/.installed-demo
STAMP := $(VENV)/.installed-dev

.PHONY: demo how-to-run test lint typecheck pytest system-deps system-deps-graphviz venv \
	venv-demo images bench bench-digits docs clean notebooks mutants

demo: venv-demo system-deps-graphviz
	$(VENV)/bin/zdravkograd moons
	@$(MAKE) --no-print-directory how-to-run

# The command lives in the venv, which is not on PATH: say how to run it again.
how-to-run:
	@echo
	@echo "The zdravkograd command is in $(VENV)/bin/, which is not on your PATH. Run it as"
	@echo "    $(VENV)/bin/zdravkograd moons --help"
	@echo "or put it on your PATH for this shell first:"
	@echo "    source $(VENV)/bin/activate"
	@echo "    zdravkograd graph --model zdravkograd-out/model.json --input 0.5 -0.2 --out model.svg"

test: venv system-deps lint typecheck pytest docs

venv-demo: $(DEMO_STAMP)

venv: $(STAMP)

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[all]"
	touch $@

$(STAMP): pyproject.toml | $(VENV)/bin/python
	# torch is pinned to the CPU wheel on this machine's disk: never unpinned, never newer.
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@ $(DEMO_STAMP)

# Install Debian packages only when a command is missing, and only where apt can run.
define apt_install
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	else echo "warning: cannot apt-get install $(1) (not root or no apt); tests needing it will fail" >&2; fi
endef

system-deps-graphviz:
	@command -v dot >/dev/null || { $(call apt_install,graphviz); }

system-deps: system-deps-graphviz
	@{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || { $(call apt_install,chromium chromium-driver); }

lint: venv
	$(VENV)/bin/ruff check zdravkograd tests benchmarks scripts
	$(VENV)/bin/ruff format --check zdravkograd tests benchmarks scripts

typecheck: venv
	$(VENV)/bin/mypy

pytest: venv
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

images: venv system-deps-graphviz
	$(PY) scripts/make_images.py docs/img
	$(PY) scripts/make_gpt_images.py docs/img

# Run the notebooks and save them with their outputs (plots included), as committed.
notebooks: venv system-deps-graphviz
	$(PY) scripts/run_notebooks.py learning.ipynb moons.ipynb gpt.ipynb

# The documentation site, built offline; --strict turns every warning into an error.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

bench: venv
	$(PY) benchmarks/bench.py
	$(PY) benchmarks/gpt_bench.py --markdown docs/gpt-benchmarks.md
	$(PY) benchmarks/lab_frames.py

# `zdravkograd digits` with its defaults, timed in fresh processes (wall and CPU time).
bench-digits: venv
	$(PY) benchmarks/digits.py

# Mutation testing: apply each one-line bug of scripts/mutants.toml to a temporary copy of
# the tree and check that its tests fail. Slow (pytest once per mutant): not in `make test`.
mutants: venv
	$(PY) scripts/mutants.py

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache .mypy_cache .ruff_cache
