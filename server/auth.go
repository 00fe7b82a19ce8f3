package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile is the file in the data directory holding the SHA-256 hash
// (hex) of the generated admin API token.
const TokenFile = "api-token.sha256"

// authenticator checks bearer tokens against one stored hash.
type authenticator struct {
	hash [sha256.Size]byte
}

// newAuthenticator uses token when set; otherwise it reads the stored hash
// or, on first start, generates a token, stores its hash and hands the
// token to created.
func newAuthenticator(dir, token string, created func(string)) (*authenticator, error) {
	if token != "" {
		return &authenticator{hash: sha256.Sum256([]byte(token))}, nil
	}
	path := filepath.Join(dir, TokenFile)
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("read API token hash %s: not a hex SHA-256", path)
		}
		a := &authenticator{}
		copy(a.hash[:], b)
		return a, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read API token hash: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("generate API token: %w", err)
	}
	token = "spr_" + base64.RawURLEncoding.EncodeToString(b[:])
	a := &authenticator{hash: sha256.Sum256([]byte(token))}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(a.hash[:])+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("store API token hash: %w", err)
	}
	if created != nil {
		created(token)
	}
	return a, nil
}

// check reports whether r carries the admin token as a bearer token.
func (a *authenticator) check(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(sum[:], a.hash[:]) == 1
}
