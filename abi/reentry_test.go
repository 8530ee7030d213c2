package abi_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kspbench/kspbench/abi"
)

// reentrantGuest is a guest whose allocate calls a data-returning import
// (WriteResult) budget more times before it allocates; a negative budget
// means for ever. It passes the context on, as every engine does.
type reentrantGuest struct {
	guest
	budget   int
	deepest  int
	innerErr error
}

func (g *reentrantGuest) Allocate(ctx context.Context, n uint32) (uint32, error) {
	if g.budget != 0 {
		g.budget--
		g.deepest++
		if _, err := abi.WriteResult(ctx, g, abi.ImportRequestInfo, []byte("{}"), abi.OK); err != nil {
			g.innerErr = err
			return 0, fmt.Errorf("trap: %w", err) // what an engine makes of a host error
		}
	}
	return g.guest.Allocate(ctx, n)
}

func TestWriteResultBoundsReentry(t *testing.T) {
	for _, tc := range []struct {
		budget int
		ok     bool
	}{
		{0, true},
		{1, true},
		{abi.MaxReentryDepth - 1, true},
		{abi.MaxReentryDepth, false},
		{-1, false},
	} {
		g := &reentrantGuest{guest: guest{mem: make([]byte, 4096), next: 16}, budget: tc.budget}
		_, err := abi.WriteResult(context.Background(), g, abi.ImportGetConfig, []byte("value"), abi.OK)
		if tc.ok {
			if err != nil {
				t.Errorf("allocate re-entering %d times: %v", tc.budget, err)
			}
			continue
		}
		var re *abi.ReentryError
		if !errors.As(err, &re) || !errors.Is(err, abi.ErrReentry) {
			t.Errorf("allocate re-entering %d times: got %v, want a *abi.ReentryError", tc.budget, err)
			continue
		}
		if re.Depth != abi.MaxReentryDepth || re.Import != abi.ImportRequestInfo || g.deepest != abi.MaxReentryDepth {
			t.Errorf("allocate re-entering %d times: %+v after %d nested imports", tc.budget, re, g.deepest)
		}
		if err != error(re) {
			t.Errorf("the outermost import wraps the refusal again: %v", err)
		}
	}
}
