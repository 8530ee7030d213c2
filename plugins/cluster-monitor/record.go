package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Bounds of a cluster record.
const (
	maxIDLength   = 63  // a DNS label (RFC 1123)
	maxNameLength = 256 // characters, not bytes
)

// recordFields lists the fields of a cluster record, all required, in the
// order their errors are reported.
var recordFields = []string{"id", "name", "status", "nodes", "pods"}

// parseClusterRecord reads the body of POST /data: one JSON object with
// exactly the fields id, name, status, nodes and pods. It rejects unknown,
// duplicate and missing fields, values of the wrong type, and data after the
// object; the error says what is wrong.
func parseClusterRecord(body []byte) (cluster, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return cluster{}, errors.New("body is empty; send a JSON object with id, name, status, nodes and pods")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return cluster{}, notJSON(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return cluster{}, fmt.Errorf("body must be a JSON object, got %s", tokenKind(tok))
	}
	values := make(map[string]json.RawMessage, len(recordFields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return cluster{}, notJSON(err)
		}
		key := tok.(string) // inside an object, the decoder yields keys as strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return cluster{}, notJSON(err)
		}
		if !isRecordField(key) {
			return cluster{}, fmt.Errorf("unknown field %s (the fields are id, name, status, nodes, pods)", quoteShort(key))
		}
		if _, dup := values[key]; dup {
			return cluster{}, fmt.Errorf("duplicate field %s", quoteShort(key))
		}
		values[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return cluster{}, notJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return cluster{}, notJSON(err)
		}
		return cluster{}, errors.New("unexpected data after the JSON object")
	}

	for _, f := range recordFields {
		if _, ok := values[f]; !ok {
			return cluster{}, fmt.Errorf("missing field %q", f)
		}
	}
	var c cluster
	if c.ID, err = stringField(values, "id"); err != nil {
		return cluster{}, err
	}
	if c.Name, err = stringField(values, "name"); err != nil {
		return cluster{}, err
	}
	if c.Status, err = stringField(values, "status"); err != nil {
		return cluster{}, err
	}
	if c.Nodes, err = countField(values, "nodes"); err != nil {
		return cluster{}, err
	}
	if c.Pods, err = countField(values, "pods"); err != nil {
		return cluster{}, err
	}
	if err := c.validate(); err != nil {
		return cluster{}, err
	}
	return c, nil
}

// validate checks the values of a record whose fields have the right types.
func (c cluster) validate() error {
	if !isDNSLabel(c.ID) {
		return fmt.Errorf("id %s is not a DNS label (1 to %d lowercase letters, digits or '-', starting and ending with a letter or digit)", quoteShort(c.ID), maxIDLength)
	}
	if n := utf8.RuneCountInString(c.Name); n < 1 || n > maxNameLength {
		return fmt.Errorf("name must be 1 to %d characters long, got %d", maxNameLength, n)
	}
	switch c.Status {
	case healthHealthy, healthWarning, healthUnhealthy:
	default:
		return fmt.Errorf("status %s is not one of healthy, warning, unhealthy", quoteShort(c.Status))
	}
	if c.Nodes < 0 {
		return fmt.Errorf("nodes must be an integer >= 0, got %d", c.Nodes)
	}
	if c.Pods < 0 {
		return fmt.Errorf("pods must be an integer >= 0, got %d", c.Pods)
	}
	return nil
}

func isRecordField(key string) bool {
	for _, f := range recordFields {
		if f == key {
			return true
		}
	}
	return false
}

// isDNSLabel reports whether s is an RFC 1123 label: 1 to 63 characters of
// a-z, 0-9 and '-', starting and ending with a letter or digit.
func isDNSLabel(s string) bool {
	if len(s) < 1 || len(s) > maxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		alnum := b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
		if !alnum && (b != '-' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

func stringField(values map[string]json.RawMessage, name string) (string, error) {
	raw := values[name]
	if kind := rawKind(raw); kind != "string" {
		return "", fmt.Errorf("%s must be a string, got %s", name, kind)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

func countField(values map[string]json.RawMessage, name string) (int64, error) {
	raw := values[name]
	if kind := rawKind(raw); kind != "number" {
		return 0, fmt.Errorf("%s must be an integer >= 0, got %s", name, kind)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		var numErr *strconv.NumError
		if errors.As(err, &numErr) && numErr.Err == strconv.ErrRange {
			return 0, fmt.Errorf("%s %s is out of range", name, shorten(string(raw)))
		}
		return 0, fmt.Errorf("%s must be an integer >= 0, got %s", name, shorten(string(raw)))
	}
	if n < 0 {
		return 0, fmt.Errorf("%s must be an integer >= 0, got %d", name, n)
	}
	return n, nil
}

// rawKind names the JSON type of a value the decoder has already checked.
func rawKind(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// tokenKind names the JSON type of the first token of a value.
func tokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}

func notJSON(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("body is not JSON: unexpected end of input")
	}
	return fmt.Errorf("body is not JSON: %w", err)
}

// maxQuoted bounds how much of a client's value an error message repeats.
const maxQuoted = 64

// quoteShort quotes s as %q does, keeping only its first maxQuoted characters.
func quoteShort(s string) string {
	return strconv.Quote(shorten(s))
}

// shorten returns s cut to maxQuoted characters, marked with "..." when cut.
func shorten(s string) string {
	n := 0
	for i := range s {
		if n == maxQuoted {
			return s[:i] + "..."
		}
		n++
	}
	return s
}
