package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/internal/dirlock"
	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/store"
)

// Credentials at rest. Every credential Sprocket stores is sealed with the
// installation's key (internal/seal), bound by associated data to where it
// is stored: task secrets (kind "secret"), webhook signing secrets, the
// Shopify connection and OAuth state, app integrations, OAuth providers,
// states and accounts, and the run link signing key. API tokens are stored
// as hashes and need no key.

// sealedPrefix starts every sealed value (see seal.Box.Seal).
const sealedPrefix = "v1:"

// NewKeyEnv names the new key for `sprocket secrets rotate-key`.
const NewKeyEnv = "SPROCKET_NEW_SECRET_KEY"

// pendingKeyFile is the key file a rotation writes before it re-seals.
const pendingKeyFile = seal.KeyFile + ".new"

// secretAD is the associated data of a task secret's sealed value.
func secretAD(key string) string { return "secret/" + key }

// webhookSecretAD is the associated data of a webhook's signing secret.
func webhookSecretAD(id string) string { return "webhook/" + id + "/secret" }

// credentialKinds are the setting kinds that hold sealed values.
var credentialKinds = []store.SettingKind{
	store.SettingSecret, settingRunLinkKey, settingShopify, settingShopifyOAuth, settingApp,
	"oauth_provider", "oauth_state", "oauth_account",
}

// credentialAD returns the associated data a credential is sealed with,
// or ok=false when loc holds no credential (a plain field of a record).
// A field named sealed_* with no rule here is an error for the caller:
// it would otherwise be left under the old key by a rotation.
func credentialAD(loc store.CredentialLocation) (ad string, ok bool) {
	if loc.Webhook {
		return webhookSecretAD(loc.Key), true
	}
	k, f := loc.Key, loc.Field
	switch loc.Kind {
	case store.SettingSecret:
		return secretAD(k), f == ""
	case settingRunLinkKey:
		return "run_link/key", f == ""
	case settingShopify:
		switch f {
		case "sealed_access_token":
			return "shopify/connection/token", true
		case "sealed_client_secret":
			return "shopify/connection/client_secret", true
		}
	case settingShopifyOAuth:
		return "shopify/oauth/" + k, f == "sealed_client_secret"
	case settingApp:
		switch f {
		case "sealed_secret":
			return "app/" + k + "/secret", true
		case "sealed_api_key":
			return "app/" + k + "/api_key", true
		}
	case "oauth_provider":
		return "oauth/oauth_provider/" + k + "/client_secret", f == "sealed_client_secret"
	case "oauth_state":
		return "oauth/oauth_state/" + k + "/verifier", f == "sealed_verifier"
	case "oauth_account":
		switch f {
		case "sealed_access_token":
			return "oauth/oauth_account/" + k + "/access", true
		case "sealed_refresh_token":
			return "oauth/oauth_account/" + k + "/refresh", true
		}
	}
	return "", false
}

// isCredential reports whether loc holds a credential, and its associated
// data; a sealed_* field without a rule is an error.
func isCredential(loc store.CredentialLocation) (string, bool, error) {
	ad, ok := credentialAD(loc)
	if ok {
		return ad, true, nil
	}
	if strings.HasPrefix(loc.Field, "sealed_") {
		return "", false, fmt.Errorf("credential %s/%s field %s: no sealing rule (internal error)", loc.Kind, loc.Key, loc.Field)
	}
	return "", false, nil
}

// locName names a credential's location in messages.
func locName(loc store.CredentialLocation) string {
	if loc.Webhook {
		return "webhook " + loc.Key + " secret"
	}
	if loc.Field == "" {
		return string(loc.Kind) + " " + loc.Key
	}
	return string(loc.Kind) + " " + loc.Key + " " + loc.Field
}

// rewriterOf returns the driver's CredentialRewriter.
func rewriterOf(st store.Store) (store.CredentialRewriter, error) {
	cr, ok := st.(store.CredentialRewriter)
	if !ok {
		return nil, fmt.Errorf("store %T cannot rewrite credentials", st)
	}
	return cr, nil
}

// sealPlaintext seals task secrets and webhook secrets stored in plain
// text (before sealing existed: values without the "v1:" prefix) and, if
// it sealed any, scrubs their old versions from the storage. It is
// idempotent.
func sealPlaintext(ctx context.Context, cr store.CredentialRewriter, box *seal.Box, log *slog.Logger) (int, error) {
	n, err := cr.RewriteCredentials(ctx, []store.SettingKind{store.SettingSecret}, func(loc store.CredentialLocation, v string) (string, error) {
		ad, ok := credentialAD(loc)
		if !ok || v == "" || strings.HasPrefix(v, sealedPrefix) {
			return v, nil
		}
		return box.Seal([]byte(v), ad), nil
	})
	if err != nil {
		return 0, fmt.Errorf("seal stored secrets: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := cr.ScrubFreed(ctx); err != nil {
		return n, fmt.Errorf("sealed %d stored secrets, but: %w", n, err)
	}
	log.Info("sealed credentials stored in plain text", "count", n)
	return n, nil
}

// opensAll reports how many sealed credentials exist and how many of them
// box opens.
func opensAll(ctx context.Context, cr store.CredentialRewriter, box *seal.Box) (total, opened int, err error) {
	_, err = cr.RewriteCredentials(ctx, credentialKinds, func(loc store.CredentialLocation, v string) (string, error) {
		ad, ok, err := isCredential(loc)
		if err != nil || !ok || !strings.HasPrefix(v, sealedPrefix) {
			return v, err
		}
		total++
		if _, err := box.Open(v, ad); err == nil {
			opened++
		}
		return v, nil
	})
	return total, opened, err
}

// resolvePendingKey finishes or undoes a rotation of the key file that
// stopped before renaming secret.key.new over secret.key: the key that
// opens the stored credentials wins (the re-seal is one transaction, so
// one of them opens all). It does nothing without a pending file.
func resolvePendingKey(ctx context.Context, cr store.CredentialRewriter, dir string, log *slog.Logger) error {
	newPath, keyPath := filepath.Join(dir, pendingKeyFile), filepath.Join(dir, seal.KeyFile)
	raw, err := os.ReadFile(newPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read pending key file: %w", err)
	}
	newKey, err := seal.ParseKey(string(raw))
	if err != nil {
		return fmt.Errorf("pending key file %s: %w", newPath, err)
	}
	newBox, err := seal.New(newKey)
	if err != nil {
		return err
	}
	total, opened, err := opensAll(ctx, cr, newBox)
	if err != nil {
		return fmt.Errorf("resolve pending key: %w", err)
	}
	if opened == total { // the re-seal committed (or there is nothing sealed)
		if err := os.Rename(newPath, keyPath); err != nil {
			return fmt.Errorf("finish key rotation: %w", err)
		}
		log.Warn("finished an interrupted key rotation: the stored credentials open with the new key", "file", keyPath, "credentials", total)
		return syncDir(dir)
	}
	if opened == 0 {
		if err := os.Remove(newPath); err != nil {
			return fmt.Errorf("undo key rotation: %w", err)
		}
		log.Warn("undid an interrupted key rotation: the stored credentials still open with the old key", "removed", newPath, "credentials", total)
		return syncDir(dir)
	}
	return fmt.Errorf("pending key file %s opens %d of %d stored credentials: neither key opens them all; keep both files and restore from a backup", newPath, opened, total)
}

// writeKeyFile writes key to path atomically (a temporary file, synced,
// renamed) with mode 0600.
func writeKeyFile(path string, key []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write key file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// RotateConfig configures RotateKey.
type RotateConfig struct {
	// DataDir is the data directory (its lock is taken; the key file lives
	// there unless SecretKey is set).
	DataDir string
	// DatabaseURL selects PostgreSQL, as for Open; empty means SQLite.
	DatabaseURL string
	// SecretKey is the current key (SPROCKET_SECRET_KEY); empty means the
	// key file.
	SecretKey string
	// NewKey is the new key (SPROCKET_NEW_SECRET_KEY); empty generates one.
	NewKey string
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger

	// stopAfter, for tests, ends the rotation early as a crash would:
	// "key-file" after writing secret.key.new, "reseal" after the re-seal
	// committed.
	stopAfter string
}

// RotateResult is what RotateKey did.
type RotateResult struct {
	// Resealed counts the values re-sealed under the new key (plain values
	// sealed on the way included).
	Resealed int
	// KeyFile is the key file written, when the key lives in one.
	KeyFile string
	// GeneratedKey is the new key (base64) when it was generated and the
	// key does not live in a file: the caller must hand it to the operator,
	// who sets SPROCKET_SECRET_KEY to it.
	GeneratedKey string
}

// errStopped ends a rotation early in tests.
var errStopped = errors.New("rotation stopped (test)")

// RotateKey re-seals every stored credential under a new key, in one
// transaction. With the key file it writes secret.key.new first and
// renames it over secret.key after the re-seal committed; an interrupted
// rotation is resolved at the next start (or rotation) by which key opens
// the stored credentials. It refuses to run while a server holds the data
// directory or, on PostgreSQL, while any node of the database is running.
func RotateKey(ctx context.Context, cfg RotateConfig) (RotateResult, error) {
	var res RotateResult
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.DatabaseURL != "" && cfg.SecretKey == "" {
		return res, fmt.Errorf("with a shared database (--database) the current key comes from %s", seal.EnvKey)
	}
	lock, err := dirlock.Acquire(cfg.DataDir)
	if err != nil {
		return res, fmt.Errorf("data directory (stop the server first): %w", err)
	}
	defer lock.Release()
	be, err := openBackend(ctx, Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL}, log)
	if err != nil {
		return res, err
	}
	defer be.st.Close()
	if cfg.DatabaseURL != "" {
		// The data directory's lock covers one node; the others announce
		// themselves by their heartbeats in the database.
		n, latest, err := liveNodeCount(ctx, be.st, time.Now())
		if err != nil {
			return res, err
		}
		if n > 0 {
			return res, fmt.Errorf("%d node(s) of this database are running (latest heartbeat %s ago): stop every node first (a node killed without stopping counts for %s)",
				n, time.Since(latest).Round(time.Second), shareStale)
		}
	}
	cr, err := rewriterOf(be.st)
	if err != nil {
		return res, err
	}
	keyFile := cfg.SecretKey == ""
	if keyFile {
		if err := resolvePendingKey(ctx, cr, cfg.DataDir, log); err != nil {
			return res, err
		}
	}
	oldBox, err := seal.Load(cfg.DataDir, cfg.SecretKey)
	if err != nil {
		return res, fmt.Errorf("current key: %w", err)
	}
	var newKey []byte
	if cfg.NewKey != "" {
		if newKey, err = seal.ParseKey(cfg.NewKey); err != nil {
			return res, fmt.Errorf("%s: %w", NewKeyEnv, err)
		}
	} else {
		newKey = make([]byte, 32)
		if _, err := rand.Read(newKey); err != nil {
			return res, fmt.Errorf("generate key: %w", err)
		}
		if !keyFile {
			res.GeneratedKey = base64.StdEncoding.EncodeToString(newKey)
		}
	}
	newBox, err := seal.New(newKey)
	if err != nil {
		return res, err
	}
	pending := filepath.Join(cfg.DataDir, pendingKeyFile)
	if keyFile {
		if err := writeKeyFile(pending, newKey); err != nil {
			return res, err
		}
		if cfg.stopAfter == "key-file" {
			return res, errStopped
		}
	}
	n, err := cr.RewriteCredentials(ctx, credentialKinds, func(loc store.CredentialLocation, v string) (string, error) {
		ad, ok, err := isCredential(loc)
		if err != nil || !ok || v == "" {
			return v, err
		}
		plain := []byte(v)
		if strings.HasPrefix(v, sealedPrefix) {
			if plain, err = oldBox.Open(v, ad); err != nil {
				return "", fmt.Errorf("%s: %w", locName(loc), err)
			}
		}
		return newBox.Seal(plain, ad), nil
	})
	if err != nil {
		if keyFile {
			_ = os.Remove(pending)
		}
		return res, fmt.Errorf("re-seal: %w", err)
	}
	res.Resealed = n
	if cfg.stopAfter == "reseal" {
		return res, errStopped
	}
	if keyFile {
		keyPath := filepath.Join(cfg.DataDir, seal.KeyFile)
		if err := os.Rename(pending, keyPath); err != nil {
			return res, fmt.Errorf("install new key file (the next start finishes it): %w", err)
		}
		if err := syncDir(cfg.DataDir); err != nil {
			return res, err
		}
		res.KeyFile = keyPath
	}
	if err := cr.ScrubFreed(ctx); err != nil {
		return res, fmt.Errorf("re-sealed %d values, but: %w", n, err)
	}
	return res, nil
}
