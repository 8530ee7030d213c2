#!/usr/bin/env bash
# instructions.sh prints, per engine, the instructions (callgrind's Ir) one
# empty call and one guest-to-host call cost: a count that other processes
# cannot inflate the way they inflate time. It still varies (the Go runtime's
# own work differs from run to run): two runs of wazero's empty call printed
# 3160 and 2894. Compare commits at the same N, and only
# for changes well above 10%. Not part of any gate; RATIONALE.md ("A figure
# noise cannot move") gives the numbers.
#
#	scripts/instructions.sh                 # wazero wasmtime wasmer
#	scripts/instructions.sh wazero          # one engine
#	N=20000 scripts/instructions.sh wazero   # more calls per run
#
# For each engine it builds the engine's test binary and runs its
# BenchmarkBaseline (the engine's own API, engines/baselinetest) under
# valgrind --tool=callgrind twice, with N and 2N iterations; the difference
# of the two totals divided by N is the cost of one iteration, the set-up
# (runtime start, compile, instantiate) cancelling out. HostCall's iteration
# is 100 host calls, so its line is per host call (the export call spread
# over the 100).
#
# Needs valgrind. Go's asynchronous preemption (SIGURG) trips a callgrind
# assertion (threads.c: vgCallgrind_post_signal), hence asyncpreemptoff;
# GOGC=off and GOMAXPROCS=1 keep the collector and the scheduler out of the
# difference. Under valgrind the JIT engines run 50-100 times slower: expect
# 10-40 s per run, a few minutes in all.
set -euo pipefail

cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not found" >&2; exit 1; }
N=${N:-5000}
engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=(wazero wasmtime wasmer)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ir BINARY BENCH N prints the total Ir of BINARY running BENCH N times.
ir() {
	GODEBUG=asyncpreemptoff=1 GOGC=off GOMAXPROCS=1 valgrind --tool=callgrind \
		--callgrind-out-file="$tmp/cg.out" "$1" -test.run '^$' \
		-test.bench "^BenchmarkBaseline/$2\$" -test.benchtime="$3x" -test.count=1 \
		>"$tmp/stdout" 2>"$tmp/stderr" || { cat "$tmp/stderr" >&2; return 1; }
	grep -o 'Collected : [0-9]*' "$tmp/stderr" | awk '{print $3}'
}

printf '%-10s %-9s %12s\n' engine call 'Ir per call'
for e in "${engines[@]}"; do
	if ! go test -c -o "$tmp/$e.test" "./engines/$e/" 2>"$tmp/build"; then
		printf '%-10s does not build here: %s\n' "$e" "$(head -n 1 "$tmp/build")"
		continue
	fi
	for bench in Noop HostCall; do
		n=$N per=1
		if [ "$bench" = HostCall ]; then n=$((N / 10)) per=100; fi
		a=$(ir "$tmp/$e.test" "$bench" "$n") b=$(ir "$tmp/$e.test" "$bench" $((2 * n)))
		label=empty
		[ "$bench" = HostCall ] && label=hostcall
		awk -v a="$a" -v b="$b" -v n="$n" -v per="$per" -v e="$e" -v l="$label" \
			'BEGIN { printf "%-10s %-9s %12.0f\n", e, l, (b - a) / (n * per) }'
	done
done
