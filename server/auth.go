package server

import (
	"context"
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
	"sync"

	"github.com/sprocketrun/sprocket/store"
)

// TokenFile is the file in the data directory holding the SHA-256 hash
// (hex) of the generated admin API token.
const TokenFile = "api-token.sha256"

// authenticator checks bearer tokens: the admin token (whose hash is kept
// in TokenFile, or SPROCKET_API_TOKEN) and tokens created through the API
// (hashes kept as store.SettingAPIToken settings, loaded by loadTokens).
type authenticator struct {
	hash [sha256.Size]byte

	mu     sync.RWMutex
	tokens map[[sha256.Size]byte]bool
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
	token = newToken(b)
	a := &authenticator{hash: sha256.Sum256([]byte(token))}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(a.hash[:])+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("store API token hash: %w", err)
	}
	if created != nil {
		created(token)
	}
	return a, nil
}

// newToken formats random bytes as an API token.
func newToken(b [32]byte) string { return "spr_" + base64.RawURLEncoding.EncodeToString(b[:]) }

// check reports whether r carries a valid token as a bearer token.
func (a *authenticator) check(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return a.checkToken(tok)
}

// checkToken reports whether tok is a valid token.
func (a *authenticator) checkToken(tok string) bool {
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if subtle.ConstantTimeCompare(sum[:], a.hash[:]) == 1 {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.tokens[sum]
}

// loadTokens reads the API-created token hashes from the store.
func (a *authenticator) loadTokens(ctx context.Context, st store.Settings) error {
	list, err := st.ListSettings(ctx, store.SettingAPIToken)
	if err != nil {
		return fmt.Errorf("list API tokens: %w", err)
	}
	tokens := make(map[[sha256.Size]byte]bool, len(list))
	for _, x := range list {
		b, err := hex.DecodeString(x.Key)
		if err != nil || len(b) != sha256.Size {
			continue
		}
		tokens[[sha256.Size]byte(b)] = true
	}
	a.mu.Lock()
	a.tokens = tokens
	a.mu.Unlock()
	return nil
}
