package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/integrations/oauth"
	"github.com/sprocketrun/sprocket/internal/dirlock"
	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

// planted are the credentials plantCredentials stores through the service.
type planted struct {
	secret, hookSecret, hookID, appSecret, runLinkKey string
}

// plantCredentials stores one credential of each kind the service seals,
// through the paths that store them: a task secret, a webhook signing
// secret, an app integration secret, an OAuth provider's client secret and
// the run link key.
func plantCredentials(t *testing.T, svc *Service, c *client) planted {
	t.Helper()
	ctx := context.Background()
	p := planted{secret: "task-secret-4f1d0c", hookSecret: "hook-secret-77ab12", appSecret: "app-secret-9e03aa"}
	c.want(200, "PUT", "/v1/secrets/api_key", map[string]any{"secret": map[string]any{"value": p.secret}})
	hook := c.want(201, "POST", "/v1/webhooks", map[string]any{"name": "Signed", "topic": "user/form/sent", "secret": p.hookSecret, "signature_header": "X-Sig"})
	p.hookID = hook["id"].(string)
	c.want(200, "PUT", "/v1/integrations/judgeme", map[string]any{"secret": p.appSecret})
	if _, err := svc.oauth.PutProvider(ctx, oauth.Provider{Name: "acme", AuthorizeURL: "https://acme.example/auth", TokenURL: "https://acme.example/token", ClientID: "cid", ClientSecret: "oauth-secret-51c2"}); err != nil {
		t.Fatal(err)
	}
	key, err := svc.runLinkKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.runLinkKey = string(key)
	return p
}

// plantedCount is how many sealed values plantCredentials leaves.
const plantedCount = 5

// checkOpens opens every planted credential through the service's read
// paths.
func checkOpens(t *testing.T, svc *Service, p planted) {
	t.Helper()
	ctx := context.Background()
	if got, ok := svc.vault.RevealSecret(SecretRef("api_key")); !ok || got != p.secret {
		t.Errorf("task secret opens as %q, %v", got, ok)
	}
	if w, err := svc.hooks.Lookup(ctx, p.hookID); err != nil || w.Secret != p.hookSecret {
		t.Errorf("webhook secret opens as %q, %v", w.Secret, err)
	}
	if got, err := svc.appSettings().secret(ctx, "judgeme"); err != nil || got != p.appSecret {
		t.Errorf("app secret opens as %q, %v", got, err)
	}
	if key, err := svc.runLinkKey(ctx); err != nil || string(key) != p.runLinkKey {
		t.Errorf("run link key: %v (changed: %v)", err, string(key) != p.runLinkKey)
	}
}

// countOpen opens the store in dir (or url) and counts the sealed
// credentials and those box opens.
func countOpen(t *testing.T, dir, url string, box *seal.Box) (total, opened int) {
	t.Helper()
	be, err := openBackend(context.Background(), Config{DataDir: dir, DatabaseURL: url}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer be.st.Close()
	cr, err := rewriterOf(be.st)
	if err != nil {
		t.Fatal(err)
	}
	total, opened, err = opensAll(context.Background(), cr, box)
	if err != nil {
		t.Fatal(err)
	}
	return total, opened
}

func keyFileBox(t *testing.T, path string) *seal.Box {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := seal.ParseKey(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := seal.New(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRotateKeyFile rotates the key file on SQLite: every value opens
// under the new key and none under the old; an interrupted rotation is
// finished or undone at the next start by which key opens the data; a
// running server's lock refuses the rotation.
func TestRotateKeyFile(t *testing.T) {
	dir := t.TempDir()
	keyPath, newPath := filepath.Join(dir, seal.KeyFile), filepath.Join(dir, pendingKeyFile)
	svc, c := openTestService(t, Config{DataDir: dir})
	p := plantCredentials(t, svc, c)
	checkOpens(t, svc, p)
	if _, err := RotateKey(context.Background(), RotateConfig{DataDir: dir, Logger: quietLogger()}); !errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("rotation while the server runs: %v, want ErrLocked", err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	oldBox := keyFileBox(t, keyPath)
	if total, opened := countOpen(t, dir, "", oldBox); total != plantedCount || opened != total {
		t.Fatalf("before rotation: %d of %d open with the key, want %d of %d", opened, total, plantedCount, plantedCount)
	}

	res, err := RotateKey(context.Background(), RotateConfig{DataDir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resealed != plantedCount || res.KeyFile != keyPath || res.GeneratedKey != "" {
		t.Fatalf("RotateKey = %+v, want %d re-sealed into %s", res, plantedCount, keyPath)
	}
	if _, err := os.Stat(newPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s left behind: %v", newPath, err)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file after rotation: %v, %v", fi, err)
	}
	newBox := keyFileBox(t, keyPath)
	if total, opened := countOpen(t, dir, "", newBox); opened != total || total != plantedCount {
		t.Fatalf("new key opens %d of %d", opened, total)
	}
	if _, opened := countOpen(t, dir, "", oldBox); opened != 0 {
		t.Fatalf("the old key still opens %d values", opened)
	}
	svc, _ = openTestService(t, Config{DataDir: dir})
	checkOpens(t, svc, p)
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}

	// Interrupted after writing secret.key.new, before the re-seal: the
	// next start keeps the current key and drops the pending one.
	before, _ := os.ReadFile(keyPath)
	if _, err := RotateKey(context.Background(), RotateConfig{DataDir: dir, Logger: quietLogger(), stopAfter: "key-file"}); !errors.Is(err, errStopped) {
		t.Fatal(err)
	}
	if _, err := os.Stat(newPath); err != nil {
		t.Fatalf("no pending key file: %v", err)
	}
	svc, _ = openTestService(t, Config{DataDir: dir})
	checkOpens(t, svc, p)
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(keyPath); string(after) != string(before) {
		t.Fatal("an undone rotation changed the key file")
	}
	if _, err := os.Stat(newPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pending key file not removed: %v", err)
	}

	// Interrupted after the re-seal committed, before the rename: the next
	// start installs the pending key.
	if _, err := RotateKey(context.Background(), RotateConfig{DataDir: dir, Logger: quietLogger(), stopAfter: "reseal"}); !errors.Is(err, errStopped) {
		t.Fatal(err)
	}
	pending, _ := os.ReadFile(newPath)
	svc, _ = openTestService(t, Config{DataDir: dir})
	checkOpens(t, svc, p)
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(keyPath); string(after) != string(pending) || string(after) == string(before) {
		t.Fatal("a finished rotation did not install the new key file")
	}
	// The same recovery when the next command is another rotation.
	if _, err := RotateKey(context.Background(), RotateConfig{DataDir: dir, Logger: quietLogger(), stopAfter: "reseal"}); !errors.Is(err, errStopped) {
		t.Fatal(err)
	}
	res, err = RotateKey(context.Background(), RotateConfig{DataDir: dir, Logger: quietLogger()})
	if err != nil || res.Resealed != plantedCount {
		t.Fatalf("rotation after an interrupted one: %+v, %v", res, err)
	}
	svc, _ = openTestService(t, Config{DataDir: dir})
	checkOpens(t, svc, p)
}

// TestRotateKeyEnvPostgres rotates SPROCKET_SECRET_KEY on PostgreSQL: the
// values open under the new key only, and a rotation that fails midway
// (a value that does not open) changes nothing.
func TestRotateKeyEnvPostgres(t *testing.T) {
	url := testDatabaseURL(t)
	dir := t.TempDir()
	k1 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	k2 := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	k3 := base64.StdEncoding.EncodeToString([]byte("not-the-key-not-the-key-not-the!"))
	svc, c := openTestService(t, Config{DataDir: dir, DatabaseURL: url, SecretKey: k1})
	p := plantCredentials(t, svc, c)
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	box := func(k string) *seal.Box {
		raw, _ := seal.ParseKey(k)
		b, _ := seal.New(raw)
		return b
	}
	// A rotation under a wrong current key fails on the first value and
	// leaves every value as it was.
	if _, err := RotateKey(context.Background(), RotateConfig{DataDir: dir, DatabaseURL: url, SecretKey: k3, NewKey: k2, Logger: quietLogger()}); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("rotation under a wrong key: %v", err)
	}
	if total, opened := countOpen(t, dir, url, box(k1)); total != plantedCount || opened != total {
		t.Fatalf("after a failed rotation %d of %d open with the old key", opened, total)
	}
	res, err := RotateKey(context.Background(), RotateConfig{DataDir: dir, DatabaseURL: url, SecretKey: k1, NewKey: k2, Logger: quietLogger()})
	if err != nil || res.Resealed != plantedCount || res.KeyFile != "" || res.GeneratedKey != "" {
		t.Fatalf("RotateKey = %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, seal.KeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an env-key rotation wrote a key file: %v", err)
	}
	if total, opened := countOpen(t, dir, url, box(k2)); total != plantedCount || opened != total {
		t.Fatalf("new key opens %d of %d", opened, total)
	}
	if _, opened := countOpen(t, dir, url, box(k1)); opened != 0 {
		t.Fatalf("old key still opens %d", opened)
	}
	svc, _ = openTestService(t, Config{DataDir: dir, DatabaseURL: url, SecretKey: k2})
	checkOpens(t, svc, p)
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	// Without a new key one is generated and returned.
	res, err = RotateKey(context.Background(), RotateConfig{DataDir: dir, DatabaseURL: url, SecretKey: k2, Logger: quietLogger()})
	if err != nil || res.GeneratedKey == "" || res.Resealed != plantedCount {
		t.Fatalf("RotateKey with a generated key = %+v, %v", res, err)
	}
	svc, _ = openTestService(t, Config{DataDir: dir, DatabaseURL: url, SecretKey: res.GeneratedKey})
	checkOpens(t, svc, p)
}

// TestSealPlaintextAtStart: task secrets and webhook secrets stored in
// plain text (before sealing) are sealed by the next start, which is
// idempotent, and open through the read paths.
func TestSealPlaintextAtStart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutSetting(ctx, store.SettingSecret, "legacy", []byte(`"legacy-plain-3e9"`)); err != nil {
		t.Fatal(err)
	}
	w, err := st.CreateWebhook(ctx, store.Webhook{Name: "Old", Topic: "user/old/hook", Secret: "legacy-hook-88d", SignatureHeader: "X-Sig"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// The search below finds what is there: before the start the plain
	// values are in the file.
	if raw, err := os.ReadFile(filepath.Join(dir, sqlite.FileName)); err != nil || !strings.Contains(string(raw), "legacy-plain-3e9") || !strings.Contains(string(raw), "legacy-hook-88d") {
		t.Fatalf("the plain values are not in the database file before the start (%v)", err)
	}
	for i := range 2 {
		svc, _ := openTestService(t, Config{DataDir: dir})
		if got, ok := svc.vault.RevealSecret(SecretRef("legacy")); !ok || got != "legacy-plain-3e9" {
			t.Errorf("start %d: legacy secret opens as %q, %v", i, got, ok)
		}
		if hw, err := svc.hooks.Lookup(ctx, w.ID); err != nil || hw.Secret != "legacy-hook-88d" {
			t.Errorf("start %d: legacy webhook secret %q, %v", i, hw.Secret, err)
		}
		x, _ := svc.st.GetSetting(ctx, store.SettingSecret, "legacy")
		sw, _ := svc.st.GetWebhook(ctx, w.ID)
		if !strings.HasPrefix(string(x.Value), `"v1:`) || !strings.HasPrefix(sw.Secret, "v1:") {
			t.Errorf("start %d: stored %s / %q, want sealed", i, x.Value, sw.Secret)
		}
		if err := svc.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{sqlite.FileName, sqlite.FileName + "-wal"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for _, s := range []string{"legacy-plain-3e9", "legacy-hook-88d"} {
			if n := strings.Count(string(raw), s); n != 0 {
				t.Errorf("%s (%d bytes) still holds %q %d times", name, len(raw), s, n)
			}
		}
	}
}

// TestRotateKeyRefusesLiveNodes: on PostgreSQL a rotation refuses while a
// node of the database has a fresh heartbeat (another machine's node
// holds no lock here), and goes ahead once the node has stopped.
func TestRotateKeyRefusesLiveNodes(t *testing.T) {
	url := testDatabaseURL(t)
	dir := t.TempDir()
	k1 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	k2 := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	ctx := context.Background()
	beat := func(svc *Service, node string, seen time.Time) {
		raw, _ := json.Marshal(throttleReading{Seen: seen, At: seen})
		if _, err := svc.st.PutSetting(ctx, settingShopThrottle, node, raw); err != nil {
			t.Fatal(err)
		}
	}
	svc, _ := openTestService(t, Config{DataDir: dir, DatabaseURL: url, SecretKey: k1})
	beat(svc, "node-elsewhere", time.Now().UTC())
	beat(svc, "node-killed-long-ago", time.Now().Add(-time.Minute).UTC())
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := RotateKey(ctx, RotateConfig{DataDir: dir, DatabaseURL: url, SecretKey: k1, NewKey: k2, Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "1 node(s) of this database are running") {
		t.Fatalf("rotation with a live node: %v", err)
	}
	svc, _ = openTestService(t, Config{DataDir: dir, DatabaseURL: url, SecretKey: k1})
	if err := svc.st.DeleteSetting(ctx, settingShopThrottle, "node-elsewhere"); err != nil { // it stopped
		t.Fatal(err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := RotateKey(ctx, RotateConfig{DataDir: dir, DatabaseURL: url, SecretKey: k1, NewKey: k2, Logger: quietLogger()}); err != nil {
		t.Fatalf("rotation once every node stopped: %v", err)
	}
}
