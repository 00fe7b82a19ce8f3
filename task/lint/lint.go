// Package lint checks a task the way "sprocket task lint" does: Liquid
// syntax errors with their line, unknown filters, invalid option keys and
// options referenced but not declared.
package lint

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/sprocketrun/sprocket/liquid"
	"github.com/sprocketrun/sprocket/task"
)

// Problem is one finding.
type Problem struct {
	// Where is the task field: "script", "subscriptions_template",
	// "online_store_javascript", "order_status_javascript" or "options".
	Where string
	// Line is the 1-based line within that field, or 0 when unknown.
	Line int
	// Message says what is wrong.
	Message string
}

// Check reports Liquid syntax errors, unknown filters, invalid option
// keys, broken Liquid in option values and options referenced without
// being declared, in the order script, subscriptions template, JavaScript
// sources, options.
func Check(eng *liquid.Engine, t *task.Task) []Problem {
	var out []Problem
	sources := []struct {
		where string
		src   *string
	}{
		{"script", &t.Script},
		{"subscriptions_template", t.SubscriptionsTemplate},
		{"online_store_javascript", t.OnlineStoreJavaScript},
		{"order_status_javascript", t.OrderStatusJavaScript},
	}
	for _, s := range sources {
		if s.src == nil {
			continue
		}
		if _, err := eng.Parse(*s.src); err != nil {
			p := Problem{Where: s.where, Message: err.Error()}
			var se *liquid.SyntaxError
			if errors.As(err, &se) {
				p.Line, p.Message = se.Line, "Liquid syntax error: "+se.Msg
			}
			out = append(out, p)
		}
		for _, f := range unknownFilters(eng, *s.src) {
			out = append(out, Problem{Where: s.where, Line: f.line, Message: "unknown filter " + f.name})
		}
	}
	t.Options.Each(func(k string, v any) bool {
		if _, err := task.ParseOptionKey(k); err != nil {
			out = append(out, Problem{Where: "options", Message: fmt.Sprintf("option %q: %v", k, err)})
		}
		if s, ok := v.(string); ok && (strings.Contains(s, "{{") || strings.Contains(s, "{%")) {
			if _, err := eng.Parse(s); err != nil {
				out = append(out, Problem{Where: "options", Message: fmt.Sprintf("option %q: %v", k, err)})
			}
		}
		return true
	})
	for _, k := range t.MissingOptions() {
		p := Problem{Where: "options", Message: fmt.Sprintf("option %q is referenced but not declared", k)}
		for _, s := range sources {
			if s.src == nil {
				continue
			}
			if line := optionRefLine(*s.src, k); line > 0 {
				p.Where, p.Line = s.where, line
				break
			}
		}
		out = append(out, p)
	}
	return out
}

// optionRefLine returns the line of the first options.key or
// options["key"] reference in src, or 0 when there is none.
func optionRefLine(src, key string) int {
	q := regexp.QuoteMeta(key)
	re := regexp.MustCompile(`(?:^|[^\w.\-])options(?:\.` + q + `(?:[^\w\-]|$)|\[\s*"` + q + `"\s*\]|\[\s*'` + q + `'\s*\])`)
	loc := re.FindStringIndex(src)
	if loc == nil {
		return 0
	}
	return 1 + strings.Count(src[:loc[0]], "\n")
}

var (
	reLiquidMarkup = regexp.MustCompile(`(?s)\{\{-?(.*?)-?\}\}|\{%-?\s*(\w+)(.*?)-?%\}`)
	reFilterName   = regexp.MustCompile(`\|\s*([A-Za-z_][\w-]*)`)
	reQuoted       = regexp.MustCompile(`"[^"]*"|'[^']*'`)
)

type filterUse struct {
	name string
	line int
}

// unknownFilters finds "| name" filter uses in outputs and tags that the
// engine does not know, skipping raw and comment blocks.
func unknownFilters(eng *liquid.Engine, src string) []filterUse {
	var out []filterUse
	seen := map[string]bool{}
	skipUntil := ""
	for _, m := range reLiquidMarkup.FindAllStringSubmatchIndex(src, -1) {
		markup := ""
		if m[2] >= 0 {
			markup = src[m[2]:m[3]]
		} else {
			tag := src[m[4]:m[5]]
			if skipUntil != "" {
				if tag == skipUntil {
					skipUntil = ""
				}
				continue
			}
			switch tag {
			case "raw", "comment":
				skipUntil = "end" + tag
				continue
			}
			markup = src[m[6]:m[7]]
		}
		if skipUntil != "" {
			continue
		}
		line := 1 + strings.Count(src[:m[0]], "\n")
		clean := reQuoted.ReplaceAllString(markup, `""`)
		for _, f := range reFilterName.FindAllStringSubmatch(clean, -1) {
			if _, ok := eng.Filter(f[1]); ok || seen[f[1]] {
				continue
			}
			seen[f[1]] = true
			out = append(out, filterUse{name: f[1], line: line})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].line < out[j].line })
	return out
}
