package task

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/liquid/value"
)

// rubyRenders renders many templates with one Ruby Liquid process (the
// reference implementation), each with the variable "options".
func rubyRenders(t *testing.T, jobs []rubyJob) []string {
	t.Helper()
	if _, err := exec.LookPath("ruby"); err != nil {
		t.Skip("ruby not installed")
	}
	var in bytes.Buffer
	in.WriteByte('[')
	for i, j := range jobs {
		if i > 0 {
			in.WriteByte(',')
		}
		opts, err := value.ToJSON(j.options)
		if err != nil {
			t.Fatal(err)
		}
		tmpl, _ := json.Marshal(j.tmpl)
		fmt.Fprintf(&in, `{"t":%s,"o":%s}`, tmpl, opts)
	}
	in.WriteByte(']')
	cmd := exec.CommandContext(t.Context(), "ruby", "-rliquid", "-rjson", "-e",
		`inp = JSON.parse(STDIN.read); puts JSON.generate(inp.map { |x| Liquid::Template.parse(x["t"]).render({"options" => x["o"]}) })`)
	cmd.Env = append(cmd.Environ(), "TZ=UTC")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "cannot load such file") {
			t.Skip("ruby liquid gem not installed")
		}
		t.Fatalf("ruby: %v: %s", err, stderr.String())
	}
	var res []string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ruby output: %v", err)
	}
	return res
}

// rubyTemplateExceptions are library templates whose Ruby Liquid rendering
// does not give the stored subscriptions, and why.
var rubyTemplateExceptions = map[string]string{
	// Mechanic's Liquid runs with ActiveSupport, where nil is blank; plain
	// Ruby Liquid renders "+.days" for these unset number options.
	"email-someone-when-certain-product-purchased.json":                               "nil != blank",
	"product-order-email.json":                                                        "nil != blank",
	"send-a-follow-up-email-after-order-cancellation.json":                            "nil != blank",
	"send-a-follow-up-email-to-customers-after-purchasing-from-a-certain-vendor.json": "nil != blank",
	// Uses Mechanic's keys filter and newline variable.
	"send-email-alerts-by-event-topic.json": "Mechanic filters",
	// Stored subscriptions are out of date with the template.
	"auto-create-collections-by-product-type-or-vendor.json":    "stale",
	"auto-remove-attributes-on-new-orders-after-x-minutes.json": "stale",
	"auto-update-inventory-policy-based-on-a-preorder-tag.json": "stale",
	"copy-order-tags-to-customers.json":                         "stale",
}

type rubyJob struct {
	tmpl    string
	options *value.Map
}

// TestCorpusTemplatesWithRubyLiquid renders every library subscriptions
// template that holds Liquid with Ruby Liquid, through
// SubscriptionsFromTemplate, and compares with the stored subscriptions.
func TestCorpusTemplatesWithRubyLiquid(t *testing.T) {
	var (
		tasks []corpusTask
		jobs  []rubyJob
	)
	for _, c := range loadCorpus(t) {
		if tm := c.task.SubscriptionsTemplate; tm != nil && strings.Contains(*tm, "{") {
			tasks = append(tasks, c)
			jobs = append(jobs, rubyJob{*tm, c.task.Options})
		}
	}
	rendered := rubyRenders(t, jobs)
	match := 0
	for i, c := range tasks {
		render := func(_ context.Context, tmpl string, vars map[string]any) (string, error) {
			if tmpl != jobs[i].tmpl || vars["options"] != c.task.Options {
				return "", fmt.Errorf("unexpected render call")
			}
			return rendered[i], nil
		}
		got, err := c.task.RenderSubscriptions(t.Context(), render)
		switch {
		case err == nil && reflect.DeepEqual(got, c.task.Subscriptions):
			match++
		case rubyTemplateExceptions[c.file] != "":
			t.Logf("%s (known, %s): rendered %q, error %v, stored %q", c.file, rubyTemplateExceptions[c.file], got, err, c.task.Subscriptions)
		case err != nil:
			t.Errorf("%s: %v", c.file, err)
		default:
			t.Errorf("%s: rendered %q, stored %q", c.file, got, c.task.Subscriptions)
		}
	}
	t.Logf("%d/%d Liquid subscriptions templates render (Ruby Liquid) to the stored subscriptions", match, len(tasks))
}
