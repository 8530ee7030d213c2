package bench

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckRefusesAWrongAnswer(t *testing.T) {
	if err := check("fig", []byte("abc"), []byte("abc"), nil); err != nil {
		t.Fatal(err)
	}
	if err := check("fig", []byte("abd"), []byte("abc"), nil); err == nil || !strings.Contains(err.Error(), "not timing a wrong answer") {
		t.Errorf("a wrong answer: %v", err)
	}
	cause := errors.New("trap")
	if err := check("fig", nil, []byte("abc"), cause); !errors.Is(err, cause) {
		t.Errorf("a failed call: %v", err)
	}
}

func TestMeasureRunsForAboutTheTimeAsked(t *testing.T) {
	calls := 0
	r := measure(5*time.Millisecond, func(n int) {
		calls += n
		time.Sleep(time.Duration(n) * 10 * time.Microsecond)
	})
	if r.T < 5*time.Millisecond || r.N < 2 {
		t.Errorf("measure stopped at n=%d after %v", r.N, r.T)
	}
	if calls < r.N {
		t.Errorf("body ran %d ops in all, fewer than the last run's %d", calls, r.N)
	}
	s := r.sample("X")
	if s.Values[0].Unit != "sec/op" || s.Values[0].Value <= 0 {
		t.Errorf("sample %+v", s)
	}
}

func TestMeasureParallelSharesTheOps(t *testing.T) {
	var done [3]int
	r := measureParallel(time.Millisecond, 3, func(g int, next func() bool) {
		for next() {
			done[g]++
		}
	})
	if got := done[0] + done[1] + done[2]; got < r.N {
		t.Errorf("%d ops done, want at least the last run's %d", got, r.N)
	}
}

// TestMeasureFromAHint checks that a figure measured again starts at the n
// its last sample predicted, not at 1.
func TestMeasureFromAHint(t *testing.T) {
	var runs []int
	body := func(n int) {
		runs = append(runs, n)
		time.Sleep(time.Duration(n) * 20 * time.Microsecond)
	}
	const d = 5 * time.Millisecond
	name := t.Name()
	calibrated.Delete(name) // -count=N runs this test again in one process
	first := measureFrom(d, startOf(name), body)
	remember(name, d, first)
	if len(runs) < 2 || runs[0] != 1 {
		t.Fatalf("first sample ran n = %v, want a ramp from 1", runs)
	}
	hint := startOf(name)
	runs = nil
	second := measureFrom(d, hint, body)
	if hint < 2 || runs[0] != hint || second.T < d {
		t.Errorf("second sample ran n = %v lasting %v, want a first run of the predicted %d, lasting at least %v in all", runs, second.T, hint, d)
	}
}
