package action

import (
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// Control parameter names Mechanic reserves inside action options.
const (
	// ControlPerformEvent, set to false, skips the mechanic/actions/perform
	// event of an action run.
	ControlPerformEvent = "__perform_event"
	// ControlMeta moves its value into the action's meta.
	ControlMeta = "__meta"
)

// Control holds the control parameters found in an action's options.
type Control struct {
	// PerformEvent is false when the action asked for no
	// mechanic/actions/perform event; true otherwise.
	PerformEvent bool
	// Meta is the value of __meta; HasMeta tells whether it was given.
	Meta    any
	HasMeta bool
}

// SplitControl removes the control parameters from options. When options
// is a hash holding any of them, it returns a copy without them; otherwise
// options is returned unchanged. __perform_event counts as false only for
// false (or the string "false"), as in Mechanic's docs.
func SplitControl(options any) (rest any, c Control) {
	c.PerformEvent = true
	m, ok := options.(*value.Map)
	if !ok || (!m.Has(ControlPerformEvent) && !m.Has(ControlMeta)) {
		return options, c
	}
	out := m.Clone()
	if v, ok := out.Get(ControlPerformEvent); ok {
		if b, ok := v.(bool); ok && !b {
			c.PerformEvent = false
		} else if s, ok := v.(string); ok && s == "false" {
			c.PerformEvent = false
		}
		out.Delete(ControlPerformEvent)
	}
	if v, ok := out.Get(ControlMeta); ok {
		c.Meta, c.HasMeta = v, true
		out.Delete(ControlMeta)
	}
	return out, c
}

// CheckJSON reports the first part of v that is not a JSON value (a Drop, a
// time, a NaN or infinite float, …), naming its path. Action options and
// results must be plain JSON.
func CheckJSON(v any) error {
	return checkJSON(v, "", 0)
}

const maxJSONDepth = 100

func checkJSON(v any, path string, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("%s: nested more than %d levels deep", pathName(path), maxJSONDepth)
	}
	switch x := v.(type) {
	case nil, bool, int64, string, *big.Int:
		return nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: %s is not a JSON number", pathName(path), value.FormatFloat(x))
		}
		return nil
	case []any:
		for i, e := range x {
			if err := checkJSON(e, joinPath(path, strconv.Itoa(i)), depth+1); err != nil {
				return err
			}
		}
		return nil
	case *value.Map:
		var err error
		x.Each(func(k string, e any) bool {
			err = checkJSON(e, joinPath(path, k), depth+1)
			return err == nil
		})
		return err
	}
	return fmt.Errorf("%s: %s is not a JSON value", pathName(path), value.TypeName(v))
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathName(path string) string {
	if path == "" {
		return "value"
	}
	return strconv.Quote(path)
}
