package liquid

import (
	"strconv"
	"unsafe"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// Memory accounting. Every allocation a render makes on a template's behalf
// is charged as it happens: bytes written to the output and to captures,
// the strings captures and filters build, the arrays and hashes filters and
// assignments build, parsed documents. The charges are a running count, not
// a measure of the process: the same template and data give the same
// counts on every run. When the charges since the last count reach the
// budget (Limits.MemoryBytes), the engine counts what the render still
// holds — the values its variables reach (value.Sizer, shared values once),
// its output and the captures in progress, plus the allocation being
// charged — and fails the render with a memory limit error when that is
// more than the budget; otherwise the count becomes the new baseline. So a
// template that builds a string by appending in a loop, keeping only the
// last one, is charged for what it keeps, not for every intermediate copy.
//
// The render's inputs (the variables it was given and the globals) are not
// the render's allocations and are left out, unless the render changes a
// hash in place (assignment into keys), after which they count as well, so
// that nothing can be parked in them uncounted.

// memoryStepsPer is how many values a count visits per render step charged:
// counting is work too, and a render that forces count after count on a
// huge live set runs out of steps.
const memoryStepsPer = 64

// Charge charges n bytes the render is about to allocate to its memory
// budget (Limits.MemoryBytes). It fails with a memory limit error when the
// render would hold more than the budget.
func (rc *RenderContext) Charge(n int64) error {
	sh := rc.sh
	sh.charges++
	if n < 0 {
		n = 0
	}
	if n <= sh.limits.MemoryBytes-sh.mem {
		sh.mem += n
		return nil
	}
	return rc.countMemory(n)
}

// ChargeValue charges the memory of v, a value just built (a parsed
// document, a deep copy), to the budget.
func (rc *RenderContext) ChargeValue(v any) error {
	return rc.Charge(value.MemorySize(v))
}

// NoteInPlaceChange records that the render changed a hash or array it
// may not have built in place (an assignment into keys or indexes): from
// then on, memory counts include the render's inputs.
func (rc *RenderContext) NoteInPlaceChange() { rc.sh.inputsChanged = true }

// MemoryCharged returns the bytes charged to the memory budget: what the
// last count found held plus every charge since.
func (rc *RenderContext) MemoryCharged() int64 { return rc.sh.mem }

// countMemory counts what the render holds, with pending bytes about to be
// allocated, and fails when that exceeds the budget.
func (rc *RenderContext) countMemory(pending int64) error {
	sh := rc.sh
	sh.memCounts++
	var sz value.Sizer
	inputs := func() int64 {
		var n int64
		for _, f := range sh.frames {
			n += sz.Size(f.env)
		}
		return n + sz.Size(sh.globals)
	}
	if !sh.inputsChanged {
		// Mark the inputs as seen so that the values they reach are not
		// counted as the render's.
		inputs()
	}
	held := sh.heldBuffers + int64(len(rc.buf))
	for _, f := range sh.frames {
		for _, s := range f.scopes {
			held += sz.Size(s)
		}
		if f.counters != nil {
			held += sz.Size(f.counters)
		}
	}
	if sh.inputsChanged {
		held += inputs()
	}
	if err := rc.Step(sz.Visited / memoryStepsPer); err != nil {
		return err
	}
	sh.memPeak = max(sh.memPeak, held+pending)
	if pending > sh.limits.MemoryBytes-held {
		sh.mem = held
		return &LimitError{Limit: "memory", Max: sh.limits.MemoryBytes}
	}
	sh.mem = held + pending
	return nil
}

// formatBytes names a byte count in binary units when it is a whole number
// of them ("256 MiB"), in bytes otherwise.
func formatBytes(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// chargeResult charges the result of a filter that did not charge for it
// itself: a string's bytes when it is not the input, an array's or hash's
// own slots and entries when it is not the input (its elements are values
// that already exist, or were charged when they were built).
func (rc *RenderContext) chargeResult(out, input any) error {
	switch x := out.(type) {
	case string:
		if in, ok := input.(string); ok && len(in) == len(x) && (len(x) == 0 || unsafe.StringData(in) == unsafe.StringData(x)) {
			return nil
		}
	case []any:
		if in, ok := input.([]any); ok && len(in) == len(x) && cap(in) == cap(x) && (cap(x) == 0 || &in[:1][0] == &x[:1][0]) {
			return nil
		}
	case *value.Map:
		if in, ok := input.(*value.Map); ok && in == x {
			return nil
		}
	default:
		return nil
	}
	return rc.Charge(value.ShallowSize(out))
}
