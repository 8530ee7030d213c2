//go:build wasip1

// Command ksp-go-sort is a kernel of the Sightglass workload written in Go:
// it builds N records (N from default.input), sorts them by two keys with
// slices.SortFunc, groups them in a map and prints a checksum. Build it with
// GOOS=wasip1 GOARCH=wasm (see build.sh).
package main

import (
	"cmp"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

//go:wasmimport bench start
func benchStart()

//go:wasmimport bench end
func benchEnd()

//go:wasmimport wasi_snapshot_preview1 path_open
func pathOpen(fd int32, dirflags int32, path *byte, pathLen int32, oflags int32,
	rightsBase int64, rightsInheriting int64, fdflags int32, fdOut *int32) int32

//go:wasmimport wasi_snapshot_preview1 fd_prestat_get
func fdPrestatGet(fd int32, prestat *uint32) int32

//go:wasmimport wasi_snapshot_preview1 fd_prestat_dir_name
func fdPrestatDirName(fd int32, path *byte, pathLen int32) int32

// readInput reads name from the preopened folder "." with WASI's path_open
// directly. Go's own os.Open cannot: syscall/fs_wasip1.go joins a relative
// path with the current directory "." into "name", which no preopen name
// prefixes, and fails with EBADF on wasmtime and wasmer. The preopen is
// found as wasi-libc finds it, by asking fds from 3 up: the one named ".",
// else the one named "/" (wazero names a "." mount "/"; Wasmer 2.0 has a
// "/" of its own before the ".").
func readInput(name string) ([]byte, error) {
	dot, root := int32(-1), int32(-1)
	var seen []string
	for fd := int32(3); ; fd++ {
		var prestat [2]uint32 // tag (0: a directory), then the name's length
		if errno := fdPrestatGet(fd, &prestat[0]); errno != 0 {
			break // EBADF: no more preopens
		}
		if prestat[0]&0xff != 0 || prestat[1] == 0 || prestat[1] > 256 {
			continue
		}
		buf := make([]byte, prestat[1])
		if errno := fdPrestatDirName(fd, &buf[0], int32(len(buf))); errno != 0 {
			continue
		}
		// Wasmer 2.0 counts and writes a final NUL.
		dirName := strings.TrimRight(string(buf), "\x00")
		seen = append(seen, strconv.Quote(dirName))
		switch {
		case dirName == "." && dot < 0:
			dot = fd
		case dirName == "/" && root < 0:
			root = fd
		}
	}
	dir := dot
	if dir < 0 {
		dir = root // wazero names a "." mount "/"
	}
	if dir < 0 {
		return nil, errors.New("no preopened folder named . or / for " + name + " (preopens: " + strings.Join(seen, ", ") + ")")
	}
	// Rights: fd_read, fd_seek, fd_tell, fd_filestat_get (what a reader needs).
	const rights = 1<<1 | 1<<2 | 1<<5 | 1<<21
	var fd int32
	if errno := pathOpen(dir, 0, unsafe.StringData(name), int32(len(name)), 0, rights, 0, 0, &fd); errno != 0 {
		return nil, os.NewSyscallError("path_open "+name, syscallErrno(errno))
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	return io.ReadAll(f)
}

type syscallErrno int32

func (e syscallErrno) Error() string { return "WASI errno " + strconv.Itoa(int(e)) }

type record struct {
	group int
	score uint32
	name  string
}

func main() {
	b, err := readInput("default.input")
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(2)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		os.Stderr.WriteString("default.input: want a positive number\n")
		os.Exit(2)
	}
	recs := make([]record, n)
	x := uint32(2463534242)
	for i := range recs {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		recs[i] = record{group: int(x % 97), score: x >> 8, name: "r" + strconv.Itoa(i)}
	}

	benchStart()
	slices.SortFunc(recs, func(a, b record) int {
		return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(b.score, a.score), strings.Compare(a.name, b.name))
	})
	best := map[int]string{}
	counts := map[int]int{}
	for _, r := range recs {
		if _, ok := best[r.group]; !ok {
			best[r.group] = r.name
		}
		counts[r.group]++
	}
	benchEnd()

	sum := uint64(0)
	for _, r := range recs {
		sum = sum*31 + uint64(r.score)
	}
	os.Stdout.WriteString("sorted " + strconv.Itoa(n) + " records into " + strconv.Itoa(len(counts)) + " groups; group 0 best " +
		best[0] + " of " + strconv.Itoa(counts[0]) + "; checksum " + strconv.FormatUint(sum, 16) + "\n")
}
