package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/kspbench/kspbench/host/storage"
)

const compactLong = `Rewrites serve's storage file (bbolt) without the space that deleted data
left free, and prints its size before and after. serve does the same on its
own at start when at least half of the file (and 4 MiB) is free; this command
compacts whatever the share, for example before a backup.

The file must not be in use: compact waits a second for its lock and refuses
a file that a running serve (or a plugin's worker) holds. The copy is written
beside the file, checked, synced and renamed over it; on any failure the
original is kept unchanged.`

const compactExample = `  kspbench compact --data build/kspbench-data.db
  kspbench compact --data build/kspbench-data.db.cluster-monitor.db   # a process-isolated plugin's file`

func runCompact(fs *flag.FlagSet) action {
	data := fs.String("data", "", "bbolt file to compact (serve's --data; required)")
	return func(_ context.Context, inv *invocation) error {
		if *data == "" {
			return errors.New("compact: --data FILE is required: the storage file to compact (serve's --data)")
		}
		c, err := storage.Compact(*data)
		if err != nil {
			return fmt.Errorf("compact: %w", err)
		}
		fmt.Fprintf(inv.stdout, "compacted %s: %s -> %s\n", *data, fileSize(c.Before), fileSize(c.After))
		return nil
	}
}

func fileSize(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
