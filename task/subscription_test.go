package task

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// Examples from docs: core/tasks/subscriptions.md, core/runs/scheduling.md
// and the task library.
func TestParseSubscription(t *testing.T) {
	tests := []struct {
		line   string
		topic  string
		delay  time.Duration
		amount int64
		unit   Unit
		str    string
	}{
		{"shopify/customers/create", "shopify/customers/create", 0, 0, "", "shopify/customers/create"},
		{"  mechanic/user/trigger \t", "mechanic/user/trigger", 0, 0, "", "mechanic/user/trigger"},
		{"mechanic/scheduler/10min", "mechanic/scheduler/10min", 0, 0, "", "mechanic/scheduler/10min"},
		{"user/orders/unpaid_reminder+1.day", "user/orders/unpaid_reminder", 24 * time.Hour, 1, Days, "user/orders/unpaid_reminder+1.day"},
		{"shopify/customers/create+1.hour", "shopify/customers/create", time.Hour, 1, Hours, "shopify/customers/create+1.hour"},
		{"mechanic/scheduler/daily+10.hours", "mechanic/scheduler/daily", 10 * time.Hour, 10, Hours, "mechanic/scheduler/daily+10.hours"},
		{"mechanic/scheduler/daily+100.hours", "mechanic/scheduler/daily", 100 * time.Hour, 100, Hours, "mechanic/scheduler/daily+100.hours"},
		{"shopify/orders/create+5.days", "shopify/orders/create", 5 * 24 * time.Hour, 5, Days, "shopify/orders/create+5.days"},
		{"shopify/orders/create+10.minutes", "shopify/orders/create", 10 * time.Minute, 10, Minutes, "shopify/orders/create+10.minutes"},
		{"shopify/orders/create+1.minute", "shopify/orders/create", time.Minute, 1, Minutes, "shopify/orders/create+1.minute"},
		{"shopify/orders/create+30.seconds", "shopify/orders/create", 30 * time.Second, 30, Seconds, "shopify/orders/create+30.seconds"},
		{"shopify/orders/create+2.weeks", "shopify/orders/create", 14 * 24 * time.Hour, 2, Weeks, "shopify/orders/create+2.weeks"},
		{"user/membership/renewal+12.months", "user/membership/renewal", 12 * 2629746 * time.Second, 12, Months, "user/membership/renewal+12.months"},
		{"user/membership/renewal+1.year", "user/membership/renewal", 31556952 * time.Second, 1, Years, "user/membership/renewal+1.year"},
		{"shopify/orders/paid+0.days", "shopify/orders/paid", 0, 0, Days, "shopify/orders/paid+0.days"},
		{"shopify/orders/paid+1.days", "shopify/orders/paid", 24 * time.Hour, 1, Days, "shopify/orders/paid+1.day"},
	}
	for _, tc := range tests {
		s, err := ParseSubscription(tc.line)
		if err != nil {
			t.Errorf("ParseSubscription(%q): %v", tc.line, err)
			continue
		}
		want := Subscription{Topic: tc.topic, Delay: tc.delay, Amount: tc.amount, Unit: tc.unit}
		if s != want {
			t.Errorf("ParseSubscription(%q) = %+v, want %+v", tc.line, s, want)
		}
		if s.String() != tc.str {
			t.Errorf("String() = %q, want %q", s.String(), tc.str)
		}
	}
}

func TestParseSubscriptionErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{"", "empty subscription"},
		{"shopify/orders", "invalid topic"},
		{"shopify/orders/create/extra", "invalid topic"},
		{"Shopify/Orders/Create", "invalid topic"},
		{"shopify/orders-x/create", "invalid topic"},
		{"shopify/orders/create now", "invalid topic"},
		{"/orders/create", "invalid topic"},
		{"shopify/orders/paid+.days", "invalid offset"},
		{"shopify/orders/paid+3", "invalid offset"},
		{"shopify/orders/paid+-3.days", "invalid offset"},
		{"shopify/orders/paid+3.0.days", "invalid offset"},
		{"shopify/orders/paid+3.fortnights", `invalid offset unit "fortnights"`},
		{"shopify/orders/paid+3.Days", "invalid offset"},
		{"shopify/orders/paid+1.hour+1.hour", "invalid offset"},
		{"shopify/orders/paid+99999999999.years", "too large"},
	}
	for _, tc := range tests {
		_, err := ParseSubscription(tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSubscription(%q) error %v, want %q", tc.line, err, tc.want)
		}
	}
}

func TestRunAt(t *testing.T) {
	vancouver, err := time.LoadLocation("America/Vancouver")
	if err != nil {
		t.Skip("no time zone data")
	}
	tests := []struct {
		line string
		at   time.Time
		want time.Time
	}{
		// docs: core/tasks/subscriptions.md: the daily event at midnight
		// plus 10 hours runs at 10am.
		{"mechanic/scheduler/daily+10.hours", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC)},
		{"shopify/orders/create", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"shopify/orders/create+90.seconds", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 2, 0, 1, 30, 0, time.UTC)},
		{"user/x/y+1.month", time.Date(2024, 1, 31, 9, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 9, 0, 0, 0, time.UTC)},
		{"user/x/y+12.months", time.Date(2024, 2, 29, 9, 0, 0, 0, time.UTC), time.Date(2025, 2, 28, 9, 0, 0, 0, time.UTC)},
		{"user/x/y+1.year", time.Date(2024, 2, 29, 9, 0, 0, 0, time.UTC), time.Date(2025, 2, 28, 9, 0, 0, 0, time.UTC)},
		{"user/x/y+2.weeks", time.Date(2024, 12, 25, 9, 0, 0, 0, time.UTC), time.Date(2025, 1, 8, 9, 0, 0, 0, time.UTC)},
		// Days keep the wall-clock time across a DST change (2024-03-10).
		{"user/x/y+1.day", time.Date(2024, 3, 9, 9, 0, 0, 0, vancouver), time.Date(2024, 3, 10, 9, 0, 0, 0, vancouver)},
		// Hours are elapsed time.
		{"user/x/y+24.hours", time.Date(2024, 3, 9, 9, 0, 0, 0, vancouver), time.Date(2024, 3, 10, 10, 0, 0, 0, vancouver)},
	}
	for _, tc := range tests {
		s, err := ParseSubscription(tc.line)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.RunAt(tc.at); !got.Equal(tc.want) {
			t.Errorf("%s RunAt(%v) = %v, want %v", tc.line, tc.at, got, tc.want)
		}
	}
}

// fakeRender stands in for the Liquid engine: it replaces
// {{ options.KEY }} with the option's string form and
// {% if options.KEY %}…{% endif %} (no nesting) with its body when the
// option is truthy.
func fakeRender(_ context.Context, tmpl string, vars map[string]any) (string, error) {
	opts, _ := vars["options"].(*value.Map)
	get := func(k string) any { v, _ := opts.Get(k); return v }
	ifs := regexp.MustCompile(`(?s)\{%\s*if options\.(\w+)\s*%\}(.*?)\{%\s*endif\s*%\}`)
	tmpl = ifs.ReplaceAllStringFunc(tmpl, func(m string) string {
		sm := ifs.FindStringSubmatch(m)
		if value.Truthy(get(sm[1])) {
			return sm[2]
		}
		return ""
	})
	outs := regexp.MustCompile(`\{\{\s*options\.(\w+)\s*\}\}`)
	tmpl = outs.ReplaceAllStringFunc(tmpl, func(m string) string {
		return value.ToString(get(outs.FindStringSubmatch(m)[1]))
	})
	if strings.Contains(tmpl, "{%") || strings.Contains(tmpl, "{{") {
		return "", errors.New("fakeRender: unsupported Liquid")
	}
	return tmpl, nil
}

// Templates from docs: core/tasks/subscriptions.md, "Using Liquid".
func TestSubscriptionsFromTemplate(t *testing.T) {
	tests := []struct {
		name    string
		tmpl    string
		options *value.Map
		want    []string
	}{
		{"static", "shopify/customers/create", nil, []string{"shopify/customers/create"}},
		{"blank lines and whitespace", "\n  shopify/orders/create  \r\n\n\tmechanic/user/trigger\n\n", nil, []string{"shopify/orders/create", "mechanic/user/trigger"}},
		{"conditional on", "shopify/orders/create\n\n{% if options.send_when_cancelled__boolean %}\n  shopify/orders/cancelled\n{% endif %}", value.MapOf("send_when_cancelled__boolean", true), []string{"shopify/orders/create", "shopify/orders/cancelled"}},
		{"conditional off", "shopify/orders/create\n\n{% if options.send_when_cancelled__boolean %}\n  shopify/orders/cancelled\n{% endif %}", value.MapOf("send_when_cancelled__boolean", false), []string{"shopify/orders/create"}},
		{"dynamic offset", "shopify/orders/paid+{{ options.days__number_required }}.days", value.MapOf("days__number_required", int64(3)), []string{"shopify/orders/paid+3.days"}},
		{"dynamic offset from stored string", "shopify/orders/paid+{{ options.days__number_required }}.days", value.MapOf("days__number_required", "3"), []string{"shopify/orders/paid+3.days"}},
		{"optional offset", "shopify/customers/create{% if options.wait_one_hour__boolean %}+1.hour{% endif %}", value.MapOf("wait_one_hour__boolean", true), []string{"shopify/customers/create+1.hour"}},
		{"empty", "\n \n", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			subs, err := SubscriptionsFromTemplate(t.Context(), tc.tmpl, fakeRender, tc.options)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range subs {
				got = append(got, s.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSubscriptionsFromTemplateErrors(t *testing.T) {
	// An unset number option renders an empty offset: the line is invalid
	// and reported with its line number.
	tmpl := "mechanic/user/trigger\n\nshopify/orders/paid+{{ options.days__number }}.days\nnot a topic"
	_, err := SubscriptionsFromTemplate(t.Context(), tmpl, fakeRender, value.MapOf("days__number", nil))
	if err == nil {
		t.Fatal("no error")
	}
	var se *SubscriptionError
	if !errors.As(err, &se) || se.Line != 3 || se.Text != "shopify/orders/paid+.days" {
		t.Errorf("first error %+v", se)
	}
	for _, want := range []string{"subscriptions line 3: invalid offset", "subscriptions line 4: invalid topic"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	boom := errors.New("boom")
	_, err = SubscriptionsFromTemplate(t.Context(), "x", func(context.Context, string, map[string]any) (string, error) { return "", boom }, nil)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "render subscriptions template") {
		t.Errorf("render error %v", err)
	}
}

func TestRenderSubscriptions(t *testing.T) {
	tmpl := "shopify/orders/paid+{{ options.days__number }}.days\nmechanic/user/trigger"
	tk := New("Follow up")
	tk.SubscriptionsTemplate = &tmpl
	tk.Options.Set("days__number", "1")
	got, err := tk.RenderSubscriptions(t.Context(), fakeRender)
	if err != nil {
		t.Fatal(err)
	}
	// Lines are kept as rendered ("+1.days"), not rewritten.
	if want := []string{"shopify/orders/paid+1.days", "mechanic/user/trigger"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	tk.Subscriptions = got
	subs, err := tk.ParsedSubscriptions()
	if err != nil || len(subs) != 2 || subs[0].Delay != 24*time.Hour {
		t.Errorf("ParsedSubscriptions = %+v, %v", subs, err)
	}
	tk.Subscriptions = []string{"ok/ok/ok", "bad"}
	if _, err := tk.ParsedSubscriptions(); err == nil || !strings.Contains(err.Error(), "subscriptions[1]") {
		t.Errorf("ParsedSubscriptions error %v", err)
	}
}
