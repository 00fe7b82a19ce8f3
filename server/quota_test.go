package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/ingress/shopifyhook"
	"github.com/sprocketrun/sprocket/store"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "1024", want: 1024},
		{in: "10GiB", want: 10 << 30},
		{in: "10gib", want: 10 << 30},
		{in: "512 MiB", want: 512 << 20},
		{in: "2GB", want: 2_000_000_000},
		{in: "1.5TiB", want: 3 << 39},
		{in: "64K", want: 64 << 10},
		{in: "100B", want: 100},
		{in: "", bad: true},
		{in: "GiB", bad: true},
		{in: "-1GiB", bad: true},
		{in: "10 parsecs", bad: true},
		{in: "99999999999TiB", bad: true},
	}
	for _, tc := range tests {
		got, err := ParseByteSize(tc.in)
		if tc.bad != (err != nil) || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
	if n, err := DefaultStoredBytes(t.TempDir() + "/not/yet/made"); err != nil || n <= 0 {
		t.Fatalf("DefaultStoredBytes of a directory to be made = %d, %v", n, err)
	}
}

func TestStoredBytesQuotaSQLite(t *testing.T) { testStoredBytesQuota(t, "") }

func TestStoredBytesQuotaPostgres(t *testing.T) { testStoredBytesQuota(t, testDatabaseURL(t)) }

// testStoredBytesQuota fills a store to a tiny quota through a webhook:
// then every ingest path answers 429 with Retry-After and an error naming
// the quota, nothing more is stored, /readyz reports the quota reached,
// and the runs queued before go on to finish. On SQLite, pruning the
// finished events frees the space and ingest resumes. (PostgreSQL keeps
// its files' size after deletes, so there the quota clears only when a
// VACUUM FULL gives the space back; see store/postgres StoredBytes.)
func testStoredBytesQuota(t *testing.T, dbURL string) {
	cfg := Config{
		DataDir: t.TempDir(), APIToken: testToken, DisableScheduler: true, Logger: quietLogger(),
		NewPipeline: StandardPipeline(PipelineOptions{Network: loopbackNetwork}), DatabaseURL: dbURL,
		SecretKey:      strings.Repeat("ab", 32),
		MaxStoredBytes: 1 << 40, QuotaEvery: time.Nanosecond, // lowered below once the store's size is known
		Retention: time.Millisecond, PruneEvery: time.Hour,
	}
	svc, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := serveInProcess(t, svc, nil)
	ctx := context.Background()
	empty, err := svc.Store().StoredBytes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const margin = 512 << 10
	svc.quota.mu.Lock()
	svc.quota.max = empty + margin
	svc.quota.mu.Unlock()

	task := c.want(http.StatusCreated, "POST", "/v1/tasks", map[string]any{
		"name": "Quota", "script": `{% log n: event.data.n %}`, "subscriptions": []string{"user/quota/in"}, "options": map[string]any{},
	})["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+task+"/enable", nil)
	hook := "/webhooks/" + c.want(http.StatusCreated, "POST", "/v1/webhooks", map[string]any{"name": "In", "topic": "user/quota/in"})["id"].(string)

	// 64 KiB of incompressible payload per request until refused.
	body := func(n int) string {
		raw := make([]byte, 48<<10)
		_, _ = rand.Read(raw)
		b, _ := json.Marshal(map[string]any{"n": n, "blob": base64.StdEncoding.EncodeToString(raw)})
		return string(b)
	}
	post := func(path, payload string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	accepted := 0
	var refused *http.Response
	var refusal []byte
	for i := range 200 {
		resp, b := post(hook, body(i))
		if resp.StatusCode == http.StatusTooManyRequests {
			refused, refusal = resp, b
			break
		}
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("webhook %d: %d %s", i, resp.StatusCode, b)
		}
		accepted++
	}
	if refused == nil {
		t.Fatalf("200 webhooks of 64 KiB accepted under a quota of %d bytes", empty+margin)
	}
	size, _ := svc.Store().StoredBytes(ctx)
	t.Logf("empty store %d bytes, quota %d; %d webhooks of 64 KiB accepted, refused at %d bytes", empty, empty+margin, accepted, size)
	if accepted < 2 || refused.Header.Get("Retry-After") != "300" || !strings.Contains(string(refusal), "stored-bytes quota") ||
		!strings.Contains(string(refusal), "--max-stored-bytes") {
		t.Fatalf("webhook refusal after %d accepted: Retry-After %q, %s", accepted, refused.Header.Get("Retry-After"), refusal)
	}

	// Every ingest path is refused, before anything is stored.
	for _, tc := range []struct {
		name, path, body string
		hdr              []string
	}{
		{"webhook", hook, body(-1), nil},
		{"POST /v1/events", "/v1/events", `{"topic":"user/quota/in","data":{"n":-2}}`, []string{"Authorization", "Bearer " + testToken}},
		{"Shopify webhook", shopifyhook.Path, `{}`, []string{"X-Shopify-Topic", "orders/create", "X-Shopify-Shop-Domain", "x.myshopify.com"}},
		{"integration delivery", "/integrations/judgeme", `{}`, nil},
	} {
		resp, b := post(tc.path, tc.body, tc.hdr...)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "quota") {
			t.Errorf("%s while the quota is reached: %d, Retry-After %q, %s", tc.name, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
	}
	if _, b := post("/v1/events", `{"topic":"user/quota/in"}`, "Authorization", "Bearer "+testToken); !strings.Contains(string(b), `"field":"max_stored_bytes"`) {
		t.Errorf("POST /v1/events refusal does not name the quota: %s", b)
	}
	if n := countEvents(t, svc, "user/quota/in"); n != accepted {
		t.Fatalf("%d events stored, want the %d accepted", n, accepted)
	}
	ready := c.want(http.StatusOK, "GET", "/readyz", nil)
	if ready["stored_bytes_quota_reached"] != true || ready["max_stored_bytes"] != float64(empty+margin) {
		t.Fatalf("/readyz while the quota is reached: %v", ready)
	}
	// Reads still work, and the runs queued before the quota finish.
	c.want(http.StatusOK, "GET", "/v1/events?limit=1", nil)
	waitRuns(t, c, "task_runs", task, accepted)
	if dbURL != "" {
		return
	}
	time.Sleep(5 * time.Millisecond) // past the 1 ms retention
	eventually(t, 20*time.Second, "every run finished", func() bool {
		st, err := svc.Store().Stats(ctx)
		n := 0
		for _, m := range []map[store.RunKind]int{st.Due, st.Running, st.Scheduled} {
			for _, v := range m {
				n += v
			}
		}
		return err == nil && n == 0
	})
	stats, err := svc.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := svc.Store().StoredBytes(ctx)
	t.Logf("prune removed %d events, %d runs: %d bytes stored", stats.Events, stats.Runs, after)
	if resp, b := post(hook, body(-3)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("webhook after pruning %d events: %d %s (store %d bytes, quota %d)", stats.Events, resp.StatusCode, b, after, empty+margin)
	}
	if ready := c.want(http.StatusOK, "GET", "/readyz", nil); ready["stored_bytes_quota_reached"] != false {
		t.Fatalf("/readyz after pruning: %v", ready)
	}
}
