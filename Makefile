# kspbench: the same steps CI runs, for a local machine.
GO ?= go
BIN := build/bin

.PHONY: all test vet fmt-check plugin-test conformance bench run quick workers guests clean

all: test

## test: everything CI checks: formatting, vet, race-enabled tests of every package
## (the conformance suite on all three engines included) and the plugin's own tests.
test: fmt-check vet
	$(GO) test -race -count=1 ./...
	$(MAKE) -C plugins/cluster-monitor test

vet:
	$(GO) vet ./...
	$(GO) vet -tags wasmtime ./cmd/kspbench
	$(GO) vet -tags wasmer ./cmd/kspbench

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

## workers: one kspbench binary per engine in build/bin (wazero, wasmtime, wasmer).
workers:
	$(GO) build -o $(BIN)/kspbench-wazero ./cmd/kspbench
	$(GO) build -tags wasmtime -o $(BIN)/kspbench-wasmtime ./cmd/kspbench
	$(GO) build -tags wasmer -o $(BIN)/kspbench-wasmer ./cmd/kspbench

## guests: rebuild the WAT test guests (needs wabt's wat2wasm).
guests:
	sh conformance/testdata/build.sh

clean:
	rm -rf build
	$(MAKE) -C plugins/cluster-monitor clean
