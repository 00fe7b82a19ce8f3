package shopify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// signHex is the documented OAuth signature: hex HMAC-SHA256 of message.
func signHex(message, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(message))
	return hex.EncodeToString(m.Sum(nil))
}

func TestVerifyCallback(t *testing.T) {
	const secret = "hush"
	now := time.Unix(1_780_000_000, 0)
	ts := "1780000000"
	// The message is written out by hand, sorted by name, as Shopify documents.
	valid := "code=0907a61c0c8d55e99db179b68161bc00&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZXhhbXBsZQ&shop=example.myshopify.com&state=n0nce&timestamp=" + ts
	q := func(raw string) url.Values {
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name    string
		query   url.Values
		secret  string
		maxAge  time.Duration
		now     time.Time
		wantErr string
	}{
		{
			// A published example of Shopify's: this query and secret "hush".
			name:   "published example",
			query:  q("code=0907a61c0c8d55e99db179b68161bc00&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"),
			secret: secret, now: time.Unix(1337178173, 0),
		},
		{name: "valid", query: q(valid + "&hmac=" + signHex(valid, secret)), secret: secret, maxAge: time.Hour, now: now},
		{name: "parameters in another order", query: q("timestamp=" + ts + "&hmac=" + signHex(valid, secret) + "&state=n0nce&shop=example.myshopify.com&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZXhhbXBsZQ&code=0907a61c0c8d55e99db179b68161bc00"), secret: secret, maxAge: time.Hour, now: now},
		{name: "wrong secret", query: q(valid + "&hmac=" + signHex(valid, "other")), secret: secret, now: now, wantErr: "does not match"},
		{name: "tampered shop", query: q(strings.Replace(valid, "example.", "evil.", 1) + "&hmac=" + signHex(valid, secret)), secret: secret, now: now, wantErr: "does not match"},
		{name: "missing hmac", query: q(valid), secret: secret, now: now, wantErr: "missing"},
		{name: "hmac not hex", query: q(valid + "&hmac=zz"), secret: secret, now: now, wantErr: "missing or not a hex"},
		{name: "no secret", query: q(valid + "&hmac=" + signHex(valid, secret)), secret: "", now: now, wantErr: "no client secret"},
		{name: "too old", query: q(valid + "&hmac=" + signHex(valid, secret)), secret: secret, maxAge: time.Minute, now: now.Add(2 * time.Minute), wantErr: "older than"},
		{name: "in the future", query: q(valid + "&hmac=" + signHex(valid, secret)), secret: secret, maxAge: time.Hour, now: now.Add(-5 * time.Minute), wantErr: "future"},
		{
			name:   "signed but bad shop domain",
			query:  q("shop=example.com&timestamp=" + ts + "&hmac=" + signHex("shop=example.com&timestamp="+ts, secret)),
			secret: secret, now: now, wantErr: "not a name.myshopify.com",
		},
		{
			name:   "signed but no timestamp",
			query:  q("shop=example.myshopify.com&hmac=" + signHex("shop=example.myshopify.com", secret)),
			secret: secret, now: now, wantErr: "timestamp",
		},
		{
			name:   "array parameter",
			query:  q("ids[]=1&ids[]=2&shop=example.myshopify.com&timestamp=" + ts + "&hmac=" + signHex(`ids=["1", "2"]&shop=example.myshopify.com&timestamp=`+ts, secret)),
			secret: secret, now: now,
		},
		{
			name:   "escaped ampersand and percent",
			query:  q("note=a%26b%25c&shop=example.myshopify.com&timestamp=" + ts + "&hmac=" + signHex("note=a%26b%25c&shop=example.myshopify.com&timestamp="+ts, secret)),
			secret: secret, now: now,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyCallback(tt.query, tt.secret, tt.maxAge, tt.now)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("VerifyCallback: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidCallback) {
				t.Fatalf("err %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyWebhook(t *testing.T) {
	body := []byte(`{"id":820982911946154508,"email":"jon@example.com"}`)
	m := hmac.New(sha256.New, []byte("s3cret"))
	m.Write(body)
	good := base64.StdEncoding.EncodeToString(m.Sum(nil))
	tests := []struct {
		name        string
		body        []byte
		header, sec string
		want        bool
	}{
		{"valid", body, good, "s3cret", true},
		{"valid with spaces", body, " " + good + " ", "s3cret", true},
		{"other secret", body, good, "other", false},
		{"changed body", append([]byte(nil), append(body, ' ')...), good, "s3cret", false},
		{"hex instead of base64", body, hex.EncodeToString(m.Sum(nil)), "s3cret", false},
		{"empty header", body, "", "s3cret", false},
		{"empty secret", body, good, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyWebhook(tt.body, tt.header, tt.sec); got != tt.want {
				t.Fatalf("VerifyWebhook = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInstallURL(t *testing.T) {
	u, err := url.Parse(InstallURL("example.myshopify.com", "cid", []string{"read_orders", "write_orders", "read_products"}, "https://sprocket.example/v1/shop/oauth/callback", "n0nce"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "https" || u.Host != "example.myshopify.com" || u.Path != "/admin/oauth/authorize" ||
		q.Get("client_id") != "cid" || q.Get("scope") != "read_products,write_orders" ||
		q.Get("redirect_uri") != "https://sprocket.example/v1/shop/oauth/callback" || q.Get("state") != "n0nce" || q.Has("grant_options[]") {
		t.Fatalf("install URL %s", u)
	}
}

func TestScopes(t *testing.T) {
	tests := []struct {
		in        string
		parsed    string
		normal    string
		has, lack []string
	}{
		{"read_orders,write_orders", "read_orders,write_orders", "write_orders", []string{"read_orders", "write_orders"}, []string{"read_products"}},
		{" Write_Products  read_customers,read_customers", "read_customers,write_products", "read_customers,write_products", []string{"read_products", "read_customers"}, []string{"write_customers"}},
		{"unauthenticated_write_checkouts", "unauthenticated_write_checkouts", "unauthenticated_write_checkouts", []string{"unauthenticated_read_checkouts"}, []string{"read_checkouts"}},
		{"read_all_orders,read_orders", "read_all_orders,read_orders", "read_all_orders,read_orders", []string{"read_all_orders"}, []string{"write_orders"}},
		{"", "", "", nil, []string{"read_orders"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s := ParseScopes(tt.in)
			if s.String() != tt.parsed || s.Normalize().String() != tt.normal {
				t.Fatalf("parsed %q normal %q", s, s.Normalize())
			}
			for _, h := range tt.has {
				if !s.Has(h) {
					t.Errorf("%q lacks %s", s, h)
				}
			}
			for _, l := range tt.lack {
				if s.Has(l) {
					t.Errorf("%q has %s", s, l)
				}
			}
		})
	}
	granted := ParseScopes("write_orders,read_products")
	if m := granted.Missing(ParseScopes("read_orders,write_products,read_customers")); m.String() != "read_customers,write_products" {
		t.Fatalf("missing %q", m)
	}
}

// tokenEndpoint is a loopback stand-in for /admin/oauth/access_token.
type tokenEndpoint struct {
	srv      *httptest.Server
	requests atomic.Int32
	mu       sync.Mutex
	forms    []url.Values
	status   int
	answer   map[string]any
	delay    time.Duration
}

func newTokenEndpoint(t *testing.T, answer map[string]any) *tokenEndpoint {
	e := &tokenEndpoint{status: 200, answer: answer}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/oauth/access_token" || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := e.requests.Add(1)
		e.mu.Lock()
		e.forms = append(e.forms, r.PostForm)
		status, ans, delay := e.status, map[string]any{}, e.delay
		for k, v := range e.answer {
			ans[k] = v
		}
		e.mu.Unlock()
		time.Sleep(delay)
		if status != 200 {
			w.WriteHeader(status)
			w.Write([]byte(`{"error":"invalid_client","error_description":"Client authentication failed"}`))
			return
		}
		ans["access_token"] = "shpat_" + string(rune('a'+n-1))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(ans)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func TestClientCredentials(t *testing.T) {
	e := newTokenEndpoint(t, map[string]any{"scope": "write_orders,read_products", "expires_in": 86399})
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	cc, err := NewClientCredentials(ClientCredentialsConfig{
		BaseURL: e.srv.URL, ClientID: "cid", ClientSecret: "csecret",
		Now: func() time.Time { return time.Unix(now.Load(), 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		name     string
		advance  time.Duration
		inval    bool
		want     string
		requests int32
	}{
		{"first exchange", 0, false, "shpat_a", 1},
		{"cached", time.Hour, false, "shpat_a", 1},
		{"still cached 6 minutes before expiry", 22*time.Hour + 53*time.Minute, false, "shpat_a", 1},
		{"renewed 5 minutes before expiry", 2 * time.Minute, false, "shpat_b", 2},
		{"dropped after a 401", 0, true, "shpat_c", 3},
	}
	for _, st := range steps {
		now.Add(int64(st.advance / time.Second))
		if st.inval {
			cc.Invalidate()
		}
		tok, err := cc.Token(ctx)
		if err != nil || tok != st.want || e.requests.Load() != st.requests {
			t.Fatalf("%s: token %q err %v after %d requests; want %q after %d", st.name, tok, err, e.requests.Load(), st.want, st.requests)
		}
	}
	f := e.forms[0]
	if f.Get("grant_type") != "client_credentials" || f.Get("client_id") != "cid" || f.Get("client_secret") != "csecret" {
		t.Fatalf("form %v", f)
	}
	if g := cc.Granted(); g.String() != "read_products,write_orders" {
		t.Fatalf("granted %q", g)
	}

	// Concurrent callers share one exchange.
	cc.Invalidate()
	e.mu.Lock()
	e.delay = 20 * time.Millisecond
	e.mu.Unlock()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := cc.Token(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.requests.Load(); n != 4 {
		t.Fatalf("%d exchanges, want 4 (one for 20 concurrent callers)", n)
	}

	// Refused credentials: an HTTP error, not transient.
	e.mu.Lock()
	e.status = 401
	e.mu.Unlock()
	cc.Invalidate()
	_, err = cc.Token(ctx)
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 401 || IsTransient(err) || strings.Contains(err.Error(), "csecret") {
		t.Fatalf("refused: %v", err)
	}
}

func TestNewClientCredentialsValidates(t *testing.T) {
	for _, cfg := range []ClientCredentialsConfig{
		{BaseURL: "example.myshopify.com", ClientID: "a", ClientSecret: "b"},
		{BaseURL: "https://example.myshopify.com", ClientSecret: "b"},
		{BaseURL: "https://example.myshopify.com", ClientID: "a"},
	} {
		if _, err := NewClientCredentials(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// TestClientWithClientCredentials runs API calls with a client-credentials
// token that the shop stops accepting: the client drops it and the next
// exchange's token is used.
func TestClientWithClientCredentials(t *testing.T) {
	e := newTokenEndpoint(t, map[string]any{"scope": "read_orders", "expires_in": 3600})
	f := newFakeShop(t, newFakeClock())
	f.token = "shpat_a"
	cc, err := NewClientCredentials(ClientCredentialsConfig{BaseURL: e.srv.URL, ClientID: "cid", ClientSecret: "cs"})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, f, func(c *Config) { c.Token = cc })
	ctx := context.Background()
	if _, err := c.GraphQL(ctx, GraphQLRequest{Query: "{ shop { name } }"}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.token = "shpat_b" // the shop revoked shpat_a
	f.mu.Unlock()
	if _, err := c.GraphQL(ctx, GraphQLRequest{Query: "{ shop { name } }"}); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if e.requests.Load() != 2 {
		t.Fatalf("%d exchanges, want 2", e.requests.Load())
	}
}

func TestExchangeCode(t *testing.T) {
	e := newTokenEndpoint(t, map[string]any{"scope": "write_orders,read_customers"})
	tok, err := ExchangeCode(context.Background(), nil, e.srv.URL, "cid", "cs", "thecode")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "shpat_a" || tok.Scopes.String() != "read_customers,write_orders" || tok.ExpiresIn != 0 {
		t.Fatalf("token %+v", tok)
	}
	if strings.Contains(tok.String(), "shpat_a") {
		t.Fatalf("String reveals the token: %s", tok)
	}
	f := e.forms[0]
	if f.Get("code") != "thecode" || f.Get("client_id") != "cid" || f.Get("client_secret") != "cs" || f.Has("grant_type") {
		t.Fatalf("form %v", f)
	}
	if _, err := ExchangeCode(context.Background(), nil, e.srv.URL, "cid", "cs", ""); err == nil {
		t.Fatal("no error without a code")
	}
	e.mu.Lock()
	e.status = 400
	e.mu.Unlock()
	if _, err := ExchangeCode(context.Background(), nil, e.srv.URL, "cid", "cs", "used"); err == nil || IsTransient(err) {
		t.Fatalf("refused code: %v", err)
	}
}
