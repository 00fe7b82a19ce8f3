package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/shared"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSandboxCommand(t *testing.T) {
	schemaFile := shared.For(t, "corpus", "shopify", "admin-schema", "admin_2026-01.json.gz")
	// Without --schema the command locates the schema of --api-version and
	// serves the other versions found beside it.
	t.Setenv("SPROCKET_SHOPIFY_SCHEMA_DIR", filepath.Dir(schemaFile))
	t.Setenv("SPROCKET_SHOPIFY_API_SECRET", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--token", "tok123", "--log-level", "warn"}, strings.NewReader(""), &stdout, &stderr)
	}()
	env := map[string]string{}
	deadline := time.After(20 * time.Second)
	for env["SPROCKET_SHOPIFY_BASE_URL"] == "" {
		select {
		case c := <-code:
			t.Fatalf("sandbox exited %d early: %s", c, stderr.String())
		case <-deadline:
			t.Fatalf("no environment printed; stdout %q stderr %q", stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		for _, line := range strings.Split(stdout.String(), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "SPROCKET_SHOPIFY_") {
				env[k] = v
			}
		}
	}
	want := map[string]string{"SPROCKET_SHOPIFY_SHOP": "sandbox.myshopify.com", "SPROCKET_SHOPIFY_ACCESS_TOKEN": "tok123", "SPROCKET_SHOPIFY_API_VERSION": "2026-01"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if !strings.HasPrefix(env["SPROCKET_SHOPIFY_API_SECRET"], "shpss_sandbox_") {
		t.Errorf("SPROCKET_SHOPIFY_API_SECRET = %q, want a generated shpss_sandbox_… secret", env["SPROCKET_SHOPIFY_API_SECRET"])
	}
	if !strings.Contains(stdout.String(), "2025-10") {
		t.Errorf("the 2025-10 schema beside 2026-01 is not served: %s", stdout.String())
	}
	url := env["SPROCKET_SHOPIFY_BASE_URL"] + "/admin/api/" + env["SPROCKET_SHOPIFY_API_VERSION"] + "/graphql.json"
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"query":"{ shop { myshopifyDomain } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", env["SPROCKET_SHOPIFY_ACCESS_TOKEN"])
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out struct {
		Data struct {
			Shop struct{ MyshopifyDomain string }
		}
		Extensions struct {
			Cost struct{ RequestedQueryCost int }
		}
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Data.Shop.MyshopifyDomain != "sandbox.myshopify.com" || out.Extensions.Cost.RequestedQueryCost != 1 {
		t.Fatalf("HTTP %d %s (%v)", resp.StatusCode, body, err)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d: %s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop")
	}
}

func TestSandboxCommandUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sandbox", "--help"}, 0, "usage: sprocket sandbox"},
		{[]string{"sandbox", "extra"}, 2, "usage: sprocket sandbox"},
		{[]string{"sandbox", "--schema", "/nonexistent/schema.json"}, 1, "/nonexistent/schema.json"},
		{[]string{"sandbox", "--log-level", "loud"}, 2, "bad --log-level"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr); got != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", got, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.want)
			}
		})
	}
}
