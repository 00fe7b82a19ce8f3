package value

import "unsafe"

// Memory costs Sizer assigns, in bytes: an estimate of what Go keeps for
// each kind of value, fixed so that the counts are the same on every run.
const (
	SliceHeaderBytes = 24 // an array's header
	SlotBytes        = 16 // one array element (an interface value)
	MapBytes         = 64 // an empty hash
	MapEntryBytes    = 64 // one key of a hash: the ordered key list and the Go map's slot
)

// Sizer estimates the memory values occupy: string bytes, array slots and
// hash entries, recursively. A string's bytes, an array's backing store and
// a hash are counted once however many times they are reached, so shared
// values (and cycles) are not counted twice. Drops, ranges and scalars
// count nothing beyond the slot holding them. The zero value is ready for
// use; Visited counts the values visited, a measure of the work done.
type Sizer struct {
	seen    map[unsafe.Pointer]struct{}
	Visited int64
}

// first reports whether p is seen for the first time, and marks it.
func (s *Sizer) first(p unsafe.Pointer) bool {
	if s.seen == nil {
		s.seen = map[unsafe.Pointer]struct{}{}
	}
	if _, ok := s.seen[p]; ok {
		return false
	}
	s.seen[p] = struct{}{}
	return true
}

// Size returns the bytes v occupies that this Sizer has not counted yet.
func (s *Sizer) Size(v any) int64 {
	s.Visited++
	switch x := v.(type) {
	case string:
		if len(x) == 0 || !s.first(unsafe.Pointer(unsafe.StringData(x))) {
			return 0
		}
		return int64(len(x))
	case []any:
		if cap(x) == 0 {
			return SliceHeaderBytes
		}
		if !s.first(unsafe.Pointer(&x[:1][0])) {
			return 0
		}
		n := SliceHeaderBytes + SlotBytes*int64(cap(x))
		for _, e := range x {
			n += s.Size(e)
		}
		return n
	case *Map:
		if x == nil || !s.first(unsafe.Pointer(x)) {
			return 0
		}
		n := int64(MapBytes)
		for _, k := range x.keys {
			n += MapEntryBytes + s.Size(k) + s.Size(x.m[k])
		}
		return n
	}
	return 0
}

// MemorySize returns the memory v occupies, as a new Sizer counts it.
func MemorySize(v any) int64 {
	var s Sizer
	return s.Size(v)
}

// ShallowSize is the memory of v itself without what its elements hold:
// a string's bytes, an array's slots, a hash's entries. It is the cost of
// building v from values that already exist.
func ShallowSize(v any) int64 {
	switch x := v.(type) {
	case string:
		return int64(len(x))
	case []any:
		return SliceHeaderBytes + SlotBytes*int64(cap(x))
	case *Map:
		return MapBytes + MapEntryBytes*int64(x.Len())
	}
	return 0
}
