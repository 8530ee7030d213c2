package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// ConfigValues returns the default of each spec.configuration item as the
// text host_get_config hands to the guest:
//   - a string as itself;
//   - an integer in decimal, a float as yaml.v3 writes it (1.5, 1e+06, .inf,
//     .nan), a boolean as true or false: "0x1F" gives "31", "True" "true";
//   - a list or a mapping as compact JSON, mapping keys sorted (non-finite
//     floats inside become the strings ".inf", "-.inf", ".nan").
//
// Items whose default is null or absent have no entry.
func (m *Manifest) ConfigValues() map[string]string {
	values := make(map[string]string)
	for _, c := range m.Spec.Configuration {
		if s, ok := renderValue(c.Default); ok && c.Name != "" {
			values[c.Name] = s
		}
	}
	return values
}

// renderValue returns the text of a configuration value, and false for nil.
func renderValue(val any) (string, bool) {
	if val == nil {
		return "", false
	}
	rv := reflect.ValueOf(val)
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), true
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true
	case reflect.Float32:
		return formatFloat(rv.Float(), 32), true
	case reflect.Float64:
		return formatFloat(rv.Float(), 64), true
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonable(val)); err != nil {
		return fmt.Sprint(val), true // not a YAML value; only code builds these
	}
	return strings.TrimSuffix(b.String(), "\n"), true
}

// formatFloat writes f as yaml.v3 does.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case math.IsNaN(f):
		return ".nan"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// jsonable returns val with every map keyed by strings and every
// non-finite float replaced by its YAML text, so that encoding/json takes it.
func jsonable(val any) any {
	switch x := val.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := renderValue(k)
			if !ok {
				ks = "null"
			}
			out[ks] = jsonable(e)
		}
		return out
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return formatFloat(x, 64)
		}
	case float32:
		if math.IsInf(float64(x), 0) || math.IsNaN(float64(x)) {
			return formatFloat(float64(x), 32)
		}
	}
	return val
}
