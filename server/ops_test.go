package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/internal/dirlock"
	"github.com/sprocketrun/sprocket/store"
)

func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// checkOps exercises /readyz and /metrics of a running service.
func checkOps(t *testing.T, c *client, storeKind string) {
	t.Helper()
	ready := c.want(http.StatusOK, "GET", "/readyz", nil)
	if ready["ok"] != true || ready["store"] != storeKind {
		t.Fatalf("/readyz = %v", ready)
	}
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "user/ops/check", "data": map[string]any{"n": 1}})
	c.want(http.StatusNotFound, "POST", "/webhooks/"+store.NewID(), `{}`)
	text := scrape(t, c.base)
	for _, want := range []string{
		`sprocket_events_received_total{source="user",topic="user/ops/check"} 1`,
		`sprocket_webhook_rejections_total{code="404"} 1`,
		`sprocket_queue_runs{kind="event_run",state="due"} 1`,
		`sprocket_queue_oldest_due_age_seconds `,
		`go_goroutines `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestOpsEndpointsSQLite(t *testing.T) {
	_, c := openTestService(t, Config{})
	checkOps(t, c, "sqlite")
}

func TestDataDirLockedToOneService(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, APIToken: testToken, DisableScheduler: true, Logger: quietLogger()}
	svc, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), cfg); !errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("second Open on the data dir = %v, want dirlock.ErrLocked", err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	svc, err = Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	_ = svc.Close()
}

// testDatabaseURL returns a URL of a fresh schema on the test PostgreSQL
// server, skipping without one (failing when CI=true).
func testDatabaseURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("SPROCKET_TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SPROCKET_TEST_DATABASE_URL is not set; .ci/run starts a PostgreSQL server and sets it")
		}
		t.Skip("needs SPROCKET_TEST_DATABASE_URL (e.g. from .ci/postgres start); skipping")
	}
	schema := "srv_" + strings.ReplaceAll(store.NewID()[:13], "-", "")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
	})
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "search_path=" + schema
}

func TestOpsEndpointsPostgres(t *testing.T) {
	_, c := openTestService(t, Config{DatabaseURL: testDatabaseURL(t), SecretKey: strings.Repeat("ab", 32)})
	checkOps(t, c, "postgres")
}
