package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/kspbench/kspbench/abi"
)

// wantErr checks that err matches target (when not nil) and mentions every
// one of words.
func wantErr(what string, err, target error, words ...string) error {
	if err == nil {
		return fmt.Errorf("%s: got no error, want %v", what, target)
	}
	if target != nil && !errors.Is(err, target) {
		return fmt.Errorf("%s: got error %q, want one matching %q", what, err, target)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			return fmt.Errorf("%s: error %q does not mention %q", what, err, w)
		}
	}
	return nil
}

// wantStatus checks that err is an *abi.StatusError with status st.
func wantStatus(what string, err error, st abi.Status) error {
	var se *abi.StatusError
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: got %v, want status %s", what, err, st)
	}
	if se.Status != st {
		return fmt.Errorf("%s: got status %s, want %s", what, se.Status, st)
	}
	return nil
}

// wantBytes checks a response body.
func wantBytes(what string, got []byte, err error, want []byte) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s: got %d bytes %q, want %d bytes %q", what, len(got), clip(got), len(want), clip(want))
	}
	return nil
}

// wantJSON compares two JSON documents as parsed values: same fields, same
// values, whatever the order and spacing.
func wantJSON(what string, got []byte, want string) error {
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Errorf("%s: response is not JSON (%v): %q", what, err, clip(got))
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		return fmt.Errorf("%s: expected value is not JSON: %v", what, err)
	}
	if d := cmp.Diff(w, g); d != "" {
		return fmt.Errorf("%s: JSON differs (-want +got):\n%s", what, d)
	}
	return nil
}

func clip(b []byte) []byte {
	if len(b) > 80 {
		return append(b[:80:80], "..."...)
	}
	return b
}
