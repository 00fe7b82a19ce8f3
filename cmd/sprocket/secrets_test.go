package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/server"
)

// TestSecretsRotateKey runs `sprocket secrets rotate-key --data DIR`: it
// refuses while a server holds the directory, then re-seals the stored
// secret under a new key file and prints the count.
func TestSecretsRotateKey(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(seal.EnvKey, "")
	t.Setenv(server.NewKeyEnv, "")
	svc, err := server.Open(context.Background(), server.Config{DataDir: dir, APIToken: "test-token-0123456789", DisableScheduler: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutSecret(context.Background(), "api_key", "rotate-me-value"); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"secrets", "rotate-key", "--data", dir}, strings.NewReader(""), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "in use by another Sprocket process") {
		t.Fatalf("rotation with the server running: exit %d, stderr %q", code, errOut.String())
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, seal.KeyFile))
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"secrets", "rotate-key", "--data", dir}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if !strings.Contains(out.String(), "re-sealed 1 values under the new key") || !strings.Contains(out.String(), filepath.Join(dir, seal.KeyFile)) {
		t.Fatalf("stdout %q", out.String())
	}
	after, _ := os.ReadFile(filepath.Join(dir, seal.KeyFile))
	if len(after) == 0 || bytes.Equal(before, after) {
		t.Fatal("the key file did not change")
	}
	svc, err = server.Open(context.Background(), server.Config{DataDir: dir, APIToken: "test-token-0123456789", DisableScheduler: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if got, ok := svc.Vault().RevealSecret(server.SecretRef("api_key")); !ok || got != "rotate-me-value" {
		t.Fatalf("after rotation the secret opens as %q, %v", got, ok)
	}
	if code := run(context.Background(), []string{"secrets", "rotate-key", "extra"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Fatalf("stray argument: exit %d, want 2", code)
	}
}
