package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kspbench/kspbench/host/storage"
)

func TestCompactCommand(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data.db")
	db, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(ctx, "p", []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	compact := func() (string, error) {
		var stdout, stderr bytes.Buffer
		err := kspbench(ctx, nil, &stdout, &stderr, []string{"compact", "--data", path})
		return stdout.String(), err
	}
	// A file that a store (as a running serve) holds is refused.
	if _, err := compact(); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("compact of a file in use: %v, want a refusal naming the lock", err)
	}
	db.Close()
	out, err := compact()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "compacted "+path+": ") {
		t.Errorf("output %q, want the file and its sizes", out)
	}
	db, err = storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.Get(ctx, "p", []byte("k")); err != nil || string(v) != "v" {
		t.Errorf("after compact, Get = %q, %v; want v", v, err)
	}
	var stderr bytes.Buffer
	if err := kspbench(ctx, nil, &bytes.Buffer{}, &stderr, []string{"compact"}); err == nil || !strings.Contains(err.Error(), "--data") {
		t.Errorf("compact without --data: %v, want an error naming --data", err)
	}
}
