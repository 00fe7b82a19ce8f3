// Package lint checks the Shopify GraphQL a task renders against the Admin
// schema of the task's API version: the shopify filter's queries and the
// GraphQL of shopify actions that the task's preview produces. Each
// finding names where the GraphQL came from and, where it can be found,
// the line of the task's code that wrote the offending name.
package lint

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/shopify/schema"
)

// Finding is one GraphQL problem in a task.
type Finding struct {
	// Source says where the GraphQL came from: "shopify filter query 1
	// (preview event 1)" or "shopify action 2 (preview event 1)".
	Source string
	// TaskLine is the line of the task's script that wrote the offending
	// name, or 0 when it cannot be told.
	TaskLine int
	// Line and Column locate the problem in the rendered GraphQL.
	Line, Column int
	// Message says what is wrong, as the schema validation puts it.
	Message string
	// Rule is the GraphQL validation rule that failed ("" for syntax errors).
	Rule string
	// DataDependent marks a null where the schema needs a value: the
	// preview's event lacked the value the task interpolates, so the live
	// GraphQL may well be valid.
	DataDependent bool
}

// String renders the finding for a terminal.
func (f Finding) String() string {
	where := f.Source
	if f.TaskLine > 0 {
		where = fmt.Sprintf("script line %d, %s", f.TaskLine, f.Source)
	}
	return fmt.Sprintf("%s, GraphQL %d:%d: %s", where, f.Line, f.Column, f.Message)
}

// Document is one GraphQL document a task rendered.
type Document struct {
	Source string
	Query  string
}

// Documents lists the GraphQL documents of a preview: each run's shopify
// filter queries and shopify actions in GraphQL form (REST forms are not
// GraphQL and are skipped; bulk operation queries are checked as the
// documents they are).
func Documents(pv *run.Preview) []Document {
	var out []Document
	for i, r := range pv.Runs {
		if r.Result == nil {
			continue
		}
		ev := fmt.Sprintf("preview event %d", i+1)
		for j, q := range r.Result.Queries {
			out = append(out, Document{Source: fmt.Sprintf("shopify filter query %d (%s)", j+1, ev), Query: q})
		}
		if r.Result.Output == nil {
			continue
		}
		for j, a := range r.Result.Output.Actions {
			if a.Type != "shopify" {
				continue
			}
			if q := actionQuery(a.Options); q != "" {
				src := fmt.Sprintf("shopify action %d (%s)", j+1, ev)
				out = append(out, Document{Source: src, Query: q})
				for k, bq := range bulkQueries(q) {
					out = append(out, Document{Source: fmt.Sprintf("%s, bulk query %d", src, k+1), Query: bq})
				}
			}
		}
	}
	return out
}

// actionQuery returns the GraphQL of a shopify action's options, "" for REST forms.
func actionQuery(opts any) string {
	opts, _ = action.SplitControl(opts)
	switch o := opts.(type) {
	case string:
		return o
	case *value.Map:
		if q, ok := o.Get("query"); ok {
			s, _ := q.(string)
			return s
		}
	}
	return ""
}

var bulkQueryRE = regexp.MustCompile(`(?s)bulkOperationRunQuery\s*\(\s*query\s*:\s*"""(.*?)"""`)

// bulkQueries returns the queries inside bulkOperationRunQuery block strings.
func bulkQueries(doc string) []string {
	var out []string
	for _, m := range bulkQueryRE.FindAllStringSubmatch(doc, -1) {
		out = append(out, m[1])
	}
	return out
}

// Check validates docs against sch and maps each finding to the task's
// script where it can.
func Check(sch *schema.Schema, script string, docs []Document) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, d := range docs {
		for _, f := range sch.Validate(d.Query) {
			key := f.Message + "\x00" + f.Rule
			if seen[key] { // one finding per problem, not per preview event
				continue
			}
			seen[key] = true
			out = append(out, Finding{
				Source: d.Source, TaskLine: scriptLine(script, f.Message),
				Line: f.Line, Column: f.Column, Message: f.Message, Rule: f.Rule,
				DataDependent: strings.Contains(f.Message, ", found null"),
			})
		}
	}
	return out
}

var quotedName = regexp.MustCompile(`"([_A-Za-z][_0-9A-Za-z]*)"`)

// scriptLine finds the line of the script that holds the first name the
// message quotes (the unknown field or argument), or 0.
func scriptLine(script, msg string) int {
	m := quotedName.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	re := regexp.MustCompile(`(^|[^_0-9A-Za-z])` + regexp.QuoteMeta(m[1]) + `([^_0-9A-Za-z]|$)`)
	loc := re.FindStringIndex(script)
	if loc == nil {
		return 0
	}
	return 1 + strings.Count(script[:loc[0]], "\n")
}

// Schemas loads Admin schemas by API version on first use and keeps them.
// It is safe for concurrent use.
type Schemas struct {
	// Locate finds the schema file of a version (default schema.Locate).
	Locate func(version string) (string, error)

	mu     sync.Mutex
	loaded map[string]*loaded
}

type loaded struct {
	once sync.Once
	s    *schema.Schema
	err  error
}

// Get returns the schema of version ("" means shopify.DefaultAPIVersion).
func (c *Schemas) Get(version string) (*schema.Schema, error) {
	if version == "" {
		version = shopify.DefaultAPIVersion
	}
	c.mu.Lock()
	if c.loaded == nil {
		c.loaded = map[string]*loaded{}
	}
	l := c.loaded[version]
	if l == nil {
		l = &loaded{}
		c.loaded[version] = l
	}
	c.mu.Unlock()
	l.once.Do(func() {
		locate := c.Locate
		if locate == nil {
			locate = schema.Locate
		}
		path, err := locate(version)
		if err != nil {
			l.err = err
			return
		}
		l.s, l.err = schema.LoadFile(path)
	})
	return l.s, l.err
}
