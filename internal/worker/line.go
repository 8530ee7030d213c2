package worker

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The lines this package writes most (a request, its response, a host call
// and its reply) are built and read here by hand, in the field order the
// protocol's structs have, so that a payload that is already JSON (args, a
// result) is copied as is instead of being encoded, or scanned, a second
// time. Any other line, or one of these in another shape, goes through
// encoding/json: the wire format is the same either way.

// appendUintField appends `"key":n`.
func appendUintField(b []byte, key string, n uint64) []byte {
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":`...)
	return strconv.AppendUint(b, n, 10)
}

// appendRawField appends `,"key":raw`.
func appendRawField(b []byte, key string, raw []byte) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	return append(b, raw...)
}

// appendStringField appends `,"key":"s"`, s JSON-encoded.
func appendStringField(b []byte, key, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return appendRawField(b, key, q)
}

// appendReply appends the line of a Response (key "id") or a HostReply
// (key "host"): exactly one of errMsg and result is used.
func appendReply(b []byte, key string, id uint64, result []byte, errMsg string) []byte {
	b = appendUintField(append(b, '{'), key, id)
	switch {
	case errMsg != "":
		b = appendStringField(b, "error", errMsg)
	case len(result) > 0:
		b = appendRawField(b, "result", result)
	}
	return append(b, "}\n"...)
}

// parseFast reads a line of the shapes appendRequest, appendReply and
// appendHostCall write without an error message:
//
//	{"id":N,"op":"NAME"}  {"id":N,"op":"NAME","args":RAW}  {"id":N,"result":RAW}
//	{"host":N,"result":RAW}  {"host":N,"call":N,"op":"NAME","args":RAW}
//
// RAW, the rest of the line but its closing brace, is not checked here: its
// reader decodes it (and fails on it) as it would any JSON. Args and Result
// point into line. ok is false for any other line.
func parseFast(line []byte) (m message, ok bool) {
	b, ok := bytes.CutPrefix(line, []byte(`{"`))
	if !ok || len(b) == 0 || b[len(b)-1] != '}' {
		return m, false
	}
	b = b[:len(b)-1]
	var host bool
	if b, host = bytes.CutPrefix(b, []byte(`host":`)); host {
		if m.Host, b, ok = cutUint(b); !ok || m.Host == 0 {
			return m, false
		}
		if raw, ok := bytes.CutPrefix(b, []byte(`,"result":`)); ok && len(raw) > 0 {
			m.Result = raw
			return m, true
		}
		if b, ok = bytes.CutPrefix(b, []byte(`,"call":`)); !ok {
			return m, false
		}
		if m.Call, b, ok = cutUint(b); !ok {
			return m, false
		}
	} else {
		if b, ok = bytes.CutPrefix(b, []byte(`id":`)); !ok {
			return m, false
		}
		if m.ID, b, ok = cutUint(b); !ok {
			return m, false
		}
		if raw, ok := bytes.CutPrefix(b, []byte(`,"result":`)); ok && len(raw) > 0 {
			m.Result = raw
			return m, true
		}
	}
	if b, ok = bytes.CutPrefix(b, []byte(`,"op":"`)); !ok {
		return m, false
	}
	i := 0
	for i < len(b) && isNameByte(b[i]) {
		i++
	}
	if i == 0 || i == len(b) || b[i] != '"' {
		return m, false
	}
	m.Op, b = string(b[:i]), b[i+1:]
	if len(b) == 0 && !host {
		return m, true
	}
	if raw, ok := bytes.CutPrefix(b, []byte(`,"args":`)); ok && len(raw) > 0 {
		m.Args = raw
		return m, true
	}
	return m, false
}

// cutUint reads the decimal number b starts with.
func cutUint(b []byte) (uint64, []byte, bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 || i > 1 && b[0] == '0' {
		return 0, b, false
	}
	n, err := strconv.ParseUint(string(b[:i]), 10, 64)
	return n, b[i:], err == nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// parseLine reads any protocol line: parseFast's shapes by hand, the others
// with encoding/json. Args and Result may point into line.
func parseLine(line []byte) (message, error) {
	if m, ok := parseFast(line); ok {
		return m, nil
	}
	var m message
	err := json.Unmarshal(line, &m)
	return m, err
}
