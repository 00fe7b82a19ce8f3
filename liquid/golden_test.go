package liquid_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/difftest"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// readCorpus reads a file of the shared Liquid corpora (shared/corpus/liquid
// beside the checkout, or $SPROCKET_CORPUS), skipping the test when they are
// not on this machine — failing it in CI.
func readCorpus(t *testing.T, rel string) []byte {
	t.Helper()
	var path string
	if d := os.Getenv("SPROCKET_CORPUS"); d != "" {
		path = filepath.Join(d, rel)
	} else {
		path = shared.For(t, "corpus", "liquid", rel)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	return data
}

// goldenCase is one case of golden_liquid.json.
type goldenCase struct {
	name      string
	template  string
	data      *value.Map
	templates map[string]string
	results   []string
	invalid   bool
	strict    bool
}

func mapField(m *value.Map, k string) *value.Map {
	v, _ := m.Get(k)
	mm, _ := v.(*value.Map)
	return mm
}

func strField(m *value.Map, k string) string {
	v, _ := m.Get(k)
	s, _ := v.(string)
	return s
}

func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	root, err := value.FromJSON(readCorpus(t, "golden-liquid/golden_liquid.json"))
	if err != nil {
		t.Fatalf("decode golden_liquid.json: %v", err)
	}
	rm, ok := root.(*value.Map)
	if !ok {
		t.Fatal("golden_liquid.json is not an object")
	}
	tests, _ := rm.Get("tests")
	list, _ := tests.([]any)
	out := make([]goldenCase, 0, len(list))
	for _, e := range list {
		m, ok := e.(*value.Map)
		if !ok {
			t.Fatal("golden case is not an object")
		}
		c := goldenCase{name: strField(m, "name"), template: strField(m, "template"), data: mapField(m, "data")}
		if c.data == nil {
			c.data = value.NewMap(0)
		}
		if tm := mapField(m, "templates"); tm != nil {
			c.templates = map[string]string{}
			tm.Each(func(k string, v any) bool {
				c.templates[k], _ = v.(string)
				return true
			})
		}
		if v, _ := m.Get("invalid"); v == true {
			c.invalid = true
		}
		if r, ok := m.Get("result"); ok {
			s, _ := r.(string)
			c.results = []string{s}
		}
		if rs, ok := m.Get("results"); ok {
			arr, _ := rs.([]any)
			for _, r := range arr {
				s, _ := r.(string)
				c.results = append(c.results, s)
			}
		}
		if tags, ok := m.Get("tags"); ok {
			arr, _ := tags.([]any)
			for _, tg := range arr {
				if tg == "strict" || tg == "strict2" {
					c.strict = true
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// loadSkips reads a skip list: "name | reason" lines, "#" comments.
func loadSkips(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open skip list: %v", err)
	}
	defer f.Close()
	skips := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, ok := strings.Cut(line, " | ")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("%s:%d: want \"name | reason\", got %q", path, n, line)
		}
		skips[strings.TrimSpace(name)] = strings.TrimSpace(reason)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read skip list: %v", err)
	}
	return skips
}

// runGolden runs one case and returns "" when it passes, else what went
// wrong.
func runGolden(ctx context.Context, eng *liquid.Engine, c goldenCase) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = fmt.Sprintf("panic: %v", p)
		}
	}()
	var partials liquid.Loader
	if c.templates != nil {
		partials = liquid.MapLoader(c.templates)
	}
	tpl, err := eng.ParseOpts(c.template, liquid.ParseOptions{Strict: c.strict})
	if c.invalid {
		if err != nil {
			return ""
		}
		out, err := tpl.RenderMap(ctx, c.data, &liquid.RenderOptions{Strict: true, Partials: partials, Limits: goldenLimits(), Now: goldenNow})
		if err != nil {
			return ""
		}
		return fmt.Sprintf("want an error, got output %q", out)
	}
	if err != nil {
		return fmt.Sprintf("parse error: %v", err)
	}
	out, err := tpl.RenderMap(ctx, c.data, &liquid.RenderOptions{Partials: partials, Limits: goldenLimits(), Now: goldenNow})
	if err != nil {
		return fmt.Sprintf("render error: %v (output %q)", err, out)
	}
	for _, r := range c.results {
		if out == r {
			return ""
		}
	}
	if len(c.results) == 1 {
		return fmt.Sprintf("got %q, want %q", out, c.results[0])
	}
	return fmt.Sprintf("got %q, want one of %q", out, c.results)
}

// goldenNow is the clock of golden renders: UTC, as the cases assume.
func goldenNow() time.Time { return time.Now().UTC() }

func goldenLimits() liquid.Limits {
	return liquid.Limits{Steps: 1_000_000, OutputBytes: 1 << 20, Depth: 100}
}

// TestGolden runs the golden-liquid suite: every case must pass unless
// liquid/testdata/golden_skip.txt lists it with a reason.
func TestGolden(t *testing.T) {
	cases := loadGolden(t)
	skips := loadSkips(t, filepath.Join("testdata", "golden_skip.txt"))
	eng := liquid.NewEngine()
	ctx := context.Background()
	known := map[string]bool{}
	passed, skipped, skippedPassing := 0, 0, 0
	var failures []string
	var skippedCases []difftest.Case
	for _, c := range cases {
		known[c.name] = true
		msg := runGolden(ctx, eng, c)
		if reason, ok := skips[c.name]; ok {
			skipped++
			skippedCases = append(skippedCases, difftest.Case{Name: c.name, Template: c.template, Data: c.data, Partials: c.templates, Strict: c.strict || c.invalid})
			if msg == "" {
				skippedPassing++
				t.Logf("skipped case now passes, remove it from golden_skip.txt: %s (%s)", c.name, reason)
			}
			continue
		}
		if msg == "" {
			passed++
			continue
		}
		failures = append(failures, fmt.Sprintf("%s\n    template: %q\n    %s", c.name, c.template, msg))
	}
	for name := range skips {
		if !known[name] {
			t.Errorf("golden_skip.txt names an unknown case: %q", name)
		}
	}
	for _, f := range failures {
		t.Errorf("golden case failed: %s", f)
	}
	t.Logf("golden-liquid: %d/%d passed, %d skipped (%d of them pass anyway), %d failed", passed, len(cases), skipped, skippedPassing, len(failures))
	t.Run("skipped cases match Ruby 5.4", func(t *testing.T) { goldenSkipsMatchRuby(t, skippedCases) })
	t.Run("blank cases pass with ActiveSupport", func(t *testing.T) {
		// Mechanic runs Liquid inside Rails, whose blank? makes "x == blank"
		// work; the dialect switches that on. The skipped blank cases must
		// pass that way.
		as := liquid.NewEngine()
		as.SetActiveSupport(true)
		n := 0
		for _, c := range cases {
			if reason, ok := skips[c.name]; ok && strings.HasPrefix(reason, "newer blank comparison") {
				n++
				if msg := runGolden(ctx, as, c); msg != "" {
					t.Errorf("%s with ActiveSupport: %s", c.name, msg)
				}
			}
		}
		if n == 0 {
			t.Fatal("no skipped blank cases found")
		}
		t.Logf("golden-liquid with ActiveSupport blank (Mechanic's runtime): %d/%d passed", passed+n, len(cases))
	})
}

// goldenSkipsMatchRuby checks that on every skipped golden case Sprocket
// does what Ruby Liquid 5.4 does, which is what justifies the skip.
func goldenSkipsMatchRuby(t *testing.T, cases []difftest.Case) {
	ctx := context.Background()
	if !difftest.RubyAvailable(ctx) {
		t.Skip("ruby -rliquid is not available")
	}
	o, err := difftest.StartOracle(ctx)
	if err != nil {
		t.Fatalf("start Ruby oracle: %v", err)
	}
	defer func() {
		if err := o.Close(); err != nil {
			t.Errorf("close oracle: %v", err)
		}
	}()
	ds, err := difftest.Compare(ctx, o, difftest.NewSprocket(), cases)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		t.Errorf("skipped golden case differs from Ruby Liquid 5.4:\n%s", d)
	}
	t.Logf("%d/%d skipped golden cases render as Ruby Liquid 5.4 does", len(cases)-len(ds), len(cases))
}

// specCase is one line of liquid_spec.jsonl.
type specCase struct {
	key, suite, file, name, template, expected, pattern string
	hasExpected                                         bool
	env                                                 *value.Map
	files                                               map[string]string
	parseErr, renderErr                                 bool
	outputErr                                           []string
	renderErrors, strict                                bool
}

var specSkipFeature = regexp.MustCompile(`^(ruby_types|ruby_drops|binary_data|drops|drop_class_output|activesupport|template_factory|randomness|strict2_parsing|strict2_blank_body_errors|self_environment_shadowing|shopify_.*)$`)

func strList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// loadSpec reads liquid_spec.jsonl and keeps the cases a Go engine faithful
// to Ruby Liquid 5.4 can run; the same selection as difftest/spec54.rb.
func loadSpec(t *testing.T) (selected []specCase, total int) {
	t.Helper()
	data := readCorpus(t, "liquid-spec/liquid_spec.jsonl")
	seen := map[string]int{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		v, err := value.FromJSON([]byte(line))
		if err != nil {
			t.Fatalf("decode liquid_spec.jsonl: %v", err)
		}
		m := v.(*value.Map)
		total++
		c := specCase{suite: strField(m, "suite"), file: strField(m, "file"), name: strField(m, "name"), template: strField(m, "template")}
		c.key = c.file + "/" + c.name
		seen[c.key]++
		if n := seen[c.key]; n > 1 {
			c.key = fmt.Sprintf("%s#%d", c.key, n)
		}
		switch c.suite {
		case "parser_errors", "shopify_theme_dawn", "partials", "benchmarks":
			continue
		}
		if np, _ := m.Get("nonportable"); len(strList(np)) > 0 {
			continue
		}
		feats, _ := m.Get("features")
		skip := false
		for _, f := range strList(feats) {
			skip = skip || specSkipFeature.MatchString(f)
		}
		if rl, _ := m.Get("resource_limits"); rl != nil || skip {
			continue
		}
		modesV, _ := m.Get("error_mode")
		modes := strList(modesV)
		c.strict = len(modes) == 0
		lax := false
		for _, md := range modes {
			c.strict = c.strict || md == "strict"
			lax = lax || md == "lax"
		}
		if len(modes) > 0 && !c.strict && !lax {
			continue
		}
		c.env = mapField(m, "environment")
		if c.env == nil {
			c.env = value.NewMap(0)
		}
		if fs := mapField(m, "filesystem"); fs != nil {
			c.files = map[string]string{}
			fs.Each(func(k string, v any) bool {
				s, _ := v.(string)
				c.files[k] = s
				c.files[strings.TrimSuffix(k, ".liquid")] = s
				return true
			})
		}
		if e, ok := m.Get("expected"); ok && e != nil {
			c.expected, c.hasExpected = e.(string)
		}
		c.pattern = strField(m, "expected_pattern")
		if errs := mapField(m, "errors"); errs != nil {
			c.parseErr = errs.Has("parse_error")
			c.renderErr = errs.Has("render_error")
			if o, ok := errs.Get("output"); ok {
				c.outputErr = strList(o)
			}
		}
		if re, _ := m.Get("render_errors"); re == true {
			c.renderErrors = true
		}
		selected = append(selected, c)
	}
	return selected, total
}

// specNow is the time liquid-spec's expectations were recorded at.
var specNow = time.Date(2024, 1, 1, 0, 1, 58, 0, time.UTC)

// specLineRE matches the line numbers Ruby Liquid adds to inline errors
// when parsed with line_numbers: true ("Liquid error (line 2): …",
// "Liquid error (snippet line 1): …").
var specLineRE = regexp.MustCompile(`Liquid (error|syntax error) \((?:[^()]* )?line \d+\)`)

// withoutLineNumbers is c with the line numbers removed from its expected
// inline errors, as Sprocket (like Ruby without line_numbers) renders them.
func withoutLineNumbers(c specCase) (specCase, bool) {
	n := c
	n.expected = specLineRE.ReplaceAllString(c.expected, "Liquid $1")
	n.outputErr = nil
	for _, s := range c.outputErr {
		if regexp.MustCompile(`^(\(?line \d+\)?|[a-z_]+)$`).MatchString(s) && s != "divided by 0" {
			continue
		}
		n.outputErr = append(n.outputErr, specLineRE.ReplaceAllString(s, "Liquid $1"))
	}
	changed := n.expected != c.expected || len(n.outputErr) != len(c.outputErr)
	return n, changed
}

func runSpec(ctx context.Context, eng *liquid.Engine, c specCase) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	opts := &liquid.RenderOptions{
		Strict: !c.renderErrors,
		Now:    func() time.Time { return specNow },
		Limits: goldenLimits(),
	}
	if c.files != nil {
		opts.Partials = liquid.MapLoader(c.files)
	}
	tpl, err := eng.ParseOpts(c.template, liquid.ParseOptions{Strict: c.strict})
	if c.parseErr {
		return err != nil
	}
	if err != nil {
		return false
	}
	if c.renderErr {
		opts.Strict = true
		_, err := tpl.RenderMap(ctx, c.env, opts)
		return err != nil
	}
	out, err := tpl.RenderMap(ctx, c.env, opts)
	if err != nil {
		return false
	}
	switch {
	case c.outputErr != nil:
		for _, s := range c.outputErr {
			if !strings.Contains(out, s) {
				return false
			}
		}
		return true
	case c.pattern != "":
		// Ruby's (?m) is Go's (?s); Ruby's ^ and $ always match at lines.
		re, err := regexp.Compile("(?m)" + strings.ReplaceAll(c.pattern, "(?m)", "(?s)"))
		return err == nil && re.MatchString(out)
	}
	return c.hasExpected && out == c.expected
}

// specMustPass reports whether the cases of a liquid-spec file that Ruby
// Liquid 5.4 passes must also pass here (other files are only reported).
func specMustPass(file string) bool {
	switch file {
	case "basics/blank-and-empty.yml",
		"basics/boolean-chains.yml",
		"basics/cycle.yml",
		"basics/date-filters.yml",
		"basics/dynamic-partials.yml",
		"basics/dynamic_partials.yml",
		"basics/error-handling.yml",
		"basics/expressions.yml",
		"basics/filter-chains.yml",
		"basics/filter-edge-cases.yml",
		"basics/filter-nil-safety.yml",
		"basics/for-loops.yml",
		"basics/interrupts.yml",
		"basics/nested-parameters.yml",
		"basics/nil-handling.yml",
		"basics/partials.yml",
		"basics/recursion.yml",
		"basics/scopes.yml",
		"basics/security.yml",
		"basics/specs.yml",
		"basics/string-filters.yml",
		"basics/tablerow.yml",
		"basics/truthiness.yml",
		"basics/truthiness_matrix.yml",
		"basics/type-coercion.yml",
		"liquid_ruby/bare_bracket_self.yml",
		"liquid_ruby/case_when_matching.yml",
		"liquid_ruby/filesystem.yml",
		"liquid_ruby/include_bracket_dot.yml",
		"liquid_ruby/liquid_tag.yml",
		"liquid_ruby/manual.yml",
		"liquid_ruby/multi_byte.yml",
		"liquid_ruby/multiline_if.yml",
		"liquid_ruby/scalar_and_iteration_semantics.yml",
		"liquid_ruby/standard_filters.yml",
		"liquid_ruby/strict_rejects_lax_syntax.yml",
		"liquid_ruby/tablerow_attribute_coercion.yml",
		"liquid_ruby/variable_type_filters.yml",
		"liquid_ruby_lax/specs.yml",
		"liquid_ruby_lax/variable_type_filters.yml",
		"shopify_production_recordings/recorded_specs_lax.yml":
		return true
	}
	return false
}

// TestLiquidSpec runs the portable part of Shopify's liquid-spec (recorded
// from Liquid 5.13) and reports how much of it passes, split by whether
// Ruby Liquid 5.4 itself passes the case
// (difftest/testdata/liquid_spec_ruby54_failures.txt). Only the files in
// specMustPass fail the test.
func TestLiquidSpec(t *testing.T) {
	cases, total := loadSpec(t)
	rubyFails := map[string]bool{}
	data, err := os.ReadFile(filepath.Join("difftest", "testdata", "liquid_spec_ruby54_failures.txt"))
	if err != nil {
		t.Fatalf("read Ruby 5.4 failure list: %v", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			rubyFails[l] = true
		}
	}
	type tally struct{ applicable, passed, newer, newerPassed, lineOnly int }
	var newer []difftest.Case
	byFile := map[string]*tally{}
	var all tally
	eng := liquid.NewEngine()
	ctx := context.Background()
	verbose := os.Getenv("SPROCKET_SPEC_VERBOSE") == "1"
	for _, c := range cases {
		tl := byFile[c.file]
		if tl == nil {
			tl = &tally{}
			byFile[c.file] = tl
		}
		ok := runSpec(ctx, eng, c)
		if rubyFails[c.key] {
			newer = append(newer, difftest.Case{Name: c.key, Template: c.template, Data: c.env, Partials: c.files, Strict: c.strict && !c.renderErrors})
			tl.newer++
			all.newer++
			if ok {
				tl.newerPassed++
				all.newerPassed++
			}
			continue
		}
		tl.applicable++
		all.applicable++
		if ok {
			tl.passed++
			all.passed++
			continue
		}
		if n, changed := withoutLineNumbers(c); changed && runSpec(ctx, eng, n) {
			tl.lineOnly++
			all.lineOnly++
			continue
		}
		switch {
		case specMustPass(c.file):
			t.Errorf("liquid-spec %s: template %q", c.key, c.template)
		case verbose:
			t.Logf("liquid-spec fails %s: template %q", c.key, c.template)
		}
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		tl := byFile[f]
		t.Logf("  %-55s %4d/%-4d (+%d differ only in error line numbers; 5.4-only failures: %d/%d pass)", f, tl.passed, tl.applicable, tl.lineOnly, tl.newerPassed, tl.newer)
	}
	t.Logf("liquid-spec: %d cases, %d selected as portable; %d/%d passed of those Ruby 5.4 passes (+%d differ only in the line numbers of inline errors); %d/%d of the others",
		total, len(cases), all.passed, all.applicable, all.lineOnly, all.newerPassed, all.newer)
	t.Run("5.4 failures compared with Ruby 5.4", func(t *testing.T) { specNewerMatchRuby(t, newer, verbose) })
}

// specNewerMatchRuby reports how many of the cases Ruby Liquid 5.4 fails
// Sprocket renders exactly as Ruby 5.4 does (time is not frozen here, so
// cases using "now" may differ). It only logs.
func specNewerMatchRuby(t *testing.T, cases []difftest.Case, verbose bool) {
	ctx := context.Background()
	if !difftest.RubyAvailable(ctx) {
		t.Skip("ruby -rliquid is not available")
	}
	o, err := difftest.StartOracle(ctx)
	if err != nil {
		t.Fatalf("start Ruby oracle: %v", err)
	}
	defer func() {
		if err := o.Close(); err != nil {
			t.Errorf("close oracle: %v", err)
		}
	}()
	ds, err := difftest.Compare(ctx, o, difftest.NewSprocket(), cases)
	if err != nil {
		t.Fatal(err)
	}
	if verbose {
		for _, d := range ds {
			t.Logf("differs from Ruby 5.4:\n%s", d)
		}
	}
	t.Logf("%d/%d liquid-spec cases that Ruby 5.4 fails render as Ruby 5.4 does", len(cases)-len(ds), len(cases))
}
