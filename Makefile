# kspbench: the same steps CI runs, for a local machine.
GO ?= go
BIN := build/bin

.PHONY: all test vet lint fmt-check plugin-test conformance bench run quick workers guests sightglass-kernels clean

all: test

## test: everything CI checks: formatting, vet, race-enabled tests of every package
## (the conformance suite on all three engines included), then without the race detector
## the two tests it skips (the hostile-guest attack, whose serve child is the test binary, too
## slow for its call timeouts under -race; wazero's memory of closed instances, which the
## detector's shadow memory hides) and the plugin's own tests.
test: fmt-check vet lint
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run '^(TestHostile|TestClosedInstanceMemoryReturned)$$' ./internal/attack ./engines/wazero
	$(MAKE) -C plugins/cluster-monitor test

# The engines of the catalog (internal/catalog) that link on this machine.
ENGINES = $(shell $(GO) run ./cmd/kspbench engines --names)

vet:
	$(GO) vet ./...
	@for tag in $(filter-out wazero,$(ENGINES)); do echo "$(GO) vet -tags $$tag ./cmd/kspbench"; $(GO) vet -tags $$tag ./cmd/kspbench || exit 1; done

## lint: staticcheck (pinned in go.mod's tool block) under every engine's build tags, and actionlint on
## the workflows; any finding fails.
lint:
	$(GO) tool staticcheck ./...
	@for tag in $(filter-out wazero,$(ENGINES)); do echo "$(GO) tool staticcheck -tags $$tag ./cmd/kspbench ./engines/$$tag/..."; $(GO) tool staticcheck -tags $$tag ./cmd/kspbench ./engines/$$tag/... || exit 1; done
	$(GO) tool actionlint

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## conformance: the suite on every engine, each in its own process, with the matrix in reports/conformance.
conformance:
	$(GO) test -count=1 -v ./conformance -run TestConformance

## run: the main job, as the README gives it.
run:
	$(GO) run ./cmd/kspbench run

quick:
	$(GO) run ./cmd/kspbench run --quick

## workers: one kspbench binary per engine of the catalog that links on this platform, in build/bin,
## with the libraries they load beside them (internal/workerbin knows how).
workers:
	$(GO) run ./cmd/kspbench workers --out $(BIN)

## guests: rebuild the WAT test guests (needs wabt's wat2wasm), the C reference guest and the C plugin
## (need clang and lld), and refresh the conformance suite's copy of the C plugin.
guests:
	sh conformance/testdata/build.sh
	sh conformance/testdata/c/build.sh
	sh plugins/cluster-monitor-c/build.sh
	cp plugins/cluster-monitor-c/plugin.yml plugins/cluster-monitor-c/requests.yml plugins/cluster-monitor-c/cluster-monitor-c.wasm conformance/testdata/cluster-monitor-c/

## sightglass-kernels: rebuild the Sightglass workload's built-in kernels (C, Go, Rust) from their sources,
## reproducibly; then refresh their expected output. Needs Debian's clang lld wasi-libc
## libclang-rt-14-dev-wasm32 rustc libstd-rust-dev-wasm32.
sightglass-kernels:
	GO=$(GO) sh internal/sightglass/kernels/build.sh
	$(GO) test -count=1 -run 'TestKernels$$' ./internal/sightglass -args -update || true
	$(GO) test -count=1 -run 'TestKernels' ./internal/sightglass

clean:
	rm -rf build
	$(MAKE) -C plugins/cluster-monitor clean

# ---------------------------------------------------------------------------
# CI workflows (.github/workflows) and their local twins.

.PHONY: lint-workflows ci-conformance ci-bench ci-attack fuzz

## lint-workflows: actionlint (pinned in go.mod's tool block) on .github/workflows; it runs shellcheck on
## every `run:` script when shellcheck is on PATH. The ci-* recipes below are shellchecked too.
lint-workflows:
	$(GO) tool actionlint
	@if command -v shellcheck >/dev/null 2>&1; then \
		echo "shellcheck: recipes of ci-conformance, ci-bench, ci-attack and fuzz"; \
		$(MAKE) -s -n ci-conformance ci-bench ci-attack fuzz | shellcheck -s sh -; \
	else \
		echo "lint-workflows: shellcheck not on PATH, so run: scripts were not shellchecked (apt-get install shellcheck)"; \
	fi

# The label the conformance workflow gives this machine's runner (linux-amd64, linux-arm64, darwin-arm64).
CI_OS_LABEL = $(shell $(GO) env GOOS)-$(shell $(GO) env GOARCH)
# The catalog's engines for this platform (wasmer-go 1.0.4 does not link on linux/arm64; see internal/catalog).
CI_ENGINES ?= $(ENGINES)
CI_OUT ?= build/out

## ci-conformance: the conformance workflow's matrix job on this machine, for each engine in CI_ENGINES:
## the WAT guest check, then the suite with its matrix in $(CI_OUT)/conformance-ENGINE-OS. Needs wabt.
ci-conformance:
	@command -v wat2wasm >/dev/null 2>&1 || { echo "ci-conformance: wat2wasm not on PATH: apt-get install wabt (Linux) or brew install wabt (macOS)" >&2; exit 1; }
	KSPBENCH_REQUIRE_WAT2WASM=1 $(GO) test -count=1 -v ./conformance -run 'TestGuestsMatchSources'
	@failed=""; \
	for engine in $(CI_ENGINES); do \
		out="$(CURDIR)/$(CI_OUT)/conformance-$$engine-$(CI_OS_LABEL)"; \
		echo "== $$engine on $(CI_OS_LABEL) -> $$out"; \
		KSPBENCH_REQUIRE_WAT2WASM=1 $(GO) test -count=1 -v ./conformance -run 'TestConformance' -engines "$$engine" -matrix "$$out" \
			|| failed="$$failed $$engine"; \
	done; \
	if [ -n "$$failed" ]; then echo "ci-conformance: failed on:$$failed" >&2; exit 1; fi; \
	echo "ci-conformance: every engine passed; matrices in $(CI_OUT)/conformance-*-$(CI_OS_LABEL)"

BASE ?= HEAD~1
HEAD_REF ?= HEAD
BENCH_DIR ?= build/ci-bench
BENCH_FLAGS ?= --quick
## ROUNDS: how many times each side runs, alternately (base, head, base, head, ...); compare pools them. Two
## --quick rounds give 6 samples per side: enough for benchstat's test (4) and its intervals (6); one gives 3, too few.
ROUNDS ?= 2
## COMPARE_FLAGS: passed to `kspbench compare` (its --alpha, --threshold; --no-gate to report without gating).
COMPARE_FLAGS ?=

## ci-bench: the bench workflow on this machine: BASE (default HEAD~1) and HEAD_REF (default HEAD), as
## commits, in temporary worktrees under $(BENCH_DIR), each built from its own tree; then ROUNDS rounds of
## `kspbench run $(BENCH_FLAGS)`, base then head in each round (so drift of the machine falls on both), into
## $(BENCH_DIR)/base-N and head-N; then head's `kspbench compare` of the pooled rounds: verdict and tables in
## $(BENCH_DIR)/compare.txt, Markdown in compare.md. The target fails when the comparison finds a significant
## regression (the gate), or when a head run fails. A base tree without `kspbench run`, or whose run fails,
## skips the comparison with a notice; a head tree without a gating compare falls back to benchstat, ungated.
ci-bench:
	@set -eu; \
	note() { if [ -n "$${GITHUB_ACTIONS:-}" ]; then echo "::notice title=ci-bench::$$*"; else echo "ci-bench: $$*"; fi; }; \
	has() { (cd "$$1" && { $(GO) run ./cmd/kspbench "$$2" --help >/dev/null 2>&1 || $(GO) run ./cmd/kspbench help 2>&1 | grep -Eq "^[[:space:]]+$$2[[:space:]]"; }); }; \
	base=$$(git rev-parse --verify "$(BASE)^{commit}"); \
	head=$$(git rev-parse --verify "$(HEAD_REF)^{commit}"); \
	mkdir -p "$(BENCH_DIR)"; dir=$$(cd "$(BENCH_DIR)" && pwd); \
	cleanup() { for side in base head; do git worktree remove --force "$$dir/src-$$side" 2>/dev/null || true; done; git worktree prune; }; \
	cleanup; rm -rf "$$dir"/base-* "$$dir"/head-* "$$dir/bin-base" "$$dir/bin-head" "$$dir/compare.txt" "$$dir/compare.md"; \
	trap cleanup EXIT; \
	git worktree add --quiet --detach "$$dir/src-base" "$$base"; \
	git worktree add --quiet --detach "$$dir/src-head" "$$head"; \
	echo "ci-bench: base $$base, head $$head, in $$dir, $(ROUNDS) rounds"; \
	for side in base head; do \
		if ! has "$$dir/src-$$side" run; then \
			note "the $$side commit ($$(git -C "$$dir/src-$$side" rev-parse --short HEAD)) has no 'kspbench run' (or its cmd/kspbench does not build): comparison skipped" | tee "$$dir/compare.txt"; \
			exit 0; \
		fi; \
		echo "ci-bench: building $$side ($$(git -C "$$dir/src-$$side" rev-parse --short HEAD)) from its own tree"; \
		(cd "$$dir/src-$$side" && $(GO) build -o "$$dir/bin-$$side/kspbench" ./cmd/kspbench); \
	done; \
	run() { (cd "$$dir/src-$$1" && "$$dir/bin-$$1/kspbench" run $(BENCH_FLAGS) --out "$$dir/$$1-$$2"); }; \
	bases=""; heads=""; \
	for i in $$(seq 1 $(ROUNDS)); do \
		echo "ci-bench: round $$i of $(ROUNDS): base"; \
		if ! run base "$$i"; then \
			note "'kspbench run' failed on the base commit: comparison skipped" | tee "$$dir/compare.txt"; \
			exit 0; \
		fi; \
		echo "ci-bench: round $$i of $(ROUNDS): head"; \
		run head "$$i"; \
		bases="$${bases:+$$bases,}$$dir/base-$$i"; heads="$${heads:+$$heads,}$$dir/head-$$i"; \
	done; \
	if "$$dir/bin-head/kspbench" compare --help 2>&1 | grep -q -- '-no-gate'; then \
		status=0; \
		(cd "$$dir/src-head" && "$$dir/bin-head/kspbench" compare $(COMPARE_FLAGS) --markdown "$$dir/compare.md" "$$bases" "$$heads") > "$$dir/compare.txt" || status=$$?; \
		cat "$$dir/compare.txt"; \
		exit "$$status"; \
	fi; \
	note "the head's kspbench compare does not gate: benchstat of the last round only, not gated"; \
	: > "$$dir/compare.txt"; \
	for f in "$$dir/head-$(ROUNDS)"/*.txt; do \
		[ -f "$$f" ] || continue; name=$$(basename "$$f"); [ "$$name" != benchstat.txt ] || continue; \
		[ -f "$$dir/base-$(ROUNDS)/$$name" ] || { echo "$$name: only in head" >> "$$dir/compare.txt"; continue; }; \
		{ echo "== $${name%.txt}"; $(GO) tool benchstat -ignore kspbench-version "base=$$dir/base-$(ROUNDS)/$$name" "head=$$f"; echo; } >> "$$dir/compare.txt"; \
	done; \
	cat "$$dir/compare.txt"

ENGINE ?= wazero
ATTACK_DIR ?= build/ci-attack
## ATTACK_ROUNDS: kills of the --kill9 run and rounds of the --hostile run.
ATTACK_ROUNDS ?= 3
# The plugin's make, through a variable: a recipe line naming $$(MAKE) itself runs even under make -n, which
# lint-workflows uses to shellcheck this recipe.
PLUGIN_MAKE = $(MAKE)

## ci-attack: the attack workflow's job for ENGINE (default wazero) on this machine, in $(ATTACK_DIR)/ENGINE:
## builds kspbench and the engine's worker binary, installs the cluster-monitor plugin, starts `kspbench serve
## --engine ENGINE` in the background and runs `kspbench attack --url` against it (slow bodies, idle
## connections, acknowledged writes), then `kspbench attack --kill9` and `--hostile`, each with a serve child of
## its own. Each run's JSON report is written beside the server's log; the target fails when any run finds a
## violation, after all three have run.
ci-attack:
	@set -u; \
	dir="$(CURDIR)/$(ATTACK_DIR)/$(ENGINE)"; bin="$$dir/bin/kspbench"; \
	rm -rf "$$dir"; mkdir -p "$$dir/bin"; \
	echo "ci-attack: $(ENGINE) in $$dir"; \
	$(GO) build -o "$$bin" ./cmd/kspbench || exit 1; \
	"$$bin" workers --out "$$dir/bin" --engines "$$(echo "$(ENGINE)" | cut -d: -f1)" || exit 1; \
	$(PLUGIN_MAKE) -s -C plugins/cluster-monitor install PLUGINS_DIR="$$dir/plugins" || exit 1; \
	set -- --engine "$(ENGINE)" --plugins "$$dir/plugins" --workers "$$dir/bin"; \
	"$$bin" serve "$$@" --data "$$dir/live.db" --addr 127.0.0.1:0 --ready-file "$$dir/ready" 2> "$$dir/serve.log" & \
	pid=$$!; \
	trap 'kill "$$pid" 2>/dev/null || true' EXIT; \
	i=0; until [ -s "$$dir/ready" ]; do \
		if ! kill -0 "$$pid" 2>/dev/null || [ "$$i" -ge 600 ]; then echo "ci-attack: kspbench serve did not start:" >&2; tail -n 50 "$$dir/serve.log" >&2; exit 1; fi; \
		i=$$((i + 1)); sleep 0.2; \
	done; \
	failed=""; \
	echo "== kspbench attack --url http://$$(cat "$$dir/ready") (serve --engine $(ENGINE))"; \
	"$$bin" attack --url "http://$$(cat "$$dir/ready")" > "$$dir/attack-url.json" || failed="$$failed url"; \
	cat "$$dir/attack-url.json"; \
	kill -INT "$$pid"; wait "$$pid" || true; \
	if grep -q panic "$$dir/serve.log"; then echo "ci-attack: the live server's log has a panic:" >&2; grep -n -A5 panic "$$dir/serve.log" >&2; failed="$$failed url"; fi; \
	echo "== kspbench attack --kill9 $(ATTACK_ROUNDS)"; \
	"$$bin" attack --kill9 $(ATTACK_ROUNDS) --serve-args "$$* --data $$dir/kill9.db" > "$$dir/attack-kill9.json" || failed="$$failed kill9"; \
	cat "$$dir/attack-kill9.json"; \
	echo "== kspbench attack --hostile $(ATTACK_ROUNDS)"; \
	"$$bin" attack --hostile $(ATTACK_ROUNDS) --serve-args "$$*" > "$$dir/attack-hostile.json" || failed="$$failed hostile"; \
	cat "$$dir/attack-hostile.json"; \
	if [ -n "$$failed" ]; then echo "ci-attack: $(ENGINE): violations in:$$failed (reports in $$dir)" >&2; exit 1; fi; \
	echo "ci-attack: $(ENGINE) held every attack; reports in $$dir"

## FUZZTIME: how long `make fuzz` runs each fuzz target.
FUZZTIME ?= 20s

## fuzz: a short fuzzing run of every fuzz target of the module (every `func FuzzX` of a _test.go file), one at
## a time, FUZZTIME each: go test -fuzz takes one target per run. `make test` already runs their committed corpora.
fuzz:
	@set -eu; \
	git grep -l '^func Fuzz' -- '*_test.go' | while read -r f; do \
		sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f" | while read -r name; do \
			echo "$(GO) test -run '^$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) ./$$(dirname "$$f")"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "./$$(dirname "$$f")" || exit 1; \
		done || exit 1; \
	done
