package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	box, err := Load(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("shpat_0123456789abcdef")
	s1 := box.Seal(secret, "shopify/connection")
	s2 := box.Seal(secret, "shopify/connection")
	if s1 == s2 {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if strings.Contains(s1, string(secret)) || strings.Contains(s1, base64.StdEncoding.EncodeToString(secret)) {
		t.Errorf("sealed value %q exposes the secret", s1)
	}
	got, err := box.Open(s1, "shopify/connection")
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := box.Open(s1, "other/place"); err == nil {
		t.Error("a value opened under other associated data")
	}
	tampered := []byte(s1)
	tampered[len(tampered)-3] ^= 1
	if _, err := box.Open(string(tampered), "shopify/connection"); err == nil {
		t.Error("a tampered value opened")
	}
	if _, err := box.Open("plain", ""); err == nil {
		t.Error("an unsealed value opened")
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	a, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	b, err := Load(dir, "") // second start reads the same key
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Open(a.Seal([]byte("x"), "k"), "k"); err != nil || string(got) != "x" {
		t.Fatalf("reloaded key does not open: %q %v", got, err)
	}
}

func TestEnvKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	for _, form := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key)} {
		box, err := Load(t.TempDir(), form)
		if err != nil {
			t.Fatalf("Load(%q): %v", form, err)
		}
		other, _ := New(key)
		if got, err := other.Open(box.Seal([]byte("v"), ""), ""); err != nil || string(got) != "v" {
			t.Errorf("key %q: %q %v", form, got, err)
		}
	}
	if _, err := Load(t.TempDir(), "short"); err == nil || !strings.Contains(err.Error(), EnvKey) {
		t.Errorf("bad env key: err = %v, want one naming %s", err, EnvKey)
	}
	dir := t.TempDir()
	if _, err := Load(dir, hex.EncodeToString(key)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); !os.IsNotExist(err) {
		t.Error("a key file was written although the key came from the environment")
	}
}
