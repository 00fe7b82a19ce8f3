// Command cluster benchmarks Sprocket on PostgreSQL with 1, 2 and 3 nodes
// against SQLite with one node, on loopback. Each configuration runs on a
// fresh database (a new schema, or a new SQLite data directory) with its
// nodes started in this process (each a full service: HTTP server, batcher,
// pipeline, waker), and prints for each:
//
//  1. webhook acks/s from closed-loop clients spread over the nodes, with
//     p50/p99 ack latency;
//  2. ack latency (p50/p99) at a fixed offered rate (default 1,000 req/s);
//  3. complete webhook → event run → task run → http action runs/s, the
//     action posting to a loopback server.
//
// The nodes, PostgreSQL and the load generator share the machine, so on a
// small box the figures show where the time goes rather than how a real
// cluster (one machine per node) scales. Usage:
//
//	go run ./bench/cluster -database "$SPROCKET_TEST_DATABASE_URL"
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

type config struct {
	database    string
	nodes       []int
	sqlite      bool
	clients     int
	ackFor      time.Duration
	rate        int
	rateFor     time.Duration
	runs        int
	runsTimeout time.Duration
	maxConns    int
	cpuprofile  string
}

type result struct {
	name                 string
	acks                 float64
	ackP50, ackP99       time.Duration
	rateP50, rateP99     time.Duration
	rateAchieved         float64
	runsPerSec           float64
	runsDone, runsWanted int64
	errs                 int64
}

func main() {
	var c config
	var nodes string
	flag.StringVar(&c.database, "database", os.Getenv("SPROCKET_TEST_DATABASE_URL"), "PostgreSQL URL (each configuration gets a fresh schema in it)")
	flag.StringVar(&nodes, "nodes", "1,2,3", "PostgreSQL node counts to run")
	flag.BoolVar(&c.sqlite, "sqlite", true, "also run one node on SQLite for comparison")
	flag.IntVar(&c.clients, "clients", 64, "closed-loop clients (spread over the nodes)")
	flag.DurationVar(&c.ackFor, "duration", 10*time.Second, "length of the ack phase")
	flag.IntVar(&c.rate, "rate", 1000, "offered request rate of the latency phase (req/s)")
	flag.DurationVar(&c.rateFor, "rate-duration", 5*time.Second, "length of the latency phase")
	flag.IntVar(&c.runs, "runs", 5000, "webhooks pushed through the whole pipeline")
	flag.DurationVar(&c.runsTimeout, "runs-timeout", 2*time.Minute, "give up waiting for the runs after this long")
	flag.IntVar(&c.maxConns, "max-conns", 0, "PostgreSQL pool size per node (0: default)")
	flag.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run (nodes and load generator) to this file")
	flag.Parse()
	for _, f := range strings.Split(nodes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "cluster: bad -nodes entry %q\n", f)
			os.Exit(2)
		}
		c.nodes = append(c.nodes, n)
	}
	if c.database == "" && len(c.nodes) > 0 {
		fmt.Fprintln(os.Stderr, "cluster: -database (or SPROCKET_TEST_DATABASE_URL) is required for the PostgreSQL runs")
		os.Exit(2)
	}
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cluster:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "cluster:", err)
			os.Exit(1)
		}
	}
	err := run(context.Background(), c)
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	fmt.Printf("sprocket cluster benchmark: GOMAXPROCS=%d (NumCPU %d), %s/%s; %d clients, ack phase %v, %d req/s for %v, %d complete runs\n\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, c.clients, c.ackFor, c.rate, c.rateFor, c.runs)
	var results []result
	if c.sqlite {
		r, err := runConfig(ctx, c, "SQLite, 1 node", "", 1)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	for _, n := range c.nodes {
		r, err := runConfig(ctx, c, fmt.Sprintf("PostgreSQL, %d node(s)", n), c.database, n)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store\tacks/s\tack p50\tack p99\tp50 @rate\tp99 @rate\tachieved req/s\tcomplete runs/s\terrors\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%.0f\t%.0f (%d/%d)\t%d\t\n", r.name, r.acks, ms(r.ackP50), ms(r.ackP99),
			ms(r.rateP50), ms(r.rateP99), r.rateAchieved, r.runsPerSec, r.runsDone, r.runsWanted, r.errs)
	}
	return tw.Flush()
}

// cluster is n running services sharing one store.
type cluster struct {
	bases  []string
	token  string
	client *http.Client
	stop   func()
}

func (cl *cluster) node(i int) string { return cl.bases[i%len(cl.bases)] }

func startCluster(ctx context.Context, c config, dbURL string, n int) (*cluster, error) {
	const token = "bench-token"
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cl := &cluster{token: token, client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2048, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}}
	// Nodes sharing a database seal credentials under one key.
	var secretKey string
	if dbURL != "" {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		secretKey = hex.EncodeToString(key)
	}
	var stops []func()
	cl.stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		cl.client.CloseIdleConnections()
	}
	for range n {
		dir, err := os.MkdirTemp("", "sprocket-cluster-")
		if err != nil {
			cl.stop()
			return nil, fmt.Errorf("temp dir: %w", err)
		}
		stops = append(stops, func() { _ = os.RemoveAll(dir) })
		svc, err := server.Open(ctx, server.Config{DataDir: dir, APIToken: token, Logger: log, DisableScheduler: true,
			DatabaseURL: dbURL, SecretKey: secretKey, DatabaseMaxConns: c.maxConns, NewPipeline: server.StandardPipeline(server.PipelineOptions{Network: netpolicy.New(netip.MustParsePrefix("127.0.0.0/8"))})})
		if err != nil {
			cl.stop()
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			_ = svc.Close()
			cl.stop()
			return nil, fmt.Errorf("listen: %w", err)
		}
		sctx, cancel := context.WithCancel(ctx)
		served := make(chan struct{})
		go func() { _ = svc.Serve(sctx, ln); close(served) }()
		stops = append(stops, func() { cancel(); <-served; _ = svc.Close() })
		cl.bases = append(cl.bases, "http://"+ln.Addr().String())
	}
	return cl, nil
}

// freshSchema creates a schema for one configuration and returns the URL
// selecting it and a function dropping it.
func freshSchema(ctx context.Context, url string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	schema := "bench_" + strings.ReplaceAll(store.NewID()[:13], "-", "")
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema, drop, nil
}

func runConfig(ctx context.Context, c config, name, dbURL string, n int) (result, error) {
	r := result{name: name}
	if dbURL != "" {
		u, drop, err := freshSchema(ctx, dbURL)
		if err != nil {
			return r, err
		}
		defer drop()
		dbURL = u
	}
	cl, err := startCluster(ctx, c, dbURL, n)
	if err != nil {
		return r, err
	}
	defer cl.stop()
	fmt.Printf("== %s\n", name)

	// 1. acks, closed loop.
	path, err := cl.webhook("user/bench/ack")
	if err != nil {
		return r, err
	}
	body := []byte(`{"id": 1234567890, "email": "bench@example.com", "total_price": "19.99"}`)
	for i := range 100 { // warm up
		if _, err := cl.post(cl.node(i)+path, body); err != nil {
			return r, fmt.Errorf("warm-up: %w", err)
		}
	}
	lat, elapsed, errs := cl.closedLoop(path, c.clients, c.ackFor, 0, func(i int64, b []byte) []byte { return body })
	r.acks = float64(len(lat)) / elapsed.Seconds()
	r.ackP50, r.ackP99 = percentile(lat, 0.5), percentile(lat, 0.99)
	r.errs += errs
	fmt.Printf("   acks: %d in %v: %.0f/s, p50 %s, p99 %s, %d errors\n", len(lat), elapsed.Round(time.Millisecond), r.acks, ms(r.ackP50), ms(r.ackP99), errs)
	if d, err := cl.waitDrained(2 * time.Minute); err != nil {
		return r, err
	} else {
		fmt.Printf("   event runs drained %v after the load\n", d.Round(time.Millisecond))
	}

	// 2. latency at a fixed rate, open loop, measured from each request's
	// scheduled send time.
	path, err = cl.webhook("user/bench/rate")
	if err != nil {
		return r, err
	}
	total := int(c.rateFor.Seconds() * float64(c.rate))
	rl := make([]time.Duration, total)
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	var rerrs atomic.Int64
	interval := time.Second / time.Duration(c.rate)
	start := time.Now()
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := cl.post(cl.node(i)+path, body); err != nil {
				rerrs.Add(1)
				rl[i] = -1
				return
			}
			rl[i] = time.Since(at)
		})
	}
	wg.Wait()
	relapsed := time.Since(start)
	ok := slices.DeleteFunc(rl, func(d time.Duration) bool { return d < 0 })
	slices.Sort(ok)
	r.rateP50, r.rateP99, r.rateAchieved = percentile(ok, 0.5), percentile(ok, 0.99), float64(total)/relapsed.Seconds()
	r.errs += rerrs.Load()
	fmt.Printf("   %d req/s offered, %.0f achieved: p50 %s, p99 %s, %d errors\n", c.rate, r.rateAchieved, ms(r.rateP50), ms(r.rateP99), rerrs.Load())
	if _, err := cl.waitDrained(2 * time.Minute); err != nil {
		return r, err
	}

	// 3. complete runs.
	var hits atomic.Int64
	target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 10 * time.Second}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, fmt.Errorf("listen: %w", err)
	}
	go func() { _ = target.Serve(tl) }()
	defer target.Close()
	doc := task.New("Bench forward orders")
	doc.Script = `{% action "http" %}{"method": "post", "url": "http://` + tl.Addr().String() + `/in", "body": {"order": {{ event.data.id | json }}}, "__perform_event": false}{% endaction %}`
	doc.Subscriptions = []string{"user/bench/run"}
	tmpl := "user/bench/run"
	doc.SubscriptionsTemplate = &tmpl
	raw, err := doc.MarshalJSON()
	if err != nil {
		return r, fmt.Errorf("task: %w", err)
	}
	var created struct{ ID string }
	if err := cl.api("POST", "/v1/tasks", json.RawMessage(raw), &created); err != nil {
		return r, err
	}
	if err := cl.api("POST", "/v1/tasks/"+created.ID+"/enable", nil, nil); err != nil {
		return r, err
	}
	path, err = cl.webhook("user/bench/run")
	if err != nil {
		return r, err
	}
	start = time.Now()
	lat, _, errs = cl.closedLoop(path, c.clients, 0, int64(c.runs), func(i int64, b []byte) []byte {
		return fmt.Appendf(b[:0], `{"id": %d}`, i)
	})
	want := int64(len(lat))
	deadline := time.Now().Add(c.runsTimeout)
	for time.Now().Before(deadline) {
		if hits.Load() >= want {
			if d, err := cl.waitDrained(time.Until(deadline)); err == nil && d < time.Until(deadline) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	relapsed = time.Since(start)
	r.runsDone, r.runsWanted = min(hits.Load(), want), want
	r.runsPerSec = float64(r.runsDone) / relapsed.Seconds()
	r.errs += errs
	fmt.Printf("   complete runs: %d/%d http actions performed in %v: %.0f/s, %d webhook errors\n",
		r.runsDone, want, relapsed.Round(time.Millisecond), r.runsPerSec, errs)
	return r, nil
}

func (cl *cluster) api(method, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	req, err := http.NewRequest(method, cl.bases[0]+path, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+cl.token)
	resp, err := cl.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
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

func (cl *cluster) webhook(topic string) (string, error) {
	var wh struct{ URL string }
	if err := cl.api("POST", "/v1/webhooks", map[string]any{"name": "bench " + topic, "topic": topic}, &wh); err != nil {
		return "", err
	}
	return wh.URL, nil
}

func (cl *cluster) post(url string, body []byte) (time.Duration, error) {
	start := time.Now()
	resp, err := cl.client.Post(url, "application/json", bytes.NewReader(body))
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

// closedLoop runs clients posting to path on the nodes in turn, for d or
// until count requests were sent (whichever is set), and returns the sorted
// latencies of the acknowledged ones, the elapsed time and the errors.
func (cl *cluster) closedLoop(path string, clients int, d time.Duration, count int64, body func(i int64, b []byte) []byte) ([]time.Duration, time.Duration, int64) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lat  []time.Duration
		errs atomic.Int64
		next atomic.Int64
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			var local []time.Duration
			var b []byte
			url := cl.node(w) + path
			for {
				i := next.Add(1)
				if (count > 0 && i > count) || (d > 0 && time.Now().After(deadline)) {
					break
				}
				b = body(i, b)
				dur, err := cl.post(url, b)
				if err != nil {
					errs.Add(1)
					continue
				}
				local = append(local, dur)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return lat, elapsed, errs.Load()
}

// waitDrained waits until no run is due or running, via the shop status.
func (cl *cluster) waitDrained(limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for time.Since(start) < limit {
		var st struct {
			Waiting, Running float64
		}
		if err := cl.api("GET", "/v1/shop/status", nil, &st); err != nil {
			return 0, err
		}
		if st.Waiting == 0 && st.Running == 0 {
			return time.Since(start), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("queue not drained after %v", limit)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
