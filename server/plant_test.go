package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	actionhttp "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

// plantEncodings returns the forms a planted value is searched for in:
// raw, base64 (standard and URL alphabets, padded or not), hex, URL query
// and path escaping, JSON string escaping (Go escapes & < > as \u00XX)
// and HTML escaping. The search is case-insensitive, which covers the
// upper- and lower-cased forms.
func plantEncodings(v string) map[string]string {
	b := []byte(v)
	js, _ := json.Marshal(v)
	return map[string]string{
		"json-escaped": string(js[1 : len(js)-1]), "html-escaped": html.EscapeString(v),
		"raw": v, "base64": base64.StdEncoding.EncodeToString(b), "base64-raw": base64.RawStdEncoding.EncodeToString(b),
		"base64url": base64.URLEncoding.EncodeToString(b), "base64url-raw": base64.RawURLEncoding.EncodeToString(b),
		"hex": hex.EncodeToString(b), "query-escaped": url.QueryEscape(v), "path-escaped": url.PathEscape(v),
	}
}

// TestPlantedCredentialsNotAtRest plants unique credentials through the
// API (a task secret, a webhook signing secret, an app integration secret,
// an OAuth client secret, a Shopify access token), exercises what touches
// them (a task whose http action sends the secret to a loopback sink that
// echoes it back raw, base64, hex, URL-encoded and upper-cased; signed and
// badly signed webhook deliveries; listings; run records; debug logs),
// then searches the database, its WAL and shared-memory files (copied
// while the server runs and again after it stopped), the log and every
// API answer collected for each value in each encoding: nothing may match.
func TestPlantedCredentialsNotAtRest(t *testing.T) {
	planted := map[string]string{
		"task secret":    "Pl@nt/Task+Secret=7Qz9&xK2mVb",
		"webhook secret": "Pl@nt/Hook+Secret=4Rt8&pW1nLc",
		"app secret":     "Pl@nt/App+Secret=9Yh2&dF6sQa",
		"oauth secret":   "Pl@nt/OAuth+Secret=3Jk5&mN8vXe",
		"shop token":     "shpat_pl4nt3dT0k3n9a8b7c6d5e4f3",
	}
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		b := []byte(v)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", v)
		fmt.Fprintf(w, `{"raw":%q,"b64":%q,"hex":%q,"url":%q,"upper":%q}`,
			v, base64.StdEncoding.EncodeToString(b), hex.EncodeToString(b), url.QueryEscape(v), strings.ToUpper(v))
	}))
	defer sink.Close()
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":"[API] Invalid API key or access token"}`)
	}))
	defer shop.Close()

	dir := t.TempDir()
	logs := &syncBuffer{}
	svc, err := Open(context.Background(), Config{
		DataDir: dir, APIToken: testToken, DisableScheduler: true,
		Logger:      slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		NewPipeline: StandardPipeline(PipelineOptions{Network: loopbackNetwork}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, ln) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	}
	defer stop()
	c := &client{t: t, base: "http://" + ln.Addr().String(), token: testToken}

	// Every API answer is kept for the search.
	var answers bytes.Buffer
	get := func(path string) []byte {
		t.Helper()
		req, _ := http.NewRequest("GET", c.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
		}
		answers.Write(raw)
		answers.WriteByte('\n')
		return raw
	}
	keep := func(m map[string]any) map[string]any {
		fmt.Fprintf(&answers, "%v\n", m)
		return m
	}

	keep(c.want(200, "PUT", "/v1/secrets/plant_key", map[string]any{"secret": map[string]any{"value": planted["task secret"]}}))
	hook := keep(c.want(201, "POST", "/v1/webhooks", map[string]any{"name": "Planted", "topic": "user/plant/sent", "secret": planted["webhook secret"], "signature_header": "X-Sig"}))
	hookID := hook["id"].(string)
	keep(c.want(200, "PUT", "/v1/webhooks/"+hookID, map[string]any{"name": "Planted again"}))
	keep(c.want(200, "PUT", "/v1/integrations/judgeme", map[string]any{"secret": planted["app secret"]}))
	keep(c.want(200, "PUT", "/v1/oauth/providers/acme", map[string]any{"authorize_url": "https://acme.example/auth", "token_url": "https://acme.example/token", "client_id": "cid", "client_secret": planted["oauth secret"]}))
	keep(c.want(200, "PUT", "/v1/shop/connection", map[string]any{"shop": "plant.myshopify.com", "access_token": planted["shop token"], "base_url": shop.URL, "verify": false}))

	// A signed delivery is accepted, a badly signed one refused.
	body := []byte(`{"order":"plant-1"}`)
	mac := hmac.New(sha256.New, []byte(planted["webhook secret"]))
	mac.Write(body)
	for _, tc := range []struct {
		sig  string
		want int
	}{{hex.EncodeToString(mac.Sum(nil)), 204}, {"00ff", 401}} {
		req, _ := http.NewRequest("POST", c.base+hook["url"].(string), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Sig", tc.sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != tc.want/100 {
			t.Fatalf("webhook with signature %q: %d, want %d", tc.sig, resp.StatusCode, tc.want)
		}
	}

	// A task sends the secret to the sink, which echoes it in five forms;
	// the run is recorded, logged at debug level and listed.
	script := `{% log ref: secrets.plant_key, sig: "x" | hmac_sha256: secrets.plant_key %}
{% action "http" %}{"method": "post", "url": "` + sink.URL + `/echo", "headers": {"Authorization": {{ "Bearer " | append: secrets.plant_key | json }}}, "body": {"k": {{ secrets.plant_key | json }}}}{% endaction %}`
	taskID, eventID, taskRunID, actionRunIDs := triggerTask(t, c, "Planted", script)
	if len(actionRunIDs) != 1 {
		t.Fatalf("%d action runs", len(actionRunIDs))
	}
	ar := waitRun(t, c, "action_runs", actionRunIDs[0])
	if ar["status"] != "success" {
		t.Fatalf("http action %v", ar)
	}
	eventually(t, 20*time.Second, "the webhook event", func() bool {
		return strings.Contains(string(get("/v1/events?topic=user/plant/sent")), "plant-1")
	})
	for _, p := range []string{
		"/v1/secrets", "/v1/webhooks", "/v1/webhooks/" + hookID, "/v1/globals", "/v1/integrations", "/v1/oauth/providers",
		"/v1/shop/connection", "/v1/tasks", "/v1/tasks/" + taskID, "/v1/events", "/v1/events/" + eventID,
		"/v1/event_runs/" + eventID, "/v1/task_runs?event_id=" + eventID, "/v1/task_runs/" + taskRunID,
		"/v1/action_runs?parent_run_id=" + taskRunID, "/v1/action_runs/" + actionRunIDs[0], "/v1/shop/status",
	} {
		get(p)
	}
	if n := strings.Count(answers.String(), actionhttp.RedactedValue); n < 5 {
		t.Errorf("the run record shows %d redaction markers, want the sink's 5 echoes at least", n)
	}

	// The files as they are while the server runs (WAL not yet folded in).
	live := map[string][]byte{}
	for _, name := range []string{sqlite.FileName, sqlite.FileName + "-wal", sqlite.FileName + "-shm"} {
		if raw, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			live["live "+name] = raw
		}
	}
	stop()
	hay := map[string][]byte{"log": []byte(logs.String()), "API answers": answers.Bytes()}
	for k, v := range live {
		hay[k] = v
	}
	for _, name := range []string{sqlite.FileName, sqlite.FileName + "-wal", sqlite.FileName + "-shm"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Logf("stopped %s: absent (%v)", name, err)
			continue
		}
		hay["stopped "+name] = raw
	}
	names := make([]string, 0, len(hay))
	for n := range hay {
		names = append(names, n)
	}
	sort.Strings(names)
	total := 0
	for _, n := range names {
		t.Logf("searched %-22s %9d bytes", n, len(hay[n]))
		total += len(hay[n])
		low := bytes.ToLower(hay[n])
		for what, v := range planted {
			for enc, form := range plantEncodings(v) {
				if k := bytes.Count(low, bytes.ToLower([]byte(form))); k > 0 {
					t.Errorf("%s holds the %s (%s) %d times", n, what, enc, k)
				}
			}
		}
	}
	t.Logf("searched %d bytes in all for %d values in %d encodings each", total, len(planted), len(plantEncodings("x")))
}
