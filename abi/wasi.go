package abi

import (
	"fmt"
	"strings"
)

// WASIModule is the module name of WASI preview 1, which every engine
// kspbench supports provides in full.
const WASIModule = "wasi_snapshot_preview1"

// wasiSignatures lists every function of WASI preview 1 with its type, as
// "params:results" with i for i32 and I for i64. The wazero adapter's tests
// check the table against wazero's own WASI module.
var wasiSignatures = map[string]string{
	"args_get": "ii:i", "args_sizes_get": "ii:i", "environ_get": "ii:i", "environ_sizes_get": "ii:i",
	"clock_res_get": "ii:i", "clock_time_get": "iIi:i",
	"fd_advise": "iIIi:i", "fd_allocate": "iII:i", "fd_close": "i:i", "fd_datasync": "i:i",
	"fd_fdstat_get": "ii:i", "fd_fdstat_set_flags": "ii:i", "fd_fdstat_set_rights": "iII:i",
	"fd_filestat_get": "ii:i", "fd_filestat_set_size": "iI:i", "fd_filestat_set_times": "iIIi:i",
	"fd_pread": "iiiIi:i", "fd_prestat_get": "ii:i", "fd_prestat_dir_name": "iii:i", "fd_pwrite": "iiiIi:i",
	"fd_read": "iiii:i", "fd_readdir": "iiiIi:i", "fd_renumber": "ii:i", "fd_seek": "iIii:i", "fd_sync": "i:i",
	"fd_tell": "ii:i", "fd_write": "iiii:i",
	"path_create_directory": "iii:i", "path_filestat_get": "iiiii:i", "path_filestat_set_times": "iiiiIIi:i",
	"path_link": "iiiiiii:i", "path_open": "iiiiiIIii:i", "path_readlink": "iiiiii:i",
	"path_remove_directory": "iii:i", "path_rename": "iiiiii:i", "path_symlink": "iiiii:i",
	"path_unlink_file": "iii:i", "poll_oneoff": "iiii:i", "proc_exit": "i:", "proc_raise": "i:i",
	"sched_yield": ":i", "random_get": "ii:i",
	"sock_accept": "iii:i", "sock_recv": "iiiiii:i", "sock_send": "iiiii:i", "sock_shutdown": "ii:i",
}

// WASIFunc returns the type of the WASI preview 1 function called name, or
// false when WASI preview 1 has no such function.
func WASIFunc(name string) (FuncType, bool) {
	sig, ok := wasiSignatures[name]
	if !ok {
		return FuncType{}, false
	}
	p, r, _ := strings.Cut(sig, ":")
	return FuncType{Params: sigTypes(p), Results: sigTypes(r)}, true
}

// WASIFuncNames returns the names of WASI preview 1's functions, unordered.
func WASIFuncNames() []string {
	names := make([]string, 0, len(wasiSignatures))
	for n := range wasiSignatures {
		names = append(names, n)
	}
	return names
}

func sigTypes(s string) []ValueType {
	var out []ValueType
	for _, c := range s {
		switch c {
		case 'i':
			out = append(out, I32)
		case 'I':
			out = append(out, I64)
		default:
			panic(fmt.Sprintf("abi: bad signature letter %q", c))
		}
	}
	return out
}
