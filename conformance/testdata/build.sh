#!/bin/sh
# build.sh rebuilds every guest .wasm in this folder from its .wat source with
# wat2wasm (wabt). The .wasm files are committed, so the repository builds and
# tests without wabt; run this after editing a .wat and commit both.
# TestGuestsMatchSources (conformance/guests_test.go) checks that they agree.
#
# Usage: ./build.sh [OUTDIR]   (default: this folder)
#
# The guests are plain WebAssembly 1.0 (MVP): the flags below make wat2wasm
# reject any later feature, so every engine kspbench supports can run them.
# guests_test.go passes the same flags; keep the two in step.
set -eu

WAT2WASM_FLAGS="--disable-bulk-memory --disable-reference-types --disable-sign-extension --disable-saturating-float-to-int --disable-multi-value --disable-simd"

if ! command -v wat2wasm >/dev/null 2>&1; then
	echo "build.sh: wat2wasm not found on PATH; install wabt: apt-get install wabt" >&2
	exit 1
fi

dir=$(cd "$(dirname "$0")" && pwd)
out=${1:-$dir}
mkdir -p "$out"

for src in "$dir"/*.wat; do
	name=$(basename "$src" .wat)
	# shellcheck disable=SC2086 # the flags are meant to split
	wat2wasm $WAT2WASM_FLAGS "$src" -o "$out/$name.wasm"
	echo "$name.wasm"
done
