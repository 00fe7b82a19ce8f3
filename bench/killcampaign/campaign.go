package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// config is one campaign.
type config struct {
	bin              string
	rate             int
	duration         time.Duration
	kills            int
	sinkMin, sinkMax time.Duration
	lease            time.Duration
	workers          int
	senders          int
	drainTimeout     time.Duration
	keep             bool
}

const (
	topic = "user/killcampaign/hit"
	token = "killcampaign-admin-token"
	// maxBody bounds what the sink reads of an action's request.
	maxBody = 1 << 16
)

// report holds what the campaign counted.
type report struct {
	cfg                 config
	offered             int64 // webhooks sent
	acked               int64 // answered 2xx
	refused             int64 // errors and non-2xx (mostly while the service was down)
	refusedWhy          map[string]int64
	offeredFor          time.Duration // from the first to the last webhook sent
	loadFor             time.Duration // until the last answer
	kills               int
	inflightAtKill      []int64 // actions the sink was answering at each kill
	downtime            []time.Duration
	drainFor            time.Duration
	events              int   // events of the topic
	eventsUnacked       int   // events whose webhook got no 2xx (committed, ack lost)
	lost                int   // acked webhooks without an event
	doubledEvents       int   // webhook numbers with more than one event
	taskRuns            int   // task runs
	actionRuns          int   // action runs
	badTaskRuns         int   // events without exactly one task run
	badActionRuns       int   // events without exactly one action run
	unsuccessful        int   // task or action runs not successful
	sends               int64 // requests the sink received
	undelivered         int   // action runs the sink never saw
	duplicates          int   // action runs the sink saw more than once
	extraSends          int64 // sends beyond the first
	explained           int   // duplicates whose record shows an interrupted attempt
	keyMismatch         int   // action runs sent with differing or missing Idempotency-Keys
	reperformedNoDouble int   // runs with an interrupted attempt the sink saw only once
	interruptedAttempts int   // interrupted attempts over all action runs read
	strays              int64 // sink requests that name no webhook
}

// problems lists the broken checks.
func (r *report) problems() []string {
	var p []string
	add := func(bad bool, format string, args ...any) {
		if bad {
			p = append(p, fmt.Sprintf(format, args...))
		}
	}
	add(r.kills < r.cfg.kills, "only %d of %d kills happened", r.kills, r.cfg.kills)
	add(r.acked == 0, "no webhook was acknowledged")
	add(r.lost > 0, "%d acknowledged webhooks have no event (lost)", r.lost)
	add(r.doubledEvents > 0, "%d webhooks have more than one event", r.doubledEvents)
	add(r.badTaskRuns > 0, "%d events without exactly one task run", r.badTaskRuns)
	add(r.badActionRuns > 0, "%d events without exactly one action run", r.badActionRuns)
	add(r.unsuccessful > 0, "%d task or action runs did not succeed", r.unsuccessful)
	add(r.undelivered > 0, "%d actions never reached the sink", r.undelivered)
	add(r.explained < r.duplicates, "%d of %d duplicated actions show no interrupted attempt (unexplained)", r.duplicates-r.explained, r.duplicates)
	add(r.keyMismatch > 0, "%d actions were sent with differing or missing Idempotency-Keys", r.keyMismatch)
	add(r.strays > 0, "%d sink requests named no webhook", r.strays)
	return p
}

func (r *report) print(w io.Writer) {
	secs := r.loadFor.Seconds()
	fmt.Fprintf(w, "load:        %d webhooks offered at %d/s for %v (achieved %.0f/s over %v): %d acked (%.0f acks/s until the last answer), %d refused or failed %v\n",
		r.offered, r.cfg.rate, r.cfg.duration, float64(r.offered)/r.offeredFor.Seconds(), r.offeredFor.Round(time.Millisecond),
		r.acked, float64(r.acked)/secs, r.refused, r.refusedWhy)
	fmt.Fprintf(w, "kills:       %d (kill -9 + restart); actions in flight at the sink at each kill %v; downtime %v\n", r.kills, r.inflightAtKill, r.downtime)
	fmt.Fprintf(w, "drain:       all runs finished %v after the load\n", r.drainFor.Round(time.Millisecond))
	fmt.Fprintf(w, "events:      %d (%d committed without an ack), lost %d, doubled %d\n", r.events, r.eventsUnacked, r.lost, r.doubledEvents)
	fmt.Fprintf(w, "runs:        %d task runs, %d action runs; events without exactly one task run %d, action run %d; unsuccessful %d\n",
		r.taskRuns, r.actionRuns, r.badTaskRuns, r.badActionRuns, r.unsuccessful)
	fmt.Fprintf(w, "sends:       %d requests at the sink, undelivered actions %d, Idempotency-Key mismatches %d\n", r.sends, r.undelivered, r.keyMismatch)
	fmt.Fprintf(w, "duplicates:  %d actions sent more than once (%d extra sends), explained by an interrupted attempt %d, unexplained %d\n",
		r.duplicates, r.extraSends, r.explained, r.duplicates-r.explained)
	fmt.Fprintf(w, "reperformed: %d interrupted attempts in the histories read; %d reperformed actions reached the sink only once\n",
		r.interruptedAttempts, r.reperformedNoDouble)
}

// sink is the slow loopback server the actions post to.
type sink struct {
	min, max time.Duration
	inflight atomic.Int64
	total    atomic.Int64
	strays   atomic.Int64
	mu       sync.Mutex
	sends    map[int64]int
	keys     map[int64]map[string]bool
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	var body struct {
		N *int64 `json:"n"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&body); err != nil || body.N == nil {
		s.strays.Add(1)
		http.Error(w, "want {\"n\": number}", http.StatusBadRequest)
		return
	}
	s.total.Add(1)
	s.mu.Lock()
	s.sends[*body.N]++
	if s.keys[*body.N] == nil {
		s.keys[*body.N] = map[string]bool{}
	}
	s.keys[*body.N][r.Header.Get("Idempotency-Key")] = true
	s.mu.Unlock()
	d := s.min
	if s.max > s.min {
		d += rand.N(s.max - s.min)
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

// service is one `sprocket serve` process.
type service struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startService starts the binary and waits until it listens.
func startService(ctx context.Context, c config, dir, addr string, logf *os.File) (*service, error) {
	cmd := exec.Command(c.bin, "serve", "--addr", addr, "--data", dir, "--log-level", "warn",
		"--rate-limits=false", "--webhook-rate-per-ip", "0", "--allow-network", "127.0.0.0/8",
		"--run-lease", c.lease.String(), "--workers", fmt.Sprint(c.workers), "--no-ui")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPROCKET_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "SPROCKET_API_TOKEN="+token)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start service: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start service: %w", err)
	}
	s := &service{cmd: cmd, done: make(chan struct{})}
	up := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "sprocket: listening on ") {
				select {
				case up <- struct{}{}:
				default:
				}
			}
		}
	}()
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	select {
	case <-up:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("service exited at start: %v (see the service log)", s.err)
	case <-time.After(60 * time.Second):
		s.kill()
		return nil, errors.New("service did not start within 60s")
	case <-ctx.Done():
		s.kill()
		return nil, ctx.Err()
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *service) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop sends SIGTERM and waits (SIGKILL after 30 s).
func (s *service) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.kill()
	}
}

// api is a client of the service's API.
type api struct {
	base string
	hc   *http.Client
}

func (a *api) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %.300s", method, path, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// list reads every page of a listing; key names the array in the answer.
func list[T any](ctx context.Context, a *api, path, key string) ([]T, error) {
	var all []T
	cursor := ""
	for {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		p := path + sep + "limit=1000"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var page map[string]json.RawMessage
		if err := a.do(ctx, "GET", p, nil, &page); err != nil {
			return nil, err
		}
		var items []T
		if err := json.Unmarshal(page[key], &items); err != nil {
			return nil, fmt.Errorf("GET %s: %s: %w", p, key, err)
		}
		all = append(all, items...)
		var next string
		if raw, ok := page["next_cursor"]; ok {
			_ = json.Unmarshal(raw, &next)
		}
		if next == "" || len(items) == 0 {
			return all, nil
		}
		cursor = next
	}
}

// freeAddr picks a loopback port the service can keep across restarts.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// build compiles cmd/sprocket into dir.
func build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "sprocket")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/sprocketrun/sprocket/cmd/sprocket")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// campaign runs the whole campaign; progress goes to w.
func campaign(ctx context.Context, c config, w io.Writer) (*report, error) {
	if c.rate < 1 || c.duration <= 0 || c.kills < 0 || c.senders < 1 || c.workers < 1 || c.lease <= 0 || c.sinkMin < 0 || c.sinkMax < c.sinkMin {
		return nil, fmt.Errorf("bad configuration %+v", c)
	}
	tmp, err := os.MkdirTemp("", "killcampaign-")
	if err != nil {
		return nil, err
	}
	if c.keep {
		fmt.Fprintln(w, "keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if c.bin == "" {
		fmt.Fprintln(w, "building sprocket…")
		if c.bin, err = build(ctx, tmp); err != nil {
			return nil, err
		}
	}
	logf, err := os.Create(filepath.Join(tmp, "serve.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	dir := filepath.Join(tmp, "data")

	sk := &sink{min: c.sinkMin, max: c.sinkMax, sends: map[int64]int{}, keys: map[int64]map[string]bool{}}
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sinkSrv := &http.Server{Handler: sk, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = sinkSrv.Serve(sl) }()
	defer sinkSrv.Close()
	sinkURL := "http://" + sl.Addr().String() + "/hit"

	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	svc, err := startService(ctx, c, dir, addr, logf)
	if err != nil {
		return nil, err
	}
	defer func() { svc.kill() }()
	a := &api{base: "http://" + addr, hc: &http.Client{Timeout: 60 * time.Second}}

	script := `{% action "http" %}{"method": "post", "url": {{ "` + sinkURL + `" | json }}, "body": {"n": {{ event.data.n | json }}}}{% endaction %}`
	var task struct{ ID string }
	if err := a.do(ctx, "POST", "/v1/tasks", map[string]any{"name": "Kill campaign", "script": script,
		"subscriptions": []string{topic}, "options": map[string]any{}}, &task); err != nil {
		return nil, err
	}
	if err := a.do(ctx, "POST", "/v1/tasks/"+task.ID+"/enable", nil, nil); err != nil {
		return nil, fmt.Errorf("enable task: %w", err)
	}
	var wh struct{ URL string }
	if err := a.do(ctx, "POST", "/v1/webhooks", map[string]any{"name": "Kill campaign", "topic": topic}, &wh); err != nil {
		return nil, err
	}
	hookURL := a.base + wh.URL

	rep := &report{cfg: c}
	maxN := int64(float64(c.rate)*c.duration.Seconds()) + int64(c.rate) + 1
	acked := make([]atomic.Bool, maxN)
	sender := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c.senders, MaxIdleConns: c.senders}}
	jobs := make(chan int64, 4*c.senders)
	var (
		wg               sync.WaitGroup
		nAcked, nRefused atomic.Int64
		whyMu            sync.Mutex
		why              = map[string]int64{}
	)
	refuse := func(reason string) {
		nRefused.Add(1)
		whyMu.Lock()
		why[reason]++
		whyMu.Unlock()
	}
	for range c.senders {
		wg.Go(func() {
			for n := range jobs {
				resp, err := sender.Post(hookURL, "application/json", strings.NewReader(fmt.Sprintf(`{"n": %d}`, n)))
				if err != nil {
					refuse(errKind(err))
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					refuse(resp.Status)
					continue
				}
				acked[n].Store(true)
				nAcked.Add(1)
			}
		})
	}

	// The killer: kill -9 at evenly spread moments of the load, restart
	// at once on the same directory and address.
	start := time.Now()
	killerDone := make(chan error, 1)
	var svcMu sync.Mutex
	go func() {
		for k := 1; k <= c.kills; k++ {
			at := start.Add(c.duration * time.Duration(k) / time.Duration(c.kills+1))
			select {
			case <-time.After(time.Until(at)):
			case <-ctx.Done():
				killerDone <- ctx.Err()
				return
			}
			svcMu.Lock()
			inflight := sk.inflight.Load()
			down := time.Now()
			svc.kill()
			next, err := startService(ctx, c, dir, addr, logf)
			if err != nil {
				svcMu.Unlock()
				killerDone <- fmt.Errorf("restart after kill %d: %w", k, err)
				return
			}
			svc = next
			rep.kills++
			rep.inflightAtKill = append(rep.inflightAtKill, inflight)
			rep.downtime = append(rep.downtime, time.Since(down).Round(time.Millisecond))
			svcMu.Unlock()
			fmt.Fprintf(w, "kill %d at %v: %d actions in flight at the sink, back after %v\n", k, down.Sub(start).Round(time.Millisecond), inflight, rep.downtime[len(rep.downtime)-1])
		}
		killerDone <- nil
	}()

	// Open-loop load at the offered rate.
	var offered int64
	interval := time.Second / time.Duration(c.rate)
loop:
	for offered < maxN {
		due := start.Add(time.Duration(offered) * interval)
		if !due.Before(start.Add(c.duration)) {
			break
		}
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				break loop
			}
		}
		jobs <- offered
		offered++
	}
	rep.offeredFor = time.Since(start)
	close(jobs)
	wg.Wait()
	rep.loadFor = time.Since(start)
	if err := <-killerDone; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.offered, rep.acked, rep.refused, rep.refusedWhy = offered, nAcked.Load(), nRefused.Load(), why
	fmt.Fprintf(w, "load done: %d offered, %d acked in %v; waiting for the runs…\n", rep.offered, rep.acked, rep.loadFor.Round(time.Millisecond))

	// Drain: every run finished (nothing waiting, running or scheduled),
	// seen twice in a row.
	drainStart := time.Now()
	calm := 0
	for calm < 2 {
		if time.Since(drainStart) > c.drainTimeout {
			return nil, fmt.Errorf("runs still unfinished after %v", c.drainTimeout)
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		var st struct{ Waiting, Running, Scheduled int }
		if err := a.do(ctx, "GET", "/v1/shop/status", nil, &st); err != nil {
			return nil, err
		}
		if st.Waiting+st.Running+st.Scheduled == 0 {
			calm++
		} else {
			calm = 0
		}
	}
	rep.drainFor = time.Since(drainStart)
	fmt.Fprintf(w, "runs finished after %v; checking…\n", rep.drainFor.Round(time.Millisecond))
	if err := check(ctx, a, rep, acked, sk); err != nil {
		return nil, err
	}
	svc.stop()
	return rep, nil
}

type eventJSON struct {
	ID   string
	Data struct{ N *int64 }
}

type runJSON struct {
	ID       string `json:"id"`
	EventID  string `json:"event_id"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
}

type attemptJSON struct {
	Attempt int64  `json:"attempt"`
	Outcome string `json:"outcome"`
}

// check reads events and runs back through the API and fills the report.
func check(ctx context.Context, a *api, rep *report, acked []atomic.Bool, sk *sink) error {
	events, err := list[eventJSON](ctx, a, "/v1/events?topic="+url.QueryEscape(topic), "events")
	if err != nil {
		return err
	}
	taskRuns, err := list[runJSON](ctx, a, "/v1/task_runs", "task_runs")
	if err != nil {
		return err
	}
	actionRuns, err := list[runJSON](ctx, a, "/v1/action_runs", "action_runs")
	if err != nil {
		return err
	}
	rep.events, rep.taskRuns, rep.actionRuns = len(events), len(taskRuns), len(actionRuns)
	perN := map[int64]int{}
	nOf := map[string]int64{}
	for _, e := range events {
		if e.Data.N == nil {
			return fmt.Errorf("event %s has no data.n", e.ID)
		}
		n := *e.Data.N
		perN[n]++
		nOf[e.ID] = n
		if n < 0 || n >= int64(len(acked)) || !acked[n].Load() {
			rep.eventsUnacked++
		}
	}
	for n := range acked {
		if acked[n].Load() && perN[int64(n)] == 0 {
			rep.lost++
		}
	}
	for _, k := range perN {
		if k > 1 {
			rep.doubledEvents++
		}
	}
	tasksOf, actsOf := map[string]int{}, map[string][]runJSON{}
	for _, r := range taskRuns {
		tasksOf[r.EventID]++
		if r.Status != "success" {
			rep.unsuccessful++
		}
	}
	for _, r := range actionRuns {
		actsOf[r.EventID] = append(actsOf[r.EventID], r)
		if r.Status != "success" {
			rep.unsuccessful++
		}
	}
	sk.mu.Lock()
	sends := make(map[int64]int, len(sk.sends))
	keys := make(map[int64]int, len(sk.keys))
	for n, k := range sk.sends {
		sends[n] = k
	}
	for n, ks := range sk.keys {
		if ks[""] {
			keys[n] = 0 // a send without a key
		} else {
			keys[n] = len(ks)
		}
	}
	sk.mu.Unlock()
	rep.sends, rep.strays = sk.total.Load(), sk.strays.Load()
	for _, e := range events {
		if tasksOf[e.ID] != 1 {
			rep.badTaskRuns++
		}
		acts := actsOf[e.ID]
		if len(acts) != 1 {
			rep.badActionRuns++
			continue
		}
		n := nOf[e.ID]
		k := sends[n]
		if k == 0 {
			rep.undelivered++
			continue
		}
		if keys[n] != 1 {
			rep.keyMismatch++
		}
		if k > 1 {
			rep.duplicates++
			rep.extraSends += int64(k - 1)
		}
	}
	// Read the record of every action run that may have been performed
	// more than once: the duplicates, and (to count re-performances the
	// sink saw once) every run attempted more than once.
	for _, e := range events {
		acts := actsOf[e.ID]
		if len(acts) != 1 {
			continue
		}
		var one struct {
			Attempts    int           `json:"attempts"`
			Reperformed *bool         `json:"reperformed_after_interruption"`
			History     []attemptJSON `json:"attempts_history"`
		}
		n := nOf[e.ID]
		if sends[n] <= 1 && acts[0].Attempts <= 1 {
			continue
		}
		if err := a.do(ctx, "GET", "/v1/action_runs/"+acts[0].ID, nil, &one); err != nil {
			return err
		}
		interrupted := 0
		for _, h := range one.History {
			if h.Outcome == "interrupted" {
				interrupted++
			}
		}
		rep.interruptedAttempts += interrupted
		switch {
		case sends[n] > 1 && interrupted > 0 && one.Reperformed != nil && *one.Reperformed:
			rep.explained++
		case sends[n] == 1 && interrupted > 0:
			rep.reperformedNoDouble++
		}
	}
	return nil
}

// errKind names a failed webhook request's error briefly.
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other error"
}
