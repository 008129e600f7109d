# scf-ledger developer entry points. The two that matter:
#   make demo   set up a fresh machine and run the scripted scenario (local anvil + SQLite)
#   make test   set up, then pytest, the Slither gate and ruff (.ci/run calls exactly this)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
# Debian packages beyond python3, node 20 and npm: `python3.11 -m venv` needs ensurepip; wrk is bench/api.py's
# load generator; the portal's browser tests drive Debian's chromium (Playwright's own download does not work
# here), and Chinese pages need the CJK fonts.
APT_PACKAGES := python3-venv wrk chromium fonts-noto-cjk
PYTEST_ARGS ?=
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help setup apt-deps demo test compile lint bench-gas bench-zk bench-evidence bench-indexer bench-risk bench-api \
	zk-keys

help:
	@echo "make demo     set up (idempotent) and run the scripted scenario: .venv/bin/scf demo"
	@echo "make test     set up, then pytest, Slither gate (scripts/slither.sh) and ruff"
	@echo "make setup    apt packages if missing, .venv with '.[dev]', npm ci"
	@echo "make compile  recompile contracts into ledger/artifacts (commit the result)"
	@echo "make lint     ruff + Slither gate"
	@echo "make bench-gas  gas of every action, beside Solv's reference ERC-3525 (one JSON line)"
	@echo "make bench-{evidence,zk,indexer,risk,api}  the other benchmarks, one JSON line each"

setup: $(VENV)/.setup-stamp node_modules/.setup-stamp bench/node_modules/.setup-stamp zk/node_modules/.setup-stamp

# Installs only what `dpkg -s` reports missing; no apt-get at all when everything is present.
apt-deps:
	@command -v dpkg >/dev/null || { echo "no dpkg: skipping apt (need: $(APT_PACKAGES))"; exit 0; }; \
	missing=""; for p in $(APT_PACKAGES); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

$(VENV)/bin/python: | apt-deps
	$(PYTHON) -m venv $(VENV)

$(VENV)/.setup-stamp: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $@

node_modules/.setup-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Bench-only npm packages (reference implementations we measure against).
# `npm install`, not `npm ci`: npm 11 leaves rollup's optional platform packages (pulled in by
# ponder) out of a freshly written lock file and then refuses `npm ci`; install keeps the lock as is.
bench/node_modules/.setup-stamp: bench/package.json bench/package-lock.json
	npm install --prefix bench --no-audit --no-fund
	touch $@

# circom2, snarkjs, circomlib(js) for the credit-proof circuits and the prover worker.
zk/node_modules/.setup-stamp: zk/package.json zk/package-lock.json
	npm ci --prefix zk --no-audit --no-fund
	touch $@

demo: setup
	$(VENV)/bin/scf demo

test: setup
	@# PostgreSQL (Debian's, on loopback) for the indexer's PostgreSQL suite; skipped where it cannot start.
	SCF_TEST_POSTGRES_URL="$${SCF_TEST_POSTGRES_URL:-$$(bash scripts/postgres.sh 2>/dev/null || true)}" \
	  $(VENV)/bin/python -m pytest -p no:cacheprovider -q -n auto $(PYTEST_ARGS)
	bash scripts/slither.sh
	$(VENV)/bin/ruff check .

bench-gas: setup
	$(VENV)/bin/python bench/gas.py

bench-zk: setup
	$(VENV)/bin/python bench/zk.py

bench-evidence: setup
	$(VENV)/bin/python bench/evidence.py

bench-indexer: setup
	$(VENV)/bin/python bench/indexer.py

bench-risk: setup
	$(VENV)/bin/python bench/risk.py

# Debian's wrk against the API on loopback, 30 s per endpoint.
bench-api: setup
	$(VENV)/bin/python bench/api.py

# Development keys for the credit circuit, from a local multi-party ceremony (minutes).
zk-keys: setup
	$(VENV)/bin/python zk/scripts/build_keys.py && node scripts/compile.js

compile: node_modules/.setup-stamp
	node scripts/compile.js

lint: setup
	$(VENV)/bin/ruff check .
	bash scripts/slither.sh
