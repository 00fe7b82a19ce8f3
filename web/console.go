package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// consoleTimeout bounds one console evaluation.
const consoleTimeout = 5 * time.Second

type consoleData struct {
	Template string
	EventID  string
	Topic    string
	Sample   string
	Events   []store.Event
	Result   *consoleResult
	// Completions feed the editor's completion.
	Completions string
}

type consoleResult struct {
	Output  string
	Actions []json.RawMessage
	Logs    []json.RawMessage
	Errors  []json.RawMessage
	Error   string
	Note    string
	Event   string
}

const defaultConsole = `{{ event.topic }}
{{ shop.name }} · {{ "now" | date: "%Y-%m-%d %H:%M" }}
{% log seen: event.data %}`

func (u *UI) consolePage(w http.ResponseWriter, r *http.Request, s *session) {
	d := consoleData{Template: defaultConsole, Topic: "mechanic/user/trigger", Sample: "{}", EventID: r.URL.Query().Get("event_id")}
	u.consoleEvents(r.Context(), &d)
	u.render(w, r, s, http.StatusOK, "console", "Liquid console", d)
}

func (u *UI) consoleEvents(ctx context.Context, d *consoleData) {
	d.Completions = u.completionsFor(nil)
	evs, _, err := u.st.ListEvents(ctx, store.EventFilter{Page: store.Page{Limit: 25}})
	if err == nil {
		d.Events = evs
	}
	if d.EventID != "" && !slices.ContainsFunc(d.Events, func(e store.Event) bool { return e.ID == d.EventID }) {
		if e, err := u.st.GetEvent(ctx, d.EventID); err == nil {
			d.Events = append([]store.Event{e}, d.Events...)
		}
	}
}

// consoleEval renders Liquid with Mechanic's dialect against a stored
// event or sample data, as a task run would see it (shop, globals, secret
// references), without performing anything.
func (u *UI) consoleEval(w http.ResponseWriter, r *http.Request, s *session) {
	d := consoleData{
		Template: strings.ReplaceAll(r.PostFormValue("template"), "\r\n", "\n"),
		EventID:  strings.TrimSpace(r.PostFormValue("event_id")),
		Topic:    strings.TrimSpace(r.PostFormValue("topic")),
		Sample:   r.PostFormValue("sample"),
	}
	res := &consoleResult{}
	d.Result = res
	ev := &run.Event{Topic: d.Topic, CreatedAt: u.now()}
	if d.EventID != "" {
		e, err := u.st.GetEvent(r.Context(), d.EventID)
		if err != nil {
			res.Error = "event " + d.EventID + ": " + err.Error()
		} else {
			ev.ID, ev.Topic, ev.CreatedAt, ev.Source = e.ID, e.Topic, e.CreatedAt, e.Source
			if len(e.Data) > 0 {
				if ev.Data, err = value.FromJSON(e.Data); err != nil {
					res.Error = "event data: " + err.Error()
				}
			}
			res.Event = e.Topic + " " + e.ID
		}
	} else {
		if !task.ValidTopic(d.Topic) {
			res.Error = "topic must look like domain/subject/verb"
		}
		if strings.TrimSpace(d.Sample) != "" {
			v, err := value.FromJSON([]byte(d.Sample))
			if err != nil {
				res.Error = "sample data is not valid JSON: " + err.Error()
			}
			ev.Data = v
		}
		res.Event = d.Topic + " (sample data)"
	}
	if res.Error == "" {
		u.evalConsole(r.Context(), d.Template, ev, res)
	}
	if r.Header.Get("HX-Request") == "true" {
		u.fragment(w, http.StatusOK, "console", "result", res)
		return
	}
	u.consoleEvents(r.Context(), &d)
	u.render(w, r, s, http.StatusOK, "console", "Liquid console", d)
}

func (u *UI) evalConsole(ctx context.Context, src string, ev *run.Event, res *consoleResult) {
	ctx, cancel := context.WithTimeout(ctx, consoleTimeout)
	defer cancel()
	rr := run.Renderer{Engine: u.eng, Now: u.now}
	// Live reads of the connected shop, within the console's own budget.
	rr.GraphQL, rr.Objects = u.svc.ShopifyReads(server.ConsoleShopifyCalls)
	if v := u.svc.Vault(); v != nil {
		g, sec, err := v.Variables(ctx)
		if err != nil {
			res.Error = err.Error()
			return
		}
		rr.Globals, rr.Secrets = g, sec
	}
	t := task.New("Liquid console")
	t.Script = src
	t.Subscriptions = []string{ev.Topic}
	out, err := rr.Run(ctx, run.Input{Task: t, Event: ev})
	if out != nil {
		res.Output = out.Text
		if o := out.Output; o != nil {
			for _, a := range o.Actions {
				m := value.NewMap(2)
				m.Set("type", a.Type)
				m.Set("options", a.Options)
				res.Actions = append(res.Actions, mustJSON(m))
			}
			for _, l := range o.Logs {
				res.Logs = append(res.Logs, mustJSON(l))
			}
			for _, e := range o.Errors {
				res.Errors = append(res.Errors, mustJSON(e))
			}
		}
	}
	var re *run.Error
	switch {
	case errors.As(err, &re) && re.Kind == run.KindOutput:
		// Plain text is the usual console output; a task run would fail on it.
		res.Note = "The output is not only action, log and error objects; a task run would fail on it (" + re.Err.Error() + ")."
	case err != nil:
		res.Error = err.Error()
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := value.ToJSON(value.Normalize(v))
	if err != nil {
		b, _ = json.Marshal(err.Error())
	}
	return b
}
