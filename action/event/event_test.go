package event

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

const tid = "293b7040-6689-4eb1-8b5d-64f4d33eb2ae"

func opts(t *testing.T, js string) any {
	t.Helper()
	v, err := value.FromJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParse(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	tests := []struct {
		name      string
		in        string
		topic     string
		data      string
		runAt     time.Time
		tasks     []string
		wantField string
		wantErr   string
	}{
		{name: "minimal", in: `{"topic":"user/foo/bar","data":{"foo":"bar"}}`, topic: "user/foo/bar", data: `{"foo":"bar"}`},
		{name: "null data", in: `{"topic":"user/foo/bar","data":null}`, topic: "user/foo/bar", data: "null"},
		{name: "unix run_at", in: `{"topic":"user/a/b","data":1,"run_at":1800000000}`, topic: "user/a/b", data: "1", runAt: time.Unix(1800000000, 0).UTC()},
		{name: "unix string run_at", in: `{"topic":"user/a/b","data":1,"run_at":"1800000000"}`, topic: "user/a/b", data: "1", runAt: time.Unix(1800000000, 0).UTC()},
		{name: "rfc3339 run_at", in: `{"topic":"user/a/b","data":1,"run_at":"2026-12-16T14:30:00-05:00"}`, topic: "user/a/b", data: "1", runAt: time.Date(2026, 12, 16, 19, 30, 0, 0, time.UTC)},
		{name: "ruby run_at", in: `{"topic":"user/a/b","data":1,"run_at":"2026-12-16 14:30:00 +0100"}`, topic: "user/a/b", data: "1", runAt: time.Date(2026, 12, 16, 13, 30, 0, 0, time.UTC)},
		{name: "local run_at", in: `{"topic":"user/a/b","data":1,"run_at":"2026-12-16 14:30"}`, topic: "user/a/b", data: "1", runAt: time.Date(2026, 12, 16, 19, 30, 0, 0, time.UTC)},
		{name: "task_id", in: `{"topic":"user/a/b","data":1,"task_id":"` + strings.ToUpper(tid) + `"}`, topic: "user/a/b", data: "1", tasks: []string{tid}},
		{name: "task_ids", in: `{"topic":"user/a/b","data":1,"task_ids":["` + tid + `"]}`, topic: "user/a/b", data: "1", tasks: []string{tid}},

		{name: "not hash", in: `["user/a/b"]`, wantErr: "must be a hash"},
		{name: "no topic", in: `{"data":1}`, wantField: "topic", wantErr: "is required"},
		{name: "topic not user", in: `{"topic":"shopify/orders/create","data":1}`, wantField: "topic", wantErr: "user/<subject>/<verb>"},
		{name: "topic two parts", in: `{"topic":"user/foo","data":1}`, wantField: "topic", wantErr: "user/<subject>/<verb>"},
		{name: "topic upper", in: `{"topic":"user/Foo/bar","data":1}`, wantField: "topic", wantErr: "user/<subject>/<verb>"},
		{name: "topic number", in: `{"topic":5,"data":1}`, wantField: "topic", wantErr: "must be a string"},
		{name: "no data", in: `{"topic":"user/a/b"}`, wantField: "data", wantErr: "is required"},
		{name: "unknown option", in: `{"topic":"user/a/b","data":1,"delay":5}`, wantField: "delay", wantErr: "unknown option"},
		{name: "bad run_at", in: `{"topic":"user/a/b","data":1,"run_at":"tomorrowish"}`, wantField: "run_at", wantErr: "cannot read"},
		{name: "bool run_at", in: `{"topic":"user/a/b","data":1,"run_at":true}`, wantField: "run_at", wantErr: "must be a Unix timestamp"},
		{name: "both task options", in: `{"topic":"user/a/b","data":1,"task_id":"` + tid + `","task_ids":["` + tid + `"]}`, wantField: "task_ids", wantErr: "cannot be used together"},
		{name: "bad task_id", in: `{"topic":"user/a/b","data":1,"task_id":"abc"}`, wantField: "task_id", wantErr: "must be a task UUID"},
		{name: "bad task_ids entry", in: `{"topic":"user/a/b","data":1,"task_ids":["` + tid + `",3]}`, wantField: "task_ids.1", wantErr: "must be a task UUID"},
		{name: "empty task_ids", in: `{"topic":"user/a/b","data":1,"task_ids":[]}`, wantField: "task_ids", wantErr: "at least one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := Parse(opts(t, tt.in), ny)
			if tt.wantErr != "" {
				var ve *action.ValidationError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want validation error containing %q", err, tt.wantErr)
				}
				if ve.Field != tt.wantField {
					t.Errorf("field = %q, want %q", ve.Field, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if spec.Topic != tt.topic || string(spec.Data) != tt.data || !spec.RunAt.Equal(tt.runAt) || strings.Join(spec.TaskIDs, ",") != strings.Join(tt.tasks, ",") {
				t.Errorf("spec = %+v (data %s)", spec, spec.Data)
			}
		})
	}
}

func TestPerform(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := action.NewRegistry()
	p := New(st, nil)
	if err := reg.Register(Type, p); err != nil {
		t.Fatal(err)
	}
	parent, err := st.InsertEvents(ctx, []store.NewEvent{{Topic: "user/parent/event"}})
	if err != nil {
		t.Fatal(err)
	}
	req := action.Request{Type: Type, RunID: "run-1", EventID: parent[0].ID,
		Options: opts(t, `{"topic":"user/child/event","data":{"n":1},"task_id":"`+tid+`","__perform_event":false}`)}
	for i := 0; i < 2; i++ { // a repeated run creates the event once
		res, err := reg.Perform(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.Value.(*value.Map).Get("id")
		ev, err := st.GetEvent(ctx, id.(string))
		if err != nil {
			t.Fatal(err)
		}
		if ev.ParentID != parent[0].ID || ev.Topic != "user/child/event" || string(ev.Data) != `{"n":1}` || len(ev.TaskIDs) != 1 || ev.TaskIDs[0] != tid {
			t.Errorf("event = %+v", ev)
		}
	}
	evs, _, err := st.ListEvents(ctx, store.EventFilter{ParentID: parent[0].ID})
	if err != nil || len(evs) != 1 {
		t.Fatalf("children = %d, %v", len(evs), err)
	}
	_, eff, err := p.PerformEffects(ctx, req, "k")
	if err != nil || len(eff.Events) != 1 || eff.Events[0].ID != ChildEventID("k") || eff.Events[0].ParentID != parent[0].ID {
		t.Errorf("effects = %+v, %v", eff, err)
	}
}
