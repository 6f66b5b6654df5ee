# The two commands for a fresh machine are `make demo` and `make test`; both bootstrap what
# they need (system packages, the virtualenv, the Kafka jars) and a re-run skips what is done.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: bootstrap test lint demo stop bench chaos fuzz

bootstrap: $(STAMP) $(VENV)/.jars

$(STAMP): pyproject.toml constraints.txt
	bash scripts/bootstrap-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.stamp-* && touch $@

$(VENV)/.jars: $(STAMP) streams/local_kafka/jars.py
	$(BIN)/ledger kafka fetch
	touch $@

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/mypy

# pytest exits 5 when it collected no test: that is a failure here, not a pass.
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; exit $$rc

demo: bootstrap
	$(BIN)/python -m ledger_cli.demo $(if $(KEEP),--keep,)

stop: bootstrap
	$(BIN)/python -m ledger_cli.demo --stop

# The full seeded chaos run (1-node and 3-node clusters); SEED=n replays a run.
chaos: bootstrap
	$(BIN)/python -m tests.chaos.harness $(if $(SEED),--seed $(SEED),)

# Coverage-guided fuzzing (docs/fuzzing.md): every target for FUZZ_SECONDS each, growing a
# corpus in var/fuzz/ (ignored by git); findings go to var/fuzz/campaign/<target>/.
# FUZZ_TARGETS="cel command" picks targets. `make test` runs a short seeded run of each.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=

fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run campaign --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Benchmarks: `make bench` runs them all (about an hour on 2 cores: 3-5 runs of each) on a
# broker of their own and prints tables; BENCH_ARGS passes options, e.g.
# BENCH_ARGS="--runs 3" (about 45 minutes), "--only throughput latency", "--quick".
# faust-streaming and quixstreams live in their own virtualenv: quixstreams pins
# confluent-kafka below the version the project needs.
PEERS := .venv-peers
PEERS_STAMP := $(PEERS)/.stamp-$(shell cat bench/peers-requirements.txt | sha1sum | cut -c1-12)
BENCH_ARGS ?=

$(PEERS_STAMP): bench/peers-requirements.txt
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install -q --upgrade pip
	$(PEERS)/bin/python -m pip install -q -r bench/peers-requirements.txt
	rm -f $(PEERS)/.stamp-* && touch $@

bench: bootstrap $(PEERS_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)
