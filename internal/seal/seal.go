// Package seal encrypts credentials that Sprocket stores (Shopify access
// tokens, app secrets, and later other connections' secrets) with
// AES-256-GCM under one key per installation.
//
// The key comes from SPROCKET_SECRET_KEY (32 bytes, base64 or hex) or, when
// that is unset, from a key file in the data directory that is created on
// first start with mode 0600. A sealed value is the text
// "v1:<base64(nonce || ciphertext)>"; the optional associated data binds
// it to where it is stored (a setting's kind and key), so a sealed value
// copied elsewhere does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the name of the key file in the data directory.
const KeyFile = "secret.key"

// EnvKey is the environment variable that holds the key.
const EnvKey = "SPROCKET_SECRET_KEY"

const prefix = "v1:"

// Box seals and opens values with one key; it is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("seal: key has %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Box{aead: aead}, nil
}

// ParseKey decodes a key given as base64 (standard or URL alphabet, padded
// or not) or hex.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("seal: the key must be 32 bytes, written as base64 or hex")
}

// Load returns the installation's Box: from envValue (the value of
// SPROCKET_SECRET_KEY) when it is not empty, else from KeyFile in dir,
// creating the file (mode 0600) with a random key on first use.
func Load(dir, envValue string) (*Box, error) {
	if envValue != "" {
		key, err := ParseKey(envValue)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return New(key)
	}
	path := filepath.Join(dir, KeyFile)
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := ParseKey(string(raw))
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		return New(key)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			return Load(dir, "")
		}
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write key file: %w", err)
	}
	return New(key)
}

// Seal encrypts plaintext, bound to the associated data ad.
func (b *Box) Seal(plaintext []byte, ad string) string {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("seal: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	out := b.aead.Seal(nonce, nonce, plaintext, []byte(ad))
	return prefix + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value made by Seal with the same associated data.
func (b *Box) Open(sealed, ad string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, errors.New("seal: not a sealed value")
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	ns := b.aead.NonceSize()
	if len(raw) < ns+b.aead.Overhead() {
		return nil, errors.New("seal: value too short")
	}
	pt, err := b.aead.Open(nil, raw[:ns], raw[ns:], []byte(ad))
	if err != nil {
		return nil, errors.New("seal: the value does not open with this key (was SPROCKET_SECRET_KEY or the key file changed?)")
	}
	return pt, nil
}
