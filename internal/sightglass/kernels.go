package sightglass

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// kernels holds the project's own programs in Sightglass's layout, which a
// default run measures: compute kernels in C, Go and Rust whose sources sit
// beside them in kernels/ and which `make sightglass-kernels` rebuilds.
//
//go:embed kernels/*/*.wasm kernels/*/*.input kernels/*/*.expected
var kernels embed.FS

// Kernels returns the built-in kernels as a file system: one folder per
// kernel, each with its wasm, its input and its expected output.
func Kernels() fs.FS {
	sub, err := fs.Sub(kernels, "kernels")
	if err != nil {
		panic(err) // the embedded folder exists
	}
	return sub
}

// WriteKernels writes the built-in kernels into dir, one folder per kernel,
// for Discover and the engines' workers to read.
func WriteKernels(dir string) error {
	if err := os.CopyFS(dir, Kernels()); err != nil {
		return fmt.Errorf("sightglass: write kernels to %s: %w", dir, err)
	}
	return nil
}

// OptInKernels are the built-in kernels a default run leaves out, to keep
// it within its 10-minute budget on 2 cores: compiling ksp-go-sort's 2.4 MB
// (a Go program carries Go's runtime) takes 1 to 4 s per engine and sample,
// and ksp-hashmap and ksp-nbody add little the others do not show (a C
// kernel of memory access and one of floating point) for about 20 s of a
// default run, most of it wazero's safe default running them with its
// deadline checks. The default keeps a loop-heavy C kernel (ksp-crc32),
// matrix arithmetic (ksp-matmul), sorting (ksp-sort) and the Rust kernel.
// Selecting the workload (--bench Sightglass) runs them all.
var OptInKernels = []string{"ksp-go-sort", "ksp-hashmap", "ksp-nbody"}

// KernelsDir is where the kernels' sources and build script live in the
// source tree, relative to the repository's root.
var KernelsDir = filepath.Join("internal", "sightglass", "kernels")
