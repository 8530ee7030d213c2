#!/bin/sh
# build.sh rebuilds cluster-monitor-c.wasm from main.c: no libc, plain
# WebAssembly 1.0 (-mcpu=mvp), -Os (a plugin is shipped: size over speed;
# -O2 inlines the writers into a 56 KB module), stripped, source paths made
# relative, so a rebuild with the same clang gives the same bytes
# (conformance's TestClusterMonitorCMatchesSource checks it, and
# TestClusterMonitorCCopy that conformance/testdata/cluster-monitor-c is a
# copy of this folder). Needs clang and lld (Debian 12: clang 14).
#
# Usage: ./build.sh [OUTDIR]   (default: this folder)
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
out=${1:-$dir}
mkdir -p "$out"
cd "$dir"
clang --target=wasm32 -mcpu=mvp -Os -nostdlib -ffile-prefix-map="$dir"=. \
	-Wl,--no-entry -Wl,--strip-all -Wl,--initial-memory=131072 \
	-o "$out/cluster-monitor-c.wasm" main.c
