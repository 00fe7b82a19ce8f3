package value

import (
	"strings"
	"testing"
)

// Expected strings were printed by Ruby 3.1 (p 1e20, …).
func TestFormatFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1e20, "1.0e+20"}, {0.1, "0.1"}, {1.0, "1.0"}, {1e15, "1.0e+15"}, {1e16, "1.0e+16"},
		{0.0001, "0.0001"}, {0.00001, "1.0e-05"}, {123456.789, "123456.789"}, {-1.5e-7, "-1.5e-07"},
		{2.5e300, "2.5e+300"}, {1e14, "100000000000000.0"}, {123456789012345.6, "123456789012345.6"},
		{9999999999999998.0, "9.999999999999998e+15"}, {1234567890123456.7, "1234567890123456.8"},
		{1234567890123456.0, "1.234567890123456e+15"}, {12345678901234567.0, "1.2345678901234568e+16"},
		{0.00012, "0.00012"}, {0.000123456, "0.000123456"}, {0, "0.0"}, {-3.25, "-3.25"},
	}
	for _, tt := range tests {
		if got := FormatFloat(tt.in); got != tt.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInspect(t *testing.T) {
	m := MapOf("a", 1, "b", []any{nil, "x\"#{", 1.5, true})
	if got, want := Inspect(m), `{"a"=>1, "b"=>[nil, "x\"\#{", 1.5, true]}`; got != want {
		t.Errorf("Inspect = %s, want %s", got, want)
	}
}

func TestCompare(t *testing.T) {
	if _, err := Compare(int64(1), "a"); err == nil || err.Error() != "comparison of Integer with String failed" {
		t.Errorf("int vs string: %v", err)
	}
	if _, err := Compare("a", int64(1)); err == nil || err.Error() != "comparison of String with 1 failed" {
		t.Errorf("string vs int: %v", err)
	}
	if _, err := Compare(nil, int64(1)); err != ErrNotComparable {
		t.Errorf("nil vs int: %v", err)
	}
	if c, err := Compare(int64(2), 1.5); err != nil || c != 1 {
		t.Errorf("2 <=> 1.5 = %d, %v", c, err)
	}
	if !Equal(int64(1), 1.0) || Equal(int64(1), "1") {
		t.Error("Equal across numbers")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := `{"z":1,"a":[1.5,2e3,"<&>",null,true,{"k":12345678901234567890}],"u":"é\u0001"}`
	v, err := FromJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ToJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z":1,"a":[1.5,2000.0,"<&>",null,true,{"k":12345678901234567890}],"u":"é\u0001"}`
	if string(out) != want {
		t.Errorf("got %s\nwant %s", out, want)
	}
	if _, err := FromJSON([]byte(`{"a":1} x`)); err == nil {
		t.Error("trailing data accepted")
	}
}

func TestFromJSONNesting(t *testing.T) {
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	if _, err := FromJSON([]byte(deep)); err == nil || !strings.Contains(err.Error(), "too deep") {
		t.Fatalf("deep nesting: err = %v", err)
	}
	ok := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if _, err := FromJSON([]byte(ok)); err != nil {
		t.Fatalf("100 levels: %v", err)
	}
}

// Expected strings were printed by Ruby 3.1 (p "\x01\x1f", …).
func TestInspectStringEscapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\x01\x1f", `"\u0001\u001F"`},
		{"\u007f", `"\u007F"`},
		{"\u0080\u0085", "\"\\u0080\u0085\""},
		{"\u2028", `"\u2028"`},
		{"\u0378", `"\u0378"`},
		{"\uFFFE", `"\uFFFE"`},
		{"\U0010FFFF", `"\u{10FFFF}"`},
		{"\u00a0\u200b\u00ad\ue000é😀", "\"\u00a0\u200b\u00ad\ue000é😀\""},
		{"\xff", `"\xFF"`},
		{"\uFFFD", "\"\uFFFD\""},
		{"\x1b#{x}#$y#z", `"\e\#{x}\#$y#z"`},
	}
	for _, tt := range tests {
		if got := InspectString(tt.in); got != tt.want {
			t.Errorf("InspectString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
