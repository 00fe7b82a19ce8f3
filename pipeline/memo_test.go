package pipeline

import "testing"

func TestMemo(t *testing.T) {
	m := newMemo[int, string](3)
	for i := 1; i <= 5; i++ {
		m.put(i, string(rune('a'+i)))
	}
	m.put(5, "updated")
	tests := []struct {
		k    int
		want string
		ok   bool
	}{{1, "", false}, {2, "", false}, {3, "d", true}, {4, "e", true}, {5, "updated", true}}
	for _, tt := range tests {
		if v, ok := m.get(tt.k); v != tt.want || ok != tt.ok {
			t.Errorf("get(%d) = %q, %v; want %q, %v", tt.k, v, ok, tt.want, tt.ok)
		}
	}
	if len(m.m) != 3 {
		t.Errorf("size = %d", len(m.m))
	}
}
