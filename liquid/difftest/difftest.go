// Package difftest compares Sprocket's Liquid engine with Shopify's Ruby
// Liquid 5.4, the reference implementation, on generated and hand-written
// templates.
//
// A Generator produces random well-formed templates and data from a seed;
// an Oracle is a long-lived Ruby process (oracle.rb) that renders batches
// of cases; Sprocket renders the same cases in-process; Compare reports
// where the outputs differ byte for byte and Minimize shrinks a
// disagreement to a small reproduction.
//
// The tests need `ruby -rliquid` (Debian: ruby, ruby-liquid). They skip
// without it unless SPROCKET_REQUIRE_RUBY=1 or CI=true. TestDifferential
// runs SPROCKET_DIFF_CASES cases (500; 5000 with CI=true) from seed
// SPROCKET_DIFF_SEED (default: the clock; always logged).
//
// Two more Ruby scripts live here: golden54.rb lists the golden-liquid
// cases Ruby Liquid 5.4 itself fails, spec54.rb the liquid-spec cases
// (testdata/liquid_spec_ruby54_failures.txt). KNOWN.md lists the open
// disagreements with minimal reproductions.
package difftest

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// OracleScript is the Ruby program run by the oracle (oracle.rb).
//
//go:embed oracle.rb
var OracleScript string

// Case is one template with its variables and partials.
type Case struct {
	// Name identifies the case in reports.
	Name string
	// Template is the Liquid source.
	Template string
	// Data holds the template's variables; nil means none.
	Data *value.Map
	// Partials maps partial names to sources for render and include.
	Partials map[string]string
	// Strict parses in strict mode and fails the render on any error.
	Strict bool
}

// Result is what an engine made of a case: an output, or an error when
// the template did not parse (or, in strict mode, did not render).
type Result struct {
	// Output is the rendered text.
	Output string
	// Err is the error message; empty when the case rendered.
	Err string
	// Failed reports that Err holds an error.
	Failed bool
}

func (r Result) String() string {
	if r.Failed {
		return "error: " + r.Err
	}
	return fmt.Sprintf("%q", r.Output)
}

// Agree reports whether two results count as the same: equal outputs byte
// for byte, or both failed (error texts may differ).
func Agree(a, b Result) bool {
	if a.Failed || b.Failed {
		return a.Failed == b.Failed
	}
	return a.Output == b.Output
}

// DataJSON encodes the case's data as Ruby's JSON.parse and
// value.FromJSON both read it (integers stay integers).
func (c Case) DataJSON() ([]byte, error) {
	if c.Data == nil {
		return []byte("{}"), nil
	}
	b, err := value.ToJSON(c.Data)
	if err != nil {
		return nil, fmt.Errorf("encode data of %s: %w", c.Name, err)
	}
	return b, nil
}

// Vars decodes the case's data through JSON, so that the engine sees
// exactly what the oracle sees.
func (c Case) Vars() (map[string]any, error) {
	data, err := c.DataJSON()
	if err != nil {
		return nil, err
	}
	v, err := value.FromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("decode data of %s: %w", c.Name, err)
	}
	m, ok := v.(*value.Map)
	if !ok {
		return nil, fmt.Errorf("data of %s is not an object", c.Name)
	}
	vars := make(map[string]any, m.Len())
	m.Each(func(k string, v any) bool {
		vars[k] = v
		return true
	})
	return vars, nil
}

// Describe formats the case for a failure report.
func (c Case) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "case %s\n  template: %q\n", c.Name, c.Template)
	if data, err := c.DataJSON(); err == nil {
		fmt.Fprintf(&b, "  data: %s\n", data)
	}
	if c.Strict {
		b.WriteString("  strict: true\n")
	}
	return b.String()
}

// Sprocket renders cases with Sprocket's Liquid engine.
type Sprocket struct {
	eng *liquid.Engine
}

// NewSprocket returns a renderer using an engine with the standard tags
// and filters.
func NewSprocket() *Sprocket {
	return &Sprocket{eng: liquid.NewEngine()}
}

// Render renders one case. Lax renders report errors inline, as Ruby
// Liquid's Template#render does; parse errors are failures.
func (s *Sprocket) Render(ctx context.Context, c Case) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Failed: true, Err: fmt.Sprintf("panic: %v", p)}
		}
	}()
	vars, err := c.Vars()
	if err != nil {
		return Result{Failed: true, Err: err.Error()}
	}
	tpl, err := s.eng.ParseOpts(c.Template, liquid.ParseOptions{Strict: c.Strict})
	if err != nil {
		return Result{Failed: true, Err: err.Error()}
	}
	// The oracle always has a file system (empty when the case has no
	// partials), so missing partials read "No such template" in both.
	// The oracle runs with TZ=UTC; the engine takes its zone from Now.
	opts := &liquid.RenderOptions{Strict: c.Strict, Partials: liquid.MapLoader(c.Partials), Now: utcNow}
	out, err := tpl.Render(ctx, vars, opts)
	if err != nil {
		return Result{Failed: true, Err: err.Error(), Output: out}
	}
	return Result{Output: out}
}

func utcNow() time.Time { return time.Now().UTC() }

// RubyAvailable reports whether `ruby -rliquid` runs on this machine.
func RubyAvailable(ctx context.Context) bool {
	return exec.CommandContext(ctx, "ruby", "-rliquid", "-e", "exit 0").Run() == nil
}

// Oracle is a running Ruby Liquid process answering render requests.
type Oracle struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr bytes.Buffer
	dir    string
}

// StartOracle starts the Ruby oracle with TZ=UTC. Close it when done.
func StartOracle(ctx context.Context) (*Oracle, error) {
	dir, err := os.MkdirTemp("", "sprocket-oracle-")
	if err != nil {
		return nil, fmt.Errorf("oracle temp dir: %w", err)
	}
	script := filepath.Join(dir, "oracle.rb")
	if err := os.WriteFile(script, []byte(OracleScript), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("write oracle script: %w", err)
	}
	o := &Oracle{dir: dir}
	o.cmd = exec.CommandContext(ctx, "ruby", script)
	o.cmd.Env = append(os.Environ(), "TZ=UTC", "LANG=C.UTF-8", "RUBYOPT=-EUTF-8:UTF-8")
	o.cmd.Stderr = &o.stderr
	o.stdin, err = o.cmd.StdinPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("oracle stdin: %w", err)
	}
	stdout, err := o.cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("oracle stdout: %w", err)
	}
	o.out = bufio.NewReaderSize(stdout, 1<<16)
	if err := o.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start ruby oracle: %w", err)
	}
	return o, nil
}

type oracleRequest struct {
	Template string            `json:"template"`
	Data     json.RawMessage   `json:"data"`
	Partials map[string]string `json:"partials,omitempty"`
	Strict   bool              `json:"strict,omitempty"`
}

type oracleResponse struct {
	Output    *string `json:"output"`
	OutputB64 *string `json:"output_b64"`
	Error     *string `json:"error"`
}

// RenderAll renders the cases in one batch, in order. Requests are written
// concurrently with reading the answers, so batches of any size flow.
func (o *Oracle) RenderAll(ctx context.Context, cases []Case) ([]Result, error) {
	lines := make([][]byte, len(cases))
	for i, c := range cases {
		data, err := c.DataJSON()
		if err != nil {
			return nil, err
		}
		line, err := json.Marshal(oracleRequest{Template: c.Template, Data: data, Partials: c.Partials, Strict: c.Strict})
		if err != nil {
			return nil, fmt.Errorf("encode request %s: %w", c.Name, err)
		}
		lines[i] = append(line, '\n')
	}
	werr := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(o.stdin, 1<<16)
		for _, l := range lines {
			if ctx.Err() != nil {
				werr <- ctx.Err()
				return
			}
			if _, err := w.Write(l); err != nil {
				werr <- fmt.Errorf("write oracle request: %w", err)
				return
			}
		}
		if err := w.Flush(); err != nil {
			werr <- fmt.Errorf("write oracle request: %w", err)
			return
		}
		werr <- nil
	}()
	res := make([]Result, len(cases))
	for i := range cases {
		line, err := o.out.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("read oracle answer %d (%s): %w; ruby stderr: %s", i, cases[i].Name, err, o.stderr.String())
		}
		var r oracleResponse
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("decode oracle answer %q: %w", line, err)
		}
		switch {
		case r.Error != nil:
			res[i] = Result{Failed: true, Err: *r.Error}
		case r.OutputB64 != nil:
			b, err := base64.StdEncoding.DecodeString(*r.OutputB64)
			if err != nil {
				return nil, fmt.Errorf("decode oracle output: %w", err)
			}
			res[i] = Result{Output: string(b)}
		case r.Output != nil:
			res[i] = Result{Output: *r.Output}
		default:
			return nil, fmt.Errorf("oracle answer %q has no output", line)
		}
	}
	if err := <-werr; err != nil {
		return nil, err
	}
	return res, nil
}

// Close stops the Ruby process and removes its script.
func (o *Oracle) Close() error {
	defer os.RemoveAll(o.dir)
	cerr := o.stdin.Close()
	werr := o.cmd.Wait()
	if werr != nil {
		var ee *exec.ExitError
		if !errors.As(werr, &ee) {
			return fmt.Errorf("wait for ruby oracle: %w", werr)
		}
		return fmt.Errorf("ruby oracle exited: %w: %s", werr, o.stderr.String())
	}
	if cerr != nil {
		return fmt.Errorf("close oracle stdin: %w", cerr)
	}
	return nil
}

// Disagreement is a case the two engines rendered differently.
type Disagreement struct {
	Case     Case
	Ruby     Result
	Sprocket Result
}

func (d Disagreement) String() string {
	return d.Case.Describe() + "  ruby:     " + d.Ruby.String() + "\n  sprocket: " + d.Sprocket.String() + "\n"
}

// Compare renders cases with the oracle and with s, and returns the cases
// where they disagree.
func Compare(ctx context.Context, o *Oracle, s *Sprocket, cases []Case) ([]Disagreement, error) {
	ruby, err := o.RenderAll(ctx, cases)
	if err != nil {
		return nil, err
	}
	var out []Disagreement
	for i, c := range cases {
		got := s.Render(ctx, c)
		if !Agree(ruby[i], got) {
			out = append(out, Disagreement{Case: c, Ruby: ruby[i], Sprocket: got})
		}
	}
	return out, nil
}
