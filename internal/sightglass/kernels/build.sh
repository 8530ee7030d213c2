#!/bin/sh
# build.sh rebuilds the Sightglass-layout kernels of this folder, each into
# <out>/<name>/<name>.wasm (default: this folder), reproducibly: fixed flags,
# source paths made relative, no debug information. Toolchains: Debian 12's
# clang 14 + lld + wasi-libc + libclang-rt-14-dev-wasm32 for C, the Go of go.mod
# for Go, Debian's rustc 1.63 (/usr/bin/rustc) + libstd-rust-dev-wasm32 for Rust.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
GO=${GO:-go}
RUSTC=${RUSTC:-/usr/bin/rustc}
cd "$here"
for src in ksp-*/ksp-*.c; do
	name=$(dirname "$src")
	mkdir -p "$out/$name"
	clang --target=wasm32-wasi -O2 -ffile-prefix-map="$here"=. -Wl,--strip-all \
		-o "$out/$name/$name.wasm" "$src" -lm
done
mkdir -p "$out/ksp-go-sort"
GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-buildvcs=false "$GO" build -trimpath -ldflags=-s \
	-o "$out/ksp-go-sort/ksp-go-sort.wasm" ./ksp-go-sort
mkdir -p "$out/ksp-rust-wordfreq"
"$RUSTC" --edition 2021 --target wasm32-wasi -C opt-level=2 -C strip=debuginfo -C codegen-units=1 \
	--remap-path-prefix="$here"=. -o "$out/ksp-rust-wordfreq/ksp-rust-wordfreq.wasm" ksp-rust-wordfreq/main.rs
# The toolchains that made these bytes: the rebuild test compares only the
# kernels whose toolchain matches.
{
	echo "c: $(clang --version | head -n 1)"
	echo "go: $("$GO" env GOVERSION)"
	echo "rust: $("$RUSTC" --version)"
} >"$out/toolchains.txt"
