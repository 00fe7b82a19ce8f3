package server

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	actionhttp "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
)

// Globals and secrets (docs: platform/globals-and-secrets.md). Templates
// see a secret only as an opaque reference, SecretRef(key); the raw value
// replaces the reference inside http action options just before the
// request is sent, and signing filters (hmac_*, rsa_*) accept the
// reference as their key. Results of actions that used secrets have the raw
// values redacted.

// settingKey is the form of global and secret keys: lower snake case
// starting with a letter.
var settingKey = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// secretRefPrefix and secretRefSuffix delimit a secret reference.
const (
	secretRefPrefix = "[[secret:"
	secretRefSuffix = "]]"
)

var secretRefPattern = regexp.MustCompile(`\[\[secret:([a-z][a-z0-9_]*)\]\]`)

// SecretRef returns the opaque reference templates see for the secret key.
func SecretRef(key string) string { return secretRefPrefix + key + secretRefSuffix }

// minRedactLen is the shortest secret value that is redacted from results
// (shorter values would mangle unrelated text).
const minRedactLen = 4

// settingsTTL is how long a snapshot of globals and secrets is reused;
// changes through the API drop it at once.
const settingsTTL = time.Second

// snapshot is the globals and secrets at one moment.
type snapshot struct {
	at      time.Time
	globals map[string]json.RawMessage
	secrets map[string]string
	// redactOrder lists secret values longest first, for redaction.
	redactOrder []string
	// redact matches any secret value in any case and its common
	// encodings (see secretVariants); nil without secrets to redact.
	redact *regexp.Regexp
}

// secretVariants returns raw and the encodings a remote commonly echoes it
// in: base64 (standard and URL alphabets, padded or not), URL query and
// path escaping, and hexadecimal. Matching is case-insensitive on top.
func secretVariants(raw string) []string {
	b := []byte(raw)
	vs := []string{
		raw,
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		url.QueryEscape(raw), url.PathEscape(raw),
		hex.EncodeToString(b),
	}
	slices.Sort(vs)
	vs = slices.Compact(vs)
	out := vs[:0]
	for _, v := range vs {
		if len(v) >= minRedactLen {
			out = append(out, v)
		}
	}
	return out
}

// redactPattern compiles one case-insensitive pattern over the variants of
// every secret, longest first so a longer match wins.
func redactPattern(secrets []string) *regexp.Regexp {
	var alts []string
	for _, raw := range secrets {
		for _, v := range secretVariants(raw) {
			alts = append(alts, regexp.QuoteMeta(v))
		}
	}
	if len(alts) == 0 {
		return nil
	}
	sort.Slice(alts, func(i, j int) bool { return len(alts[i]) > len(alts[j]) })
	return regexp.MustCompile("(?i)(?:" + strings.Join(alts, "|") + ")")
}

// Vault serves globals and secrets to runs from the store's settings: the
// Liquid variables, the action secret resolver and redactor, and the
// signing filters' secret source. Create it with NewVault.
type Vault struct {
	st  store.Settings
	box *seal.Box // opens the sealed values; set before use

	mu    sync.Mutex
	snap  *snapshot
	lists map[store.SettingKind]cachedList
}

type cachedList struct {
	at   time.Time
	list []store.Setting
}

// NewVault returns a Vault over st whose secrets box opens (nil: the
// service sets it when it loads the key).
func NewVault(st store.Settings, box *seal.Box) *Vault { return &Vault{st: st, box: box} }

// openSecret returns a stored secret's value: the sealed JSON string
// opened with the key, bound to the secret's key.
func openSecret(box *seal.Box, x store.Setting) (string, error) {
	var sealed string
	if err := json.Unmarshal(x.Value, &sealed); err != nil {
		return "", fmt.Errorf("secret %q: not a string", x.Key)
	}
	if !strings.HasPrefix(sealed, sealedPrefix) {
		return "", fmt.Errorf("secret %q is stored unsealed (written around the API?); a restart seals it", x.Key)
	}
	if box == nil {
		return "", fmt.Errorf("secret %q: no key to open it", x.Key)
	}
	raw, err := box.Open(sealed, secretAD(x.Key))
	if err != nil {
		return "", fmt.Errorf("secret %q: %w", x.Key, err)
	}
	return string(raw), nil
}

// sealSecret returns the stored form of a secret's value.
func sealSecret(box *seal.Box, key, value string) (json.RawMessage, error) {
	return json.Marshal(box.Seal([]byte(value), secretAD(key)))
}

// invalidate drops the cached snapshot and lists (after a change through the API).
func (v *Vault) invalidate() {
	v.mu.Lock()
	v.snap = nil
	v.lists = nil
	v.mu.Unlock()
}

// ListSettings lists a kind's settings like the store, reusing a listing
// for up to a second (changes through the API apply at once); it serves
// the event filters, read on every event run.
func (v *Vault) ListSettings(ctx context.Context, kind store.SettingKind) ([]store.Setting, error) {
	v.mu.Lock()
	c, ok := v.lists[kind]
	v.mu.Unlock()
	if ok && time.Since(c.at) < settingsTTL {
		return c.list, nil
	}
	list, err := v.st.ListSettings(ctx, kind)
	if err != nil {
		return nil, fmt.Errorf("list %s settings: %w", kind, err)
	}
	v.mu.Lock()
	if v.lists == nil {
		v.lists = make(map[store.SettingKind]cachedList)
	}
	v.lists[kind] = cachedList{at: time.Now(), list: list}
	v.mu.Unlock()
	return list, nil
}

// load returns a recent snapshot, reading the store when it is stale.
func (v *Vault) load(ctx context.Context) (*snapshot, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.snap != nil && time.Since(v.snap.at) < settingsTTL {
		return v.snap, nil
	}
	gs, err := v.st.ListSettings(ctx, store.SettingGlobal)
	if err != nil {
		return nil, fmt.Errorf("list globals: %w", err)
	}
	ss, err := v.st.ListSettings(ctx, store.SettingSecret)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	s := &snapshot{at: time.Now(), globals: make(map[string]json.RawMessage, len(gs)), secrets: make(map[string]string, len(ss))}
	for _, g := range gs {
		s.globals[g.Key] = g.Value
	}
	for _, x := range ss {
		raw, err := openSecret(v.box, x)
		if err != nil {
			return nil, err
		}
		s.secrets[x.Key] = raw
		if len(raw) >= minRedactLen {
			s.redactOrder = append(s.redactOrder, raw)
		}
	}
	sort.Slice(s.redactOrder, func(i, j int) bool { return len(s.redactOrder[i]) > len(s.redactOrder[j]) })
	s.redact = redactPattern(s.redactOrder)
	v.snap = s
	return s, nil
}

// variables returns the globals and secrets Liquid variables: globals with
// their values (parsed afresh for each run), secrets as references.
func (v *Vault) variables(ctx context.Context) (globals, secrets map[string]any, err error) {
	s, err := v.load(ctx)
	if err != nil {
		return nil, nil, err
	}
	globals = make(map[string]any, len(s.globals))
	for k, raw := range s.globals {
		val, err := value.FromJSON(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("global %q: %w", k, err)
		}
		globals[k] = val
	}
	secrets = make(map[string]any, len(s.secrets))
	for k := range s.secrets {
		secrets[k] = SecretRef(k)
	}
	return globals, secrets, nil
}

// Resolve implements action.SecretResolver: references to existing
// secrets inside strings (map keys and values, array elements) become the
// raw values.
func (v *Vault) Resolve(ctx context.Context, x any) (any, bool, error) {
	s, err := v.load(ctx)
	if err != nil {
		return nil, false, err
	}
	used := false
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case string:
			if !strings.Contains(t, secretRefPrefix) {
				return t
			}
			return secretRefPattern.ReplaceAllStringFunc(t, func(ref string) string {
				key := ref[len(secretRefPrefix) : len(ref)-len(secretRefSuffix)]
				if raw, ok := s.secrets[key]; ok {
					used = true
					return raw
				}
				return ref
			})
		case []any:
			out := make([]any, len(t))
			for i, e := range t {
				out[i] = walk(e)
			}
			return out
		case *value.Map:
			out := value.NewMap(t.Len())
			t.Each(func(k string, e any) bool {
				out.Set(walk(k).(string), walk(e))
				return true
			})
			return out
		}
		return x
	}
	out := walk(x)
	return out, used, nil
}

// Redact implements action.SecretRedactor: secret values in text, in any
// case and in their common encodings (base64, URL escaping, hex), are
// replaced by the http action's redaction marker.
func (v *Vault) Redact(text string) string {
	snap, err := v.load(context.Background())
	if err != nil {
		return text
	}
	if snap.redact == nil {
		return text
	}
	return snap.redact.ReplaceAllLiteralString(text, actionhttp.RedactedValue)
}

// RevealSecret implements filters.SecretSource for the signing filters.
func (v *Vault) RevealSecret(ref string) (string, bool) {
	m := secretRefPattern.FindStringSubmatch(ref)
	if m == nil || m[0] != ref {
		return "", false
	}
	s, err := v.load(context.Background())
	if err != nil {
		return "", false
	}
	raw, ok := s.secrets[m[1]]
	return raw, ok
}
