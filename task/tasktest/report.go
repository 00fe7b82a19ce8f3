package tasktest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// indentJSON encodes v as two-space-indented JSON with a trailing newline.
func indentJSON(v any) ([]byte, error) {
	compact, err := value.ToJSON(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("indent: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// maxDiffLines bounds a diff in a report.
const maxDiffLines = 200

// Diff returns a line diff of the indented JSON of want and got: lines only
// in want start with "- ", lines only in got with "+ ", common lines with
// two spaces.
func Diff(want, got any) string {
	a, err1 := indentJSON(want)
	b, err2 := indentJSON(got)
	if err1 != nil || err2 != nil {
		return fmt.Sprintf("- %v\n+ %v", want, got)
	}
	x := strings.Split(strings.TrimRight(string(a), "\n"), "\n")
	y := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	// longest common subsequence table, bounded in size
	if len(x)*len(y) > 4_000_000 {
		return "- " + strings.Join(x, "\n- ") + "\n+ " + strings.Join(y, "\n+ ")
	}
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out = append(out, "  "+x[i])
			i++
			j++
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "- "+x[i])
			i++
		default:
			out = append(out, "+ "+y[j])
			j++
		}
	}
	if len(out) > maxDiffLines {
		out = append(out[:maxDiffLines], fmt.Sprintf("… %d more lines", len(out)-maxDiffLines))
	}
	return strings.Join(out, "\n")
}

// Suite is the results of one task folder's tests.
type Suite struct {
	// Name is the task folder.
	Name string
	// Err is a problem loading the task; its tests did not run.
	Err error
	// Results are the test results in file order.
	Results []*Result
	// Elapsed is the time the suite took.
	Elapsed time.Duration
}

// WriteReport writes a readable report of the suites and returns the
// numbers of passed and failed tests.
func WriteReport(w io.Writer, suites []*Suite) (passed, failed int) {
	for _, s := range suites {
		if s.Err != nil {
			fmt.Fprintf(w, "FAIL %s\n    %v\n", s.Name, s.Err)
			failed++
			continue
		}
		for _, r := range s.Results {
			label := r.Case.Path
			if r.Case.Description != "" {
				label += " — " + r.Case.Description
			}
			if r.Passed() {
				fmt.Fprintf(w, "ok   %s\n", label)
				passed++
				continue
			}
			failed++
			fmt.Fprintf(w, "FAIL %s\n", label)
			if r.Err != nil {
				fmt.Fprintf(w, "    %v\n", r.Err)
			}
			for _, st := range r.Steps {
				for _, f := range st.Failures {
					fmt.Fprintf(w, "    [%s] %s\n", st.Name, strings.ReplaceAll(f, "\n", "\n        "))
				}
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return passed, failed
}

// junit elements (the required ones of the JUnit XML schema: testsuites,
// testsuite name/tests, testcase name/classname, failure message).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
	Error    *junitFail  `xml:"error,omitempty"`
}

type junitCase struct {
	Name      string     `xml:"name,attr"`
	Classname string     `xml:"classname,attr"`
	Failure   *junitFail `xml:"failure,omitempty"`
	Error     *junitFail `xml:"error,omitempty"`
}

type junitFail struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the suites as JUnit XML.
func WriteJUnit(w io.Writer, suites []*Suite) error {
	out := junitSuites{}
	for _, s := range suites {
		js := junitSuite{Name: s.Name, Time: fmt.Sprintf("%.3f", s.Elapsed.Seconds())}
		if s.Err != nil {
			js.Errors = 1
			js.Error = &junitFail{Message: s.Err.Error(), Type: "load"}
		}
		for _, r := range s.Results {
			jc := junitCase{Name: r.Case.Path, Classname: s.Name}
			if r.Case.Description != "" {
				jc.Name += ": " + r.Case.Description
			}
			js.Tests++
			switch {
			case r.Err != nil:
				js.Errors++
				jc.Error = &junitFail{Message: r.Err.Error(), Type: "error"}
			case !r.Passed():
				js.Failures++
				var text []string
				for _, st := range r.Steps {
					for _, f := range st.Failures {
						text = append(text, "["+st.Name+"] "+f)
					}
				}
				msg := strings.SplitN(text[0], "\n", 2)[0]
				jc.Failure = &junitFail{Message: msg, Type: "expectation", Text: strings.Join(text, "\n")}
			}
			js.Cases = append(js.Cases, jc)
		}
		out.Tests += js.Tests
		out.Failures += js.Failures
		out.Errors += js.Errors
		out.Suites = append(out.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
