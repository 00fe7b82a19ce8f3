package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	netsmtp "net/smtp"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jhillyerd/enmime/v2"

	actionemail "github.com/sprocketrun/sprocket/action/email"
	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/internal/smtptest"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/task"
)

const (
	testSender = "shop@sprocket.test"
	testDomain = "in.sprocket.test"
)

// startEmailService runs the service in-process with its pipeline, the
// email action sending to a loopback SMTP server, and the inbound SMTP
// server on a free loopback port.
func startEmailService(t *testing.T, relayOpts ...smtptest.Options) (*Service, *client, *smtptest.Server) {
	t.Helper()
	var o smtptest.Options
	if len(relayOpts) > 0 {
		o = relayOpts[0]
	}
	relay, err := smtptest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	r, err := actionemail.ParseURL(relay.URL())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := Open(context.Background(), Config{
		DataDir: t.TempDir(), APIToken: testToken, DisableScheduler: true, Logger: quietLogger(),
		NewPipeline:  StandardPipeline(PipelineOptions{Network: loopbackNetwork, Email: actionemail.Config{Relay: r, From: testSender}}),
		Previewer:    NewPreviewer(),
		SMTPListen:   "127.0.0.1:0",
		EmailDomains: []string{testDomain},
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, serveInProcess(t, svc, nil), relay
}

// libraryTask reads a task of Mechanic's library as a JSON document.
func libraryTask(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(shared.For(t, "corpus", "mechanic-tasks", "tasks"), name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestForwardIncomingEmail runs the library task
// forward-incoming-email-to-another-address end to end: a message sent to
// the service's SMTP server becomes a mechanic/emails/received event
// (stored before the 250 reply), the task renders an email action, and
// the forwarded message reaches the relay with the original's subject,
// HTML, sender as Reply-To and attachment.
func TestForwardIncomingEmail(t *testing.T) {
	svc, c, relay := startEmailService(t)
	doc := libraryTask(t, "forward-incoming-email-to-another-address")
	doc["options"] = map[string]any{"email_recipient__email_required": "ops@example.com"}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)

	// Preview renders the forward but never sends.
	pv := c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/preview", nil)
	if ok, _ := pv["ok"].(bool); !ok {
		t.Fatalf("preview failed: %v", pv)
	}

	csv := []byte("sku,qty\nA-1,3\n")
	raw := strings.ReplaceAll(`From: "Ann Customer" <ann@example.com>
To: shop@in.sprocket.test
Subject: Damaged item in order #1001
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B"

--B
Content-Type: multipart/alternative; boundary="A"

--A
Content-Type: text/plain; charset=utf-8

The mug arrived broken.
--A
Content-Type: text/html; charset=utf-8

<p>The mug arrived <b>broken</b>.</p>
--A--
--B
Content-Type: text/csv; name="items.csv"
Content-Disposition: attachment; filename="items.csv"
Content-Transfer-Encoding: base64

`+base64.StdEncoding.EncodeToString(csv)+`
--B--
`, "\n", "\r\n")
	if err := netsmtp.SendMail(svc.SMTPAddr().String(), nil, "ann@example.com", []string{"shop@" + testDomain}, []byte(raw)); err != nil {
		t.Fatalf("send to the service: %v", err)
	}
	// The 250 came back: the event is already stored.
	evs := c.want(http.StatusOK, "GET", "/v1/events?topic=mechanic/emails/received", nil)["events"].([]any)
	if len(evs) != 1 {
		t.Fatalf("%d mechanic/emails/received events right after 250, want 1", len(evs))
	}
	if src := evs[0].(map[string]any)["source"]; src != "email" {
		t.Errorf("event source %v", src)
	}

	msgs := relay.Wait(1, 20*time.Second)
	if len(msgs) != 1 {
		runs := c.want(http.StatusOK, "GET", "/v1/runs?limit=20", nil)
		t.Fatalf("relay got %d messages, want 1; runs %v", len(msgs), runs)
	}
	if got := strings.Join(msgs[0].To, ","); got != "ops@example.com" {
		t.Errorf("forwarded to %s", got)
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]string{
		"Subject":  "Damaged item in order #1001",
		"Reply-To": "<ann@example.com>",
		"From":     `"Ann Customer (via Mechanic)" <shop@sprocket.test>`,
	} {
		if got := env.GetHeader(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if !strings.Contains(env.HTML, "<b>broken</b>") {
		t.Errorf("html %q", env.HTML)
	}
	if len(env.Attachments) != 1 || env.Attachments[0].FileName != "items.csv" || !bytes.Equal(env.Attachments[0].Content, csv) {
		t.Errorf("attachments %v", env.Attachments)
	}
	runs := waitRuns(t, c, "action_runs", id, 1)
	res, _ := json.Marshal(runs[0].(map[string]any)["result"])
	if !strings.Contains(string(res), `"accepted_recipients":["ops@example.com"]`) || !strings.Contains(string(res), `"message_id"`) {
		t.Errorf("action run result %s", res)
	}
	if n := len(relay.Messages()); n != 1 {
		t.Errorf("relay got %d messages; the preview must not send", n)
	}
}

// TestEmailFailuresInPipeline: a 4xx reply leaves the action run to be
// retried on the action retry schedule; a 5xx reply fails it at once with
// the server's reply in the run's error.
func TestEmailFailuresInPipeline(t *testing.T) {
	for _, c := range []struct {
		name, to, wantStatus, wantErr string
		wantRetry                     bool
	}{
		{name: "greylisted", to: "grey@example.com", wantStatus: "pending", wantErr: "451", wantRetry: true},
		{name: "no such user", to: "nobody@example.com", wantStatus: "failed", wantErr: `550 "5.1.1 No such user"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, cl, relay := startEmailService(t, smtptest.Options{RejectRcpt: func(addr string) *smtp.SMTPError {
				switch addr {
				case "grey@example.com":
					return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted, come back later"}
				case "nobody@example.com":
					return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
				}
				return nil
			}})
			doc := map[string]any{
				"name":          "Mail " + c.name,
				"script":        `{% action "email" to: "` + c.to + `", subject: "Hi", body: "<p>x</p>" %}`,
				"subscriptions": []string{"mechanic/user/trigger"},
				"options":       map[string]any{},
			}
			id := cl.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
			cl.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
			cl.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
			var run map[string]any
			deadline := time.Now().Add(20 * time.Second)
			for run == nil && time.Now().Before(deadline) {
				for _, r := range cl.want(http.StatusOK, "GET", "/v1/action_runs?task_id="+id, nil)["action_runs"].([]any) {
					if m := r.(map[string]any); m["error"] != nil {
						run = m
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			if run == nil {
				t.Fatal("no action run with an error")
			}
			if run["status"] != c.wantStatus || !strings.Contains(fmt.Sprint(run["error"]), c.wantErr) {
				t.Errorf("status %v error %v, want %s with %q", run["status"], run["error"], c.wantStatus, c.wantErr)
			}
			if (run["next_attempt_at"] != nil) != c.wantRetry {
				t.Errorf("next_attempt_at %v, want a retry: %v", run["next_attempt_at"], c.wantRetry)
			}
			if n := len(relay.Messages()); n != 0 {
				t.Errorf("%d messages accepted", n)
			}
		})
	}
}

// TestEmailPerformEvent: the email action's result (message id, accepted
// recipients) reaches the task as action.run.result in a
// mechanic/actions/perform event.
func TestEmailPerformEvent(t *testing.T) {
	_, c, relay := startEmailService(t)
	doc := map[string]any{
		"name": "Mail and note",
		"script": `{% if event.topic == "mechanic/actions/perform" %}{% log message_id: action.run.result.message_id, accepted: action.run.result.accepted_recipients %}` +
			`{% else %}{% action "email" to: "a@example.com, b@example.com", subject: "Hi", body: "<p>x</p>" %}{% endif %}`,
		"subscriptions": []string{"mechanic/user/trigger", "mechanic/actions/perform"},
		"options":       map[string]any{},
	}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
	msgs := relay.Wait(1, 20*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	wantID := strings.Trim(env.GetHeader("Message-Id"), "<>")
	runs := waitRuns(t, c, "task_runs", id, 2)
	var logs string
	for _, r := range runs {
		raw, _ := json.Marshal(r.(map[string]any)["logs"])
		logs += string(raw)
	}
	if !strings.Contains(logs, `"message_id":"`+wantID+`"`) || !strings.Contains(logs, `"accepted":["a@example.com","b@example.com"]`) {
		t.Errorf("perform-event run logs %s, want message id %s and both recipients", logs, wantID)
	}
}

// TestEmailTemplatesAPI manages templates through /v1/email_templates
// and checks that the email action renders the default one.
func TestEmailTemplatesAPI(t *testing.T) {
	_, c, relay := startEmailService(t)
	if out := c.want(http.StatusOK, "GET", "/v1/email_templates", nil); len(out["email_templates"].([]any)) != 0 {
		t.Fatalf("templates at start: %v", out)
	}
	msg, field := errorField(t, c.want(http.StatusBadRequest, "PUT", "/v1/email_templates/default", map[string]any{"body": "{% if %}"}))
	if field != "body" || !strings.Contains(msg, "parse") {
		t.Errorf("bad template: %q field %v", msg, field)
	}
	c.want(http.StatusBadRequest, "PUT", "/v1/email_templates/default", map[string]any{})
	put := c.want(http.StatusOK, "PUT", "/v1/email_templates/default", map[string]any{"body": `<html><body><h1>{{ shop_name }}</h1>{{ body }}</body></html>`})
	if put["name"] != "default" {
		t.Errorf("put answered %v", put)
	}
	if got := c.want(http.StatusOK, "GET", "/v1/email_templates/default", nil)["body"]; !strings.Contains(got.(string), "{{ shop_name }}") {
		t.Errorf("get body %v", got)
	}
	c.want(http.StatusNotFound, "GET", "/v1/email_templates/missing", nil)

	doc := map[string]any{
		"name":          "Templated email",
		"script":        `{% action "email" %}{"to": "a@example.com", "subject": "Hi", "body": "<p>Body text</p>", "shop_name": "Sprocket Mugs"}{% endaction %}`,
		"subscriptions": []string{"mechanic/user/trigger"},
		"options":       map[string]any{},
	}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
	msgs := relay.Wait(1, 20*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(env.HTML, "<h1>Sprocket Mugs</h1><p>Body text</p>") {
		t.Errorf("html %q was not rendered through the default template", env.HTML)
	}
	if list := c.want(http.StatusOK, "GET", "/v1/email_templates", nil)["email_templates"].([]any); len(list) != 1 {
		t.Errorf("list %v", list)
	}
	c.want(http.StatusNoContent, "DELETE", "/v1/email_templates/default", nil)
	c.want(http.StatusNotFound, "DELETE", "/v1/email_templates/default", nil)
}

// shopifyReads finds Liquid that reads the Shopify API: the shopify
// filter (GraphQL) and the REST lazy lookups of the shop object.
var shopifyReads = regexp.MustCompile(`\|\s*shopify\b|shop\.(orders|customers|products|variants|collections|draft_orders|price_rules|discount_codes|blogs|articles|shipping_zones|metafields|locations|themes)\b|\.reload\b`)

// emailAction finds an email action in a task script.
var emailAction = regexp.MustCompile(`action\s+"email"|"type"\s*:\s*"email"`)

// Action types this service performs besides email; a library task using
// anything else (shopify, files, ftp, integrations) is out of this test.
var emailCorpusTypes = []string{"email", "http", "echo", "cache", "event"}

// TestEmailLibraryTasks runs, live, every library task whose preview
// renders an email action and nothing this service cannot perform (no
// shopify action, no other missing action type, no pdf or url
// attachments): each task is created with its sampled options, an event
// like its preview event is created, and the messages must reach the
// relay. It prints the list and the counts.
func TestEmailLibraryTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs library tasks live")
	}
	lib := shared.For(t, "corpus", "mechanic-tasks", "tasks")
	files, _ := filepath.Glob(filepath.Join(lib, "*.json"))
	if len(files) != 360 {
		t.Fatalf("found %d library tasks, want 360", len(files))
	}
	type candidate struct {
		name   string
		doc    map[string]any
		events []*run.Event
		emails int
	}
	var usesEmail int
	var selected []candidate
	excluded := map[string][]string{}
	pv := run.Renderer{Engine: NewPreviewer().(*runPreviewer).base.Engine}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		tk, err := task.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(tk.Script, `"email"`) {
			continue
		}
		readsShopify := shopifyReads.MatchString(tk.Script)
		opts, _ := run.SampleRequiredOptions(tk, nil)
		p, err := pv.Preview(context.Background(), run.PreviewInput{Task: tk, Options: opts})
		if err != nil {
			excluded["preview fails"] = append(excluded["preview fails"], name)
			continue
		}
		var evs []*run.Event
		emails, other := 0, ""
		for _, r := range p.Runs {
			if r.Result == nil || r.Result.Output == nil {
				continue
			}
			sends := 0
			for _, a := range r.Result.Output.Actions {
				if !slices.Contains(emailCorpusTypes, a.Type) {
					other = a.Type + " action"
				}
				if a.Type == "email" {
					sends++
					raw, _ := value.ToJSON(a.Options)
					if bytes.Contains(raw, []byte(`{"pdf":`)) || bytes.Contains(raw, []byte(`{"url":`)) {
						other = "pdf or url attachment"
					}
				}
			}
			if sends > 0 && r.Event != nil {
				evs = append(evs, r.Event)
				emails += sends
			}
		}
		if emails == 0 && !emailAction.MatchString(tk.Script) {
			continue // "email" appears, but not as an action
		}
		usesEmail++
		if emails == 0 && other == "" {
			excluded["no email in preview"] = append(excluded["no email in preview"], name)
			continue
		}
		if other != "" {
			excluded["needs "+other] = append(excluded["needs "+other], name)
			continue
		}
		if readsShopify {
			excluded["reads Shopify data"] = append(excluded["reads Shopify data"], name)
			continue
		}
		delayed := false
		for _, s := range p.Subscriptions {
			if strings.Contains(s, "+") {
				delayed = true
			}
		}
		if delayed {
			excluded["subscription delayed by an offset"] = append(excluded["subscription delayed by an offset"], name)
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if opts != nil {
			od, _ := value.ToJSON(opts)
			var m map[string]any
			_ = json.Unmarshal(od, &m)
			doc["options"] = m
		}
		selected = append(selected, candidate{name: name, doc: doc, events: evs, emails: emails})
	}

	_, c, relay := startEmailService(t)
	var passed []string
	for _, cand := range selected {
		before := len(relay.Messages())
		id := c.want(http.StatusCreated, "POST", "/v1/tasks", cand.doc)["id"].(string)
		c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
		for _, ev := range cand.events {
			data, err := value.ToJSON(ev.Data)
			if err != nil {
				t.Fatal(err)
			}
			c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": ev.Topic, "data": json.RawMessage(data), "task_id": id})
		}
		// Wait until the task's runs have settled.
		var runs []any
		deadline := time.Now().Add(20 * time.Second)
		for {
			runs = c.want(http.StatusOK, "GET", "/v1/runs?task_id="+id+"&limit=200", nil)["runs"].([]any)
			taskRuns, busy := 0, false
			for _, r := range runs {
				m := r.(map[string]any)
				if m["kind"] == "task_run" {
					taskRuns++
				}
				if st := m["status"]; st != "success" && st != "failed" {
					busy = true
				}
			}
			if (taskRuns >= len(cand.events) && !busy) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		sent, taskErr := 0, ""
		for _, r := range runs {
			m := r.(map[string]any)
			switch {
			case m["kind"] == "task_run" && m["status"] == "failed":
				taskErr = fmt.Sprint(m["error"])
			case m["kind"] == "action_run":
				if a, _ := m["action"].(map[string]any); a["type"] != "email" {
					continue
				}
				if m["status"] != "success" {
					t.Errorf("%s: email action run %v: %v", cand.name, m["status"], m["error"])
					continue
				}
				sent++
			}
		}
		c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/disable", nil)
		switch {
		case taskErr != "":
			excluded["task run failed live"] = append(excluded["task run failed live"], cand.name+" ("+firstLine(taskErr)+")")
			continue
		case sent == 0:
			excluded["live run rendered no email (data-dependent)"] = append(excluded["live run rendered no email (data-dependent)"], cand.name)
			continue
		}
		if got := len(relay.Wait(before+sent, 20*time.Second)) - before; got != sent {
			t.Errorf("%s: %d email action runs succeeded but %d messages arrived", cand.name, sent, got)
			continue
		}
		passed = append(passed, fmt.Sprintf("%s (%d)", cand.name, sent))
	}
	var reasons []string
	for r := range excluded {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	var b strings.Builder
	fmt.Fprintf(&b, "library tasks with an email action (in the script or the preview): %d; run live: %d; delivered email: %d\n", usesEmail, len(selected), len(passed))
	for _, n := range passed {
		fmt.Fprintf(&b, "  delivered: %s\n", n)
	}
	for _, r := range reasons {
		fmt.Fprintf(&b, "  not run (%s): %d: %s\n", r, len(excluded[r]), strings.Join(excluded[r], ", "))
	}
	t.Log("\n" + b.String())
	if len(passed) == 0 {
		t.Fatal("no library task delivered email")
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// TestServeEmailEnv starts the sprocket binary configured only by the
// documented environment variables (SPROCKET_SMTP_URL, SPROCKET_EMAIL_FROM,
// SPROCKET_SMTP_LISTEN, SPROCKET_EMAIL_DOMAIN) and forwards a message
// through the forward-incoming-email library task; the relay password
// appears nowhere in the service's debug log.
func TestServeEmailEnv(t *testing.T) {
	bin := buildBinary(t)
	const pw = "relay-pa55-word"
	relay, err := smtptest.Start(smtptest.Options{Username: "relay", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	smtpAddr := ln.Addr().String()
	_ = ln.Close()
	p := startServeEnv(t, bin, t.TempDir(), []string{
		"SPROCKET_API_TOKEN=" + testToken,
		"SPROCKET_SMTP_URL=" + relay.URL(),
		"SPROCKET_EMAIL_FROM=Sprocket Shop <" + testSender + ">",
		"SPROCKET_SMTP_LISTEN=" + smtpAddr,
		"SPROCKET_EMAIL_DOMAIN=" + testDomain,
		"SPROCKET_LOG_LEVEL=debug",
	}, "--log-level", "debug")
	c := &client{t: t, base: p.base, token: testToken}
	doc := libraryTask(t, "forward-incoming-email-to-another-address")
	doc["options"] = map[string]any{"email_recipient__email_required": "ops@example.com"}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	raw := "From: Bo <bo@example.com>\r\nTo: desk@" + testDomain + "\r\nSubject: Hello desk\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi!</p>\r\n"
	if err := netsmtp.SendMail(smtpAddr, nil, "bo@example.com", []string{"desk@" + testDomain}, []byte(raw)); err != nil {
		t.Fatalf("send: %v\n%s", err, p.logTail())
	}
	msgs := relay.Wait(1, 20*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("relay got %d messages\n%s", len(msgs), p.logTail())
	}
	if msgs[0].User != "relay" || msgs[0].From != testSender || !bytes.Contains(msgs[0].Data, []byte("Subject: Hello desk")) {
		t.Errorf("relay got user %q from %q:\n%s", msgs[0].User, msgs[0].From, msgs[0].Data)
	}
	err = netsmtp.SendMail(smtpAddr, nil, "bo@example.com", []string{"desk@elsewhere.example"}, []byte(raw))
	if err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Errorf("recipient at another domain: %v, want 550", err)
	}
	p.stop()
	log, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(log, []byte(pw)) {
		t.Errorf("the relay password is in the log")
	}
	if !bytes.Contains(log, []byte("email sent")) {
		t.Errorf("no debug record of the sent email in the log:\n%s", log)
	}
}
