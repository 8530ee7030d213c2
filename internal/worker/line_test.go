package worker

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestParseFast: the lines written by hand read the same by hand as with
// encoding/json, and lines of other shapes are left to encoding/json.
func TestParseFast(t *testing.T) {
	req, err := appendRequest(nil, 7, "plugin-call", map[string]any{"path": "/x", "body": []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	hello, _ := appendRequest(nil, 1, "hello", nil)
	hostCall := appendUintField(append([]byte(nil), '{'), "host", 3)
	hostCall = appendStringField(appendUintField(append(hostCall, ','), "call", 7), "op", "storage-get")
	hostCall = append(appendRawField(hostCall, "args", []byte(`{"key":"aw=="}`)), "}\n"...)
	fast := [][]byte{
		req, hello, hostCall,
		appendReply(nil, "id", 7, []byte(`{"status":200,"body":"b2s="}`), ""),
		appendReply(nil, "host", 3, []byte(`"x"`), ""),
		appendReply(nil, "id", 1, []byte(`null`), ""),
	}
	for _, line := range fast {
		line = line[:len(line)-1] // the scanner drops the newline
		m, ok := parseFast(line)
		if !ok {
			t.Errorf("%s: not read by hand", line)
			continue
		}
		var want message
		if err := json.Unmarshal(line, &want); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("%s: read by hand as %+v, by encoding/json as %+v", line, m, want)
		}
	}
	for _, line := range []string{
		`{"id":7,"error":"no"}`, `{"host":3,"error":"no"}`, `{"id":7}`, `{"log":{"msg":"x"}}`,
		`{"id":7,"op":"a\"b"}`, `{"id":07,"result":1}`, `{"id":7,"result":}`, `{"host":0,"result":1}`,
		`{"id":18446744073709551616,"result":1}`, `{"host":1,"call":2,"op":"x"}`, `{ "id":7,"result":1}`,
		`{"id":7,"op":"x","args":1`,
	} {
		if m, ok := parseFast([]byte(line)); ok {
			t.Errorf("%s: read by hand as %+v, want it left to encoding/json", line, m)
		}
	}
}
