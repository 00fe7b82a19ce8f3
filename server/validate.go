package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/liquid/value"
	gqllint "github.com/sprocketrun/sprocket/shopify/lint"
	"github.com/sprocketrun/sprocket/task"
)

// problem is one finding of task validation: an error that refuses the
// save or enable, or a warning answered with the saved task.
type problem struct {
	Field   string `json:"field"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// liquidSources are a task's Liquid templates and their fields.
func liquidSources(t *task.Task) []struct {
	field string
	src   *string
} {
	return []struct {
		field string
		src   *string
	}{
		{task.FieldScript, &t.Script},
		{task.FieldSubscriptionsTemplate, t.SubscriptionsTemplate},
		{"online_store_javascript", t.OnlineStoreJavaScript},
		{"order_status_javascript", t.OrderStatusJavaScript},
	}
}

// syntaxProblems parses every Liquid template of a task (its code, its
// subscriptions template, its JavaScript and any option value holding
// Liquid) and reports each syntax error with its line, as Mechanic's
// editor refuses to save them.
func syntaxProblems(t *task.Task) []problem {
	eng := dialect.NewEngine(dialect.Options{})
	var out []problem
	for _, s := range liquidSources(t) {
		if s.src == nil {
			continue
		}
		if _, err := eng.Parse(*s.src); err != nil {
			out = append(out, liquidProblem(s.field, err))
		}
	}
	t.Options.Each(func(k string, v any) bool {
		if s, ok := v.(string); ok && (strings.Contains(s, "{{") || strings.Contains(s, "{%")) {
			if _, err := eng.Parse(s); err != nil {
				out = append(out, liquidProblem("options."+k, err))
			}
		}
		return true
	})
	return out
}

func liquidProblem(field string, err error) problem {
	p := problem{Field: field, Message: fmt.Sprintf("%s: %v", field, err)}
	var se *liquid.SyntaxError
	if errors.As(err, &se) {
		p.Line = se.Line
		if se.Line > 0 {
			p.Message = fmt.Sprintf("%s line %d: Liquid syntax error: %s", field, se.Line, se.Msg)
		} else {
			p.Message = fmt.Sprintf("%s: Liquid syntax error: %s", field, se.Msg)
		}
	}
	return p
}

// problemsError is the 422 answer for problems that refuse a request.
func problemsError(what string, probs []problem) *apiError {
	msgs := make([]string, len(probs))
	for i, p := range probs {
		msgs[i] = p.Message
	}
	e := errorf(http.StatusUnprocessableEntity, probs[0].Field, "%s: %s", what, strings.Join(msgs, "; "))
	e.details = probs
	return e
}

var (
	// {% action "type" ... %} and {%- action 'type' -%}
	reActionTag = regexp.MustCompile(`\{%-?\s*action\s+["']([A-Za-z0-9_]+)["']`)
	// {% action %}{"type": "http", ...} (a block whose body is the action object)
	reActionBlock = regexp.MustCompile(`\{%-?\s*action\s*-?%\}\s*\{\s*"type"\s*:\s*"([A-Za-z0-9_]+)"`)
	// {"action": {"type": "http", ...}} written as JSON
	reActionJSON = regexp.MustCompile(`"action"\s*:\s*\{\s*"type"\s*:\s*"([A-Za-z0-9_]+)"`)
)

// actionTypesUsed finds the literal action types a task's code uses, with
// the line of their first use.
func actionTypesUsed(script string) map[string]int {
	out := map[string]int{}
	for _, re := range []*regexp.Regexp{reActionTag, reActionBlock, reActionJSON} {
		for _, m := range re.FindAllStringSubmatchIndex(script, -1) {
			typ := script[m[2]:m[3]]
			line := 1 + strings.Count(script[:m[0]], "\n")
			if l, ok := out[typ]; !ok || line < l {
				out[typ] = line
			}
		}
	}
	return out
}

// taskWarnings are what Mechanic's editor points out without refusing
// the save: subscriptions to topics no event has, action types this
// Sprocket cannot perform (types is nil when unknown: no pipeline), and
// options the code uses without declaring them.
func taskWarnings(t *task.Task, types []string) []problem {
	var out []problem
	for i, line := range t.Subscriptions {
		sub, err := task.ParseSubscription(line)
		if err != nil {
			continue
		}
		if !task.KnownTopic(sub.Topic) {
			out = append(out, problem{Field: fmt.Sprintf("subscriptions[%d]", i),
				Message: fmt.Sprintf("subscription %q: %s is not a known event topic (user/... topics are free-form; see Mechanic's topic list), so it will never receive events", line, sub.Topic)})
		}
	}
	if types != nil {
		used := actionTypesUsed(t.Script)
		names := make([]string, 0, len(used))
		for n := range used {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if !slices.Contains(types, n) {
				out = append(out, problem{Field: task.FieldScript, Line: used[n],
					Message: fmt.Sprintf("script line %d: action type %q cannot be performed by this Sprocket (it performs %s); its action runs will fail", used[n], n, strings.Join(types, ", "))})
			}
		}
	}
	for _, k := range t.MissingOptions() {
		out = append(out, problem{Field: "options",
			Message: fmt.Sprintf("option %q is used by the code but not declared in options; it is always empty", k)})
	}
	if out == nil {
		out = []problem{}
	}
	return out
}

// enableProblems checks what enabling needs: valid Liquid, and every
// required option filled and every option value valid for its key's
// flags (Mechanic's editor refuses to enable such a task).
func enableProblems(t *task.Task, now time.Time) []problem {
	out := syntaxProblems(t)
	opts := value.NewMap(t.Options.Len())
	for _, k := range t.OptionKeys() {
		v, _ := t.Options.Get(k)
		opts.Set(k, v)
	}
	for _, fe := range task.ValidateAt(opts, now) {
		out = append(out, problem{Field: "options." + fe.Key, Message: fe.Error()})
	}
	return out
}

// actionTypes lists the action types the service's pipeline performs,
// read from its action registry; nil when there is no pipeline.
func (s *Service) actionTypes() []string {
	at, ok := s.pipe.(interface{ ActionTypes() []string })
	if !ok {
		return nil
	}
	return at.ActionTypes()
}

// graphqlWarnings checks the Shopify GraphQL the task's preview renders
// against the Admin schema of its API version (see package shopify/lint);
// each problem names the script line where it can. Without a schema file
// (SPROCKET_SHOPIFY_SCHEMA_DIR, or the shared corpus) the check is skipped
// with a warning saying so. Nulls that depend on the preview's data are
// not reported.
func (s *Service) graphqlWarnings(ctx context.Context, t *task.Task) []problem {
	pv, err := s.scopes.preview(ctx, t)
	if err != nil {
		return nil // Liquid problems are reported on their own
	}
	docs := gqllint.Documents(pv)
	if len(docs) == 0 {
		return nil
	}
	sch, err := s.schemas.Get(t.ShopifyAPIVersion)
	if err != nil {
		return []problem{{Field: task.FieldScript, Message: "the task's Shopify GraphQL was not checked: " + err.Error()}}
	}
	var out []problem
	for _, f := range gqllint.Check(sch, t.Script, docs) {
		if f.DataDependent {
			continue
		}
		msg := fmt.Sprintf("GraphQL (%s, %d:%d): %s", f.Source, f.Line, f.Column, f.Message)
		if f.TaskLine > 0 {
			msg = fmt.Sprintf("script line %d: %s", f.TaskLine, msg)
		}
		out = append(out, problem{Field: task.FieldScript, Line: f.TaskLine, Message: msg})
	}
	return out
}
