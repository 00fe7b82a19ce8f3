package difftest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// inCI reports whether the tests run in CI (CI=true), where Ruby Liquid is
// required and the differential test runs more cases.
func inCI() bool { return os.Getenv("CI") == "true" }

// requireRuby skips the test when Ruby Liquid is missing, unless
// SPROCKET_REQUIRE_RUBY=1 or CI=true, where a missing oracle is a failure.
func requireRuby(t *testing.T) {
	t.Helper()
	if RubyAvailable(context.Background()) {
		return
	}
	if os.Getenv("SPROCKET_REQUIRE_RUBY") == "1" || inCI() {
		t.Fatal("ruby -rliquid is not available, and SPROCKET_REQUIRE_RUBY=1 or CI=true require it")
	}
	t.Skip("ruby -rliquid is not available (set SPROCKET_REQUIRE_RUBY=1 to fail instead)")
}

func startOracle(t *testing.T) *Oracle {
	t.Helper()
	o, err := StartOracle(context.Background())
	if err != nil {
		t.Fatalf("start oracle: %v", err)
	}
	t.Cleanup(func() {
		if err := o.Close(); err != nil {
			t.Errorf("close oracle: %v", err)
		}
	})
	return o
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// reportDisagreements fails the test with each disagreement, the first
// ones also minimized.
func reportDisagreements(t *testing.T, what string, n int, ds []Disagreement, o *Oracle, s *Sprocket) {
	t.Helper()
	// SPROCKET_DIFF_SHOW raises the number of disagreements printed.
	maxShown, maxMinimized := envInt(t, "SPROCKET_DIFF_SHOW", 40), 25
	ctx := context.Background()
	for i, d := range ds {
		if i == maxShown {
			t.Errorf("... and %d more disagreements", len(ds)-maxShown)
			break
		}
		msg := d.String()
		if i < maxMinimized {
			m := Minimize(ctx, o, s, d.Case)
			if m.Template != d.Case.Template || m.Data.Len() != d.Case.Data.Len() {
				rs, err := o.RenderAll(ctx, []Case{m})
				if err == nil {
					msg += "  minimized:\n" + Disagreement{Case: m, Ruby: rs[0], Sprocket: s.Render(ctx, m)}.String()
				}
			}
		}
		t.Errorf("disagreement:\n%s", msg)
	}
	t.Logf("%s: %d cases, %d disagreements", what, n, len(ds))
}

// ciSeed is the generator seed CI uses.
const ciSeed = 20261123

// TestDifferential renders random templates with Ruby Liquid and Sprocket
// and fails on any difference. SPROCKET_DIFF_CASES sets the number of
// cases (default 500; 10,000 when CI=true), SPROCKET_DIFF_SEED the seed
// (default: the time; in CI a fixed seed, so that CI is reproducible — move
// it forward to explore new cases).
func TestDifferential(t *testing.T) {
	requireRuby(t)
	def := 500
	seed := uint64(time.Now().UnixNano())
	if inCI() {
		def, seed = 10000, ciSeed
	}
	n := envInt(t, "SPROCKET_DIFF_CASES", def)
	if s := os.Getenv("SPROCKET_DIFF_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SPROCKET_DIFF_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("SPROCKET_DIFF_SEED=%d SPROCKET_DIFF_CASES=%d", seed, n)
	g := NewGenerator(seed)
	cases := make([]Case, n)
	for i := range cases {
		cases[i] = g.Next()
	}
	ctx := context.Background()
	o, s := startOracle(t), NewSprocket()
	ds, err := Compare(ctx, o, s, cases)
	if err != nil {
		t.Fatal(err)
	}
	reportDisagreements(t, "differential", n, ds, o, s)
	if len(ds) > 0 {
		t.Logf("reproduce with SPROCKET_DIFF_SEED=%d SPROCKET_DIFF_CASES=%d", seed, n)
	}
}

// TestTricky runs the hand-written tricky cases through both engines.
func TestTricky(t *testing.T) {
	requireRuby(t)
	cases := TrickyCases()
	o, s := startOracle(t), NewSprocket()
	ds, err := Compare(context.Background(), o, s, cases)
	if err != nil {
		t.Fatal(err)
	}
	reportDisagreements(t, "tricky", len(cases), ds, o, s)
}

// TestOracle checks the oracle protocol itself on cases with known Ruby
// answers: integers stay integers, errors come back as errors, and
// invalid UTF-8 output survives.
func TestOracle(t *testing.T) {
	requireRuby(t)
	cases := []struct {
		name string
		c    Case
		want Result
	}{
		{"int stays int", Case{Template: "{{ 9223372036854775807 | plus: 1 }} {{ 2 | times: 3 }}"}, Result{Output: "9223372036854775808 6"}},
		{"float via BigDecimal; 1e20 is a name", Case{Template: "{{ 0.1 | plus: 0.2 }}|{{ 1e20 }}|"}, Result{Output: "0.3||"}},
		{"inline error", Case{Template: "{{ 1 | divided_by: 0 }}"}, Result{Output: "Liquid error: divided by 0"}},
		{"syntax error", Case{Template: "{% if %}"}, Result{Failed: true, Err: "Liquid syntax error: Syntax Error in tag 'if' - Valid syntax: if [expression]"}},
		{"strict render error", Case{Template: "{{ 1 | divided_by: 0 }}", Strict: true}, Result{Failed: true, Err: "divided by 0"}},
		{"partials", Case{Template: "{% render 'p', x: 2 %}", Partials: map[string]string{"p": "[{{ x }}]"}}, Result{Output: "[2]"}},
		{"binary output", Case{Template: "{{ '/w==' | base64_decode }}"}, Result{Output: "\xff"}},
		{"utc", Case{Template: "{{ 0 | date: '%H %Z' }}"}, Result{Output: "00 UTC"}},
	}
	in := make([]Case, len(cases))
	for i, c := range cases {
		in[i] = c.c
	}
	got, err := startOracle(t).RenderAll(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if got[i].Failed != c.want.Failed || got[i].Output != c.want.Output || !strings.Contains(got[i].Err, c.want.Err) {
			t.Errorf("%s: got %v (%q), want %v (%q)", c.name, got[i], got[i].Err, c.want, c.want.Err)
		}
	}
}

// TestGeneratorDeterministic checks that a seed fixes the cases.
func TestGeneratorDeterministic(t *testing.T) {
	a, b := NewGenerator(7), NewGenerator(7)
	for i := 0; i < 50; i++ {
		ca, cb := a.Next(), b.Next()
		ja, err := ca.DataJSON()
		if err != nil {
			t.Fatal(err)
		}
		jb, err := cb.DataJSON()
		if err != nil {
			t.Fatal(err)
		}
		if ca.Template != cb.Template || string(ja) != string(jb) {
			t.Fatalf("case %d differs for the same seed:\n%q\n%q", i, ca.Template, cb.Template)
		}
	}
	if NewGenerator(1).Next().Template == NewGenerator(2).Next().Template {
		t.Error("different seeds gave the same first template")
	}
}

// TestGeneratorParses checks that generated templates are well formed:
// Ruby Liquid parses nearly all of them (the rare exceptions are
// deliberate, such as "{%- endraw %}", which 5.4 does not accept).
func TestGeneratorParses(t *testing.T) {
	requireRuby(t)
	g := NewGenerator(12345)
	cases := make([]Case, 300)
	for i := range cases {
		cases[i] = g.Next()
		cases[i].Strict = false // strict cases fail on purpose
	}
	res, err := startOracle(t).RenderAll(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for i, r := range res {
		if r.Failed {
			failed++
			t.Logf("ruby rejects %q: %s", cases[i].Template, r.Err)
		}
	}
	if failed > len(cases)/20 {
		t.Errorf("Ruby rejected %d of %d generated templates; the generator should produce well-formed ones", failed, len(cases))
	}
}

// FuzzDifferential lets the fuzzer pick generator seeds (and thus
// templates and data) and fails on any disagreement with Ruby Liquid:
//
//	go test ./liquid/difftest -run '^$' -fuzz FuzzDifferential -fuzztime 60s
//
// Without -fuzz it runs the seed corpus only.
func FuzzDifferential(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42} {
		f.Add(s)
	}
	ctx := context.Background()
	if !RubyAvailable(ctx) {
		f.Skip("ruby -rliquid is not available")
	}
	o, err := StartOracle(ctx)
	if err != nil {
		f.Fatalf("start oracle: %v", err)
	}
	f.Cleanup(func() {
		if err := o.Close(); err != nil {
			f.Errorf("close oracle: %v", err)
		}
	})
	s := NewSprocket()
	f.Fuzz(func(t *testing.T, seed uint64) {
		c := NewGenerator(seed).Next()
		ds, err := Compare(ctx, o, s, []Case{c})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			m := Minimize(ctx, o, s, d.Case)
			t.Errorf("disagreement (seed %d):\n%s  minimized:\n%s", seed, d, m.Describe())
		}
	})
}
