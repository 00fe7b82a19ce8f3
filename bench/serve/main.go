// Command serve benchmarks the Sprocket service on loopback: it starts the
// service in-process on a temporary data directory and prints
//
//  1. webhook acks/s sustained over a period (default 30 s) with p50/p99
//     ack latency, from closed-loop clients;
//  2. ack latency (p50/p99/max) at a fixed offered rate (default 1,000 req/s);
//  3. complete webhook → event run → task run → http action runs/s, the
//     http action hitting a loopback server.
//
// Everything is bounded in time and stays on 127.0.0.1. The load
// generator shares the machine with the service, so figures are a lower
// bound of what the service alone could do.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

type config struct {
	ackDuration time.Duration
	clients     int
	rate        int
	rateFor     time.Duration
	runs        int
	runsTimeout time.Duration
	workers     int
	keep        bool
	cpuprofile  string
	phases      string
	noPipeline  bool
}

func main() {
	var c config
	flag.DurationVar(&c.ackDuration, "duration", 30*time.Second, "how long to sustain the ack load")
	flag.IntVar(&c.clients, "clients", 256, "concurrent clients (closed-loop in the ack and runs phases, connection pool in the rate phase)")
	flag.IntVar(&c.rate, "rate", 1000, "offered request rate of the latency phase (req/s)")
	flag.DurationVar(&c.rateFor, "rate-duration", 10*time.Second, "length of the latency phase")
	flag.IntVar(&c.runs, "runs", 20000, "webhooks to push through the full pipeline")
	flag.DurationVar(&c.runsTimeout, "runs-timeout", 120*time.Second, "give up the runs phase after this long")
	flag.IntVar(&c.workers, "workers", 0, "pipeline workers (0: default)")
	flag.BoolVar(&c.keep, "keep", false, "keep the data directory")
	flag.BoolVar(&c.noPipeline, "no-pipeline", false, "run the service without its pipeline (isolates the ack path; the runs phase then cannot finish)")
	flag.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.StringVar(&c.phases, "phases", "baseline,ack,rate,runs", "phases to run (comma-separated: baseline, ack, rate, runs)")
	flag.Parse()
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := bench(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// env is the running service and a client for it.
type env struct {
	base   string
	token  string
	client *http.Client
	st     store.Store
}

func (e *env) api(method, path string, body any, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	req, err := http.NewRequest(method, e.base+path, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

func (e *env) webhook(topic string) (string, error) {
	var wh struct{ URL string }
	if err := e.api("POST", "/v1/webhooks", map[string]any{"name": "bench " + topic, "topic": topic}, &wh); err != nil {
		return "", err
	}
	return e.base + wh.URL, nil
}

// post sends one webhook and returns its latency, or an error for a non-2xx.
func (e *env) post(url string, body []byte) (time.Duration, error) {
	start := time.Now()
	resp, err := e.client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("status %s", resp.Status)
	}
	return time.Since(start), nil
}

// bench runs each phase on a fresh service with its own data directory,
// so that one phase's records do not slow the next one down.
func bench(ctx context.Context, c config) error {
	fmt.Printf("sprocket serve benchmark: GOMAXPROCS=%d, %s/%s; each phase on a fresh service and data directory\n\n",
		runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	phases := map[string]func(e *env) error{
		"baseline": func(e *env) error { return baselinePhase(e, c) },
		"ack":      func(e *env) error { return ackPhase(e, c) },
		"rate":     func(e *env) error { return ratePhase(e, c) },
		"runs":     func(e *env) error { return runsPhase(ctx, e, c) },
	}
	for _, name := range strings.Split(c.phases, ",") {
		run, ok := phases[strings.TrimSpace(name)]
		if !ok {
			return fmt.Errorf("unknown phase %q", name)
		}
		if err := withService(ctx, c, run); err != nil {
			return err
		}
	}
	return nil
}

// withService starts the service in-process on a temporary data directory
// and a loopback port, runs fn, and stops and removes everything.
func withService(ctx context.Context, c config, fn func(e *env) error) error {
	dir, err := os.MkdirTemp("", "sprocket-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	if !c.keep {
		defer os.RemoveAll(dir)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	const token = "bench-token"
	cfg := server.Config{DataDir: dir, APIToken: token, Logger: log, DisableScheduler: true}
	if !c.noPipeline {
		cfg.NewPipeline = server.StandardPipeline(server.PipelineOptions{Workers: c.workers, Network: netpolicy.New(netip.MustParsePrefix("127.0.0.0/8"))})
	}
	svc, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(sctx, ln) }()
	defer func() {
		stop()
		<-served
	}()
	e := &env{
		base: "http://" + ln.Addr().String(), token: token, st: svc.Store(),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute,
		}},
	}
	defer e.client.CloseIdleConnections()
	return fn(e)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// baselinePhase measures the same clients against an HTTP handler that
// does nothing, on the same loopback setup: the ceiling the HTTP stack and
// the load generator leave on this machine.
func baselinePhase(e *env, c config) error {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	d := min(c.ackDuration, 5*time.Second)
	fmt.Printf("0. baseline: empty HTTP handler, %d closed-loop clients for %v\n", c.clients, d)
	n, lat, errs := closedLoop(e, "http://"+ln.Addr().String()+"/", []byte(`{"id": 1}`), c.clients, d)
	fmt.Printf("   %.0f req/s; latency p50 %s, p99 %s; %d errors\n\n", float64(len(lat))/n.Seconds(),
		ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99)), errs)
	return nil
}

// closedLoop runs clients that each post body to url back to back for d;
// it returns the elapsed time, the sorted latencies and the error count.
func closedLoop(e *env, url string, body []byte, clients int, d time.Duration) (time.Duration, []time.Duration, int64) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lat  []time.Duration
		errs atomic.Int64
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			rc, err := newRawConn(url, body)
			if err != nil {
				errs.Add(1)
				return
			}
			defer rc.close()
			local := make([]time.Duration, 0, 1<<14)
			for time.Now().Before(deadline) {
				d, err := rc.post()
				if err != nil {
					errs.Add(1)
					continue
				}
				local = append(local, d)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return elapsed, lat, errs.Load()
}

// ackPhase: closed-loop clients post to a webhook no task subscribes to,
// so the service does the ack path plus one event run per event.
func ackPhase(e *env, c config) error {
	url, err := e.webhook("user/bench/ack")
	if err != nil {
		return err
	}
	body := []byte(`{"id": 1234567890, "email": "bench@example.com", "total_price": "19.99", "line_items": [{"sku": "A-1", "quantity": 2}]}`)
	// Warm up connections and the database.
	for range 200 {
		if _, err := e.post(url, body); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	fmt.Printf("1. webhook acks, %d closed-loop clients for %v\n", c.clients, c.ackDuration)
	elapsed, lat, errs := closedLoop(e, url, body, c.clients, c.ackDuration)
	fmt.Printf("   %d acks in %v: %.0f acks/s; latency p50 %s, p99 %s, max %s; %d errors\n",
		len(lat), elapsed.Round(time.Millisecond), float64(len(lat))/elapsed.Seconds(),
		ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99)), ms(percentile(lat, 1)), errs)
	if qs, err := e.st.Stats(context.Background()); err == nil {
		fmt.Printf("   event runs still queued when the load stopped: %d\n", sum(qs.Due)+sum(qs.Running))
	}
	// Let the pipeline drain the event runs so the next phase starts clean.
	if !c.noPipeline {
		drained := waitDrained(e, 2*time.Minute)
		fmt.Printf("   event runs drained %v after the load stopped\n", drained.Round(time.Millisecond))
	}
	fmt.Println()
	return nil
}

// waitDrained waits until the queue has nothing due or running.
func waitDrained(e *env, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit {
		qs, err := e.st.Stats(context.Background())
		if err == nil && sum(qs.Due)+sum(qs.Running) == 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	return time.Since(start)
}

func sum(m map[store.RunKind]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// ratePhase: open-loop requests at a fixed rate; latency is measured from
// each request's scheduled send time, so a stalled server is not hidden.
func ratePhase(e *env, c config) error {
	url, err := e.webhook("user/bench/rate")
	if err != nil {
		return err
	}
	body := []byte(`{"id": 42, "note": "fixed rate"}`)
	n := int(c.rateFor.Seconds() * float64(c.rate))
	fmt.Printf("2. ack latency at %d req/s (open loop) for %v\n", c.rate, c.rateFor)
	lat := make([]time.Duration, n)
	var errs atomic.Int64
	var wg sync.WaitGroup
	// A pool of keep-alive connections; a request waiting for a free one
	// counts that wait in its latency.
	pool := make(chan *rawConn, c.clients)
	for range c.clients {
		rc, err := newRawConn(url, body)
		if err != nil {
			return err
		}
		pool <- rc
	}
	interval := time.Second / time.Duration(c.rate)
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			rc := <-pool
			defer func() { pool <- rc }()
			if _, err := rc.post(); err != nil {
				errs.Add(1)
				lat[i] = -1
				return
			}
			lat[i] = time.Since(at)
		})
	}
	wg.Wait()
	close(pool)
	for rc := range pool {
		rc.close()
	}
	elapsed := time.Since(start)
	ok := lat[:0]
	for _, d := range lat {
		if d >= 0 {
			ok = append(ok, d)
		}
	}
	slices.Sort(ok)
	fmt.Printf("   %d requests in %v (%.0f req/s achieved); latency p50 %s, p99 %s, max %s; %d errors\n",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(),
		ms(percentile(ok, 0.50)), ms(percentile(ok, 0.99)), ms(percentile(ok, 1)), errs.Load())
	if !c.noPipeline {
		drained := waitDrained(e, 2*time.Minute)
		fmt.Printf("   event runs drained %v after the load stopped\n", drained.Round(time.Millisecond))
	}
	fmt.Println()
	return nil
}

// runsPhase: a task subscribed to the webhook's topic renders one http
// action per event, posting to a loopback server; a run is complete when
// its action run has succeeded.
func runsPhase(ctx context.Context, e *env, c config) error {
	var hits atomic.Int64
	target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	go func() { _ = target.Serve(tl) }()
	defer target.Close()

	script := `{% action "http" %}{"method": "post", "url": "http://` + tl.Addr().String() + `/in", "body": {"order": {{ event.data.id | json }}, "email": {{ event.data.email | json }}}, "__perform_event": false}{% endaction %}`
	doc := task.New("Bench forward orders")
	doc.Script = script
	doc.Subscriptions = []string{"user/bench/run"}
	tmpl := "user/bench/run"
	doc.SubscriptionsTemplate = &tmpl
	raw, err := doc.MarshalJSON()
	if err != nil {
		return fmt.Errorf("task: %w", err)
	}
	var created struct{ ID string }
	if err := e.api("POST", "/v1/tasks", json.RawMessage(raw), &created); err != nil {
		return err
	}
	if err := e.api("POST", "/v1/tasks/"+created.ID+"/enable", nil, nil); err != nil {
		return err
	}
	url, err := e.webhook("user/bench/run")
	if err != nil {
		return err
	}
	fmt.Printf("3. complete runs: %d webhooks → event run → task run → http action (loopback), %d clients\n", c.runs, c.clients)
	start := time.Now()
	var next atomic.Int64
	var errs atomic.Int64
	var wg sync.WaitGroup
	for range c.clients {
		wg.Go(func() {
			rc, err := newRawConn(url, nil)
			if err != nil {
				errs.Add(1)
				return
			}
			defer rc.close()
			var body []byte
			for {
				i := next.Add(1)
				if i > int64(c.runs) {
					return
				}
				body = fmt.Appendf(body[:0], `{"id": %d, "email": "c%d@example.com"}`, i, i)
				if _, err := rc.postBody(body); err != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	acked := time.Since(start)
	want := int64(c.runs) - errs.Load()
	deadline := time.Now().Add(c.runsTimeout)
	for hits.Load() < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// An action run is recorded successful just after its request is served.
	for time.Now().Before(deadline) {
		n, err := countRuns(ctx, e.st, created.ID, store.KindAction, store.StatusSuccess, want)
		if err == nil && n >= want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	done, err := countRuns(ctx, e.st, created.ID, store.KindAction, store.StatusSuccess, want)
	if err != nil {
		return err
	}
	fmt.Printf("   webhooks acked in %v; %d/%d complete runs (http requests received: %d) in %v: %.0f complete runs/s; %d webhook errors\n",
		acked.Round(time.Millisecond), done, want, hits.Load(), elapsed.Round(time.Millisecond), float64(done)/elapsed.Seconds(), errs.Load())
	if done < want {
		fmt.Printf("   (stopped waiting after %v)\n", c.runsTimeout)
	}
	fmt.Println(strings.Repeat("-", 60))
	return nil
}

// countRuns counts a task's runs of a kind and status, up to limit.
func countRuns(ctx context.Context, st store.Store, taskID string, kind store.RunKind, status store.RunStatus, limit int64) (int64, error) {
	var n int64
	p := store.Page{Limit: store.MaxPageLimit}
	for n < limit {
		runs, next, err := st.ListRuns(ctx, store.RunFilter{Kind: kind, TaskID: taskID, Status: status, Page: p})
		if err != nil {
			return n, fmt.Errorf("list runs: %w", err)
		}
		n += int64(len(runs))
		if next == "" {
			break
		}
		p.Cursor = next
	}
	return n, nil
}
