package attack

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// procStats is what the hostile check watches of the server process: its
// threads, and the resident memory and count of it and its children (the
// isolation workers), read from Linux's /proc.
type procStats struct {
	threads  int
	rss      int64 // bytes: the server's and its children's
	children int   // child processes, zombies included
	zombies  int   // children that exited and were not waited for
}

func (s procStats) String() string {
	return fmt.Sprintf("%d threads, %d MiB resident, %d child processes (%d not reaped)", s.threads, s.rss>>20, s.children, s.zombies)
}

// readProcStats reads pid's procStats.
//
// # Errors
//
// On a system without /proc (anything but Linux), or when pid is gone.
func readProcStats(pid int) (procStats, error) {
	var st procStats
	if runtime.GOOS != "linux" {
		return st, fmt.Errorf("threads and memory are read from /proc, which %s does not have", runtime.GOOS)
	}
	threads, rss, err := readStatus(pid)
	if err != nil {
		return st, err
	}
	st.threads, st.rss = threads, rss
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return st, fmt.Errorf("attack: %w", err)
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses,
		// so the fields are read after the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		st.children++
		if f[0] == "Z" {
			st.zombies++
			continue
		}
		if _, crss, err := readStatus(child); err == nil {
			st.rss += crss
		}
	}
	return st, nil
}

// readStatus reads the thread count and resident bytes of /proc/pid/status.
func readStatus(pid int) (threads int, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("attack: process %d: %w", pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "Threads":
			threads, _ = strconv.Atoi(f[0])
		case "VmRSS": // "VmRSS:  1234 kB"
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			rss = kb << 10
		}
	}
	if threads == 0 {
		return 0, 0, fmt.Errorf("attack: process %d: no thread count in /proc/%d/status", pid, pid)
	}
	return threads, rss, nil
}
