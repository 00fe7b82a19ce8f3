package shared

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDirFromEnv(t *testing.T) {
	d := t.TempDir()
	t.Setenv("SPROCKET_SHARED", d)
	got, err := Dir()
	if err != nil || got != d {
		t.Fatalf("Dir() = %q, %v; want %q", got, err, d)
	}
	t.Setenv("SPROCKET_SHARED", filepath.Join(d, "missing"))
	if _, err := Dir(); err == nil {
		t.Fatal("missing SPROCKET_SHARED accepted")
	}
}

func TestDirBesideModule(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	sub := filepath.Join(repo, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SPROCKET_SHARED", "")
	t.Chdir(sub)
	if _, err := Dir(); err == nil {
		t.Fatal("found a shared folder that does not exist")
	}
	if err := os.Mkdir(filepath.Join(root, "shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Dir()
	if err != nil || got != filepath.Join(root, "shared") {
		t.Fatalf("Dir() = %q, %v", got, err)
	}
}
