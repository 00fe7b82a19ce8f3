package pipeline

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	httpaction "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
)

// BenchmarkEventToHTTPAction measures complete event → task → http action
// chains per second on the real SQLite store, with a loopback HTTP server
// receiving the requests. Events are inserted up front; the clock runs from
// starting the pipeline until every action run has finished.
func BenchmarkEventToHTTPAction(b *testing.B) {
	for _, workers := range []int{8, 32, 64} {
		for _, perform := range []bool{false, true} {
			for _, liquid := range []bool{false, true} {
				b.Run(fmt.Sprintf("workers=%d/perform_event=%v/liquid=%v", workers, perform, liquid), func(b *testing.B) {
					benchChain(b, workers, perform, liquid, nil)
				})
			}
		}
	}
}

// benchScript is the Liquid task of the liquid=true variant.
const benchScript = `{% if event.topic == "mechanic/actions/perform" %}
  {% log status: action.run.result.status %}
{% else %}
  {% action "http" %}
    {"method": "post", "url": {{ options.url__required | json }}, "body": {"order": {{ event.data | json }}}}
  {% endaction %}
{% endif %}`

func benchChain(b *testing.B, workers int, perform, liquid bool, tracer Tracer) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
		hits.Add(1)
	}))
	defer srv.Close()
	t := &testing.T{}
	h := newHarness(t, withConfig(func(c *Config) {
		c.Workers = workers
		c.PollInterval = 10 * time.Millisecond
		c.Tracer = tracer
	}))
	defer h.st.Close()
	hp := httpaction.New(httpaction.Config{Network: netpolicy.New(netip.MustParsePrefix("127.0.0.0/8"))})
	defer hp.CloseIdleConnections()
	h.register("http", hp)
	subs := []string{"user/orders/new"}
	if perform {
		subs = append(subs, TopicActionsPerform)
	}
	var performed atomic.Int64
	tk := h.task("forward", subs, "", taskOpts{})
	if liquid {
		def, _ := value.ToJSON(value.MapOf("name", "forward", "script", benchScript, "subscriptions", subs,
			"options", value.MapOf("url__required", srv.URL+"/orders")))
		tk.Definition = def
		if _, err := h.st.UpdateTask(context.Background(), tk); err != nil {
			b.Fatal(err)
		}
		rr := RunRenderer{Renderer: &run.Renderer{Engine: dialect.NewEngine(dialect.Options{}), Cache: StoreCache(h.st), Logger: quietLogger()}}
		h.cfg.Renderer = TaskRendererFunc(func(ctx context.Context, in TaskRunInput) (TaskRunOutput, error) {
			out, err := rr.RenderTask(ctx, in)
			if in.Event.Topic == TopicActionsPerform {
				performed.Add(1)
			}
			return out, err
		})
	}
	script := `{"action":{"type":"http","options":{"method":"post","url":"` + srv.URL + `/orders","body":{"order":{"id":1,"total":"10.00"}}}}}`
	h.setRender("forward", func(in TaskRunInput) (string, error) {
		if in.Event.Topic == TopicActionsPerform {
			performed.Add(1)
			return `{"log":"sent"}`, nil
		}
		return script, nil
	})
	ctx := context.Background()
	n := b.N
	for i := 0; i < n; i += 500 {
		batch := make([]store.NewEvent, 0, 500)
		for j := i; j < min(n, i+500); j++ {
			batch = append(batch, store.NewEvent{Topic: "user/orders/new", Data: []byte(fmt.Sprintf(`{"id":%d}`, j))})
		}
		if _, err := h.st.InsertEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	p, err := New(h.cfg)
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	for hits.Load() < int64(n) || (perform && performed.Load() < int64(n)) {
		time.Sleep(time.Millisecond)
	}
	for idle := 0; idle < 2; {
		st, err := h.st.Stats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		busy := 0
		for _, m := range []map[store.RunKind]int{st.Due, st.Running, st.Scheduled} {
			for _, c := range m {
				busy += c
			}
		}
		if busy == 0 {
			idle++
		} else {
			idle = 0
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(n)/elapsed.Seconds(), "chains/s")
	// CPU time per chain tells more than wall time on a shared machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/chain")
	if perform {
		b.ReportMetric(float64(4*n)/elapsed.Seconds(), "runs/s")
	} else {
		b.ReportMetric(float64(3*n)/elapsed.Seconds(), "runs/s")
	}
	if got := hits.Load(); got != int64(n) {
		b.Fatalf("server saw %d requests for %d events", got, n)
	}
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
