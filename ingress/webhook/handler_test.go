package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	hookAuto   = "d166806f-1f79-4283-b4b4-80a38ee04431"
	hookFull   = "0f3c2b1e-7d41-4c55-9a0e-2f1d8b6e9c10"
	hookSigned = "5b1d2c3e-4f50-4a61-8b72-9c83d4e5f601"
	hookBad    = "bad-topic"
	testReqID  = "a8723f25-20ff-4b89-a46c-73fc387a16d3"
	testSecret = "some-secret-value"
)

type memRegistry map[string]Webhook

func (m memRegistry) Lookup(_ context.Context, id string) (Webhook, error) {
	if id == "explode" {
		return Webhook{}, errors.New("database unavailable")
	}
	wh, ok := m[id]
	if !ok {
		return Webhook{}, ErrNotFound
	}
	return wh, nil
}

type accepted struct {
	topic string
	data  any
	meta  Meta
}

type recordingSink struct {
	mu     sync.Mutex
	events []accepted
	err    error
}

func (s *recordingSink) Accept(_ context.Context, topic string, data any, meta Meta) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	s.events = append(s.events, accepted{topic, data, meta})
	return "evt-1", nil
}

func (s *recordingSink) all() []accepted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]accepted(nil), s.events...)
}

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newTestHandler(t *testing.T, mod func(*Options)) (*Handler, *recordingSink) {
	t.Helper()
	sink := &recordingSink{}
	opts := Options{
		Registry: memRegistry{
			hookAuto:   {ID: hookAuto, Topic: "user/webhook/test"},
			hookFull:   {ID: hookFull, Topic: "user/webhook/full", Mode: ModeFullRequest},
			hookSigned: {ID: hookSigned, Topic: "user/webhook/signed", Secret: testSecret},
			hookBad:    {ID: hookBad, Topic: "shopify/orders/create"},
		},
		Sink:         sink,
		NewRequestID: func() string { return testReqID },
		Now:          func() time.Time { return testNow },
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&opts)
	}
	h, err := NewHandler(opts)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h, sink
}

// multipartBody is a form as a browser sends it: three fields using the
// nested names of the docs' sample, a file, and a file input left empty.
const multipartBoundary = "XyZ"

var multipartBody = "--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"key\"\r\n\r\nvalue\r\n" +
	"--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"hash[key]\"\r\n\r\nhash_value\r\n" +
	"--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"array[]\"\r\n\r\narray_value\r\n" +
	"--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"file_upload\"; filename=\"C:\\\\docs\\\\tiny.png\"\r\n" +
	"Content-Type: image/png\r\n\r\n\x89PNG\r\n" +
	"--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n" +
	"Content-Type: application/octet-stream\r\n\r\n\r\n" +
	"--XyZ--\r\n"

// TestAutoMode covers platform/webhooks.md, "Event data mode" › "Auto
// (default)", and "File uploads".
func TestAutoMode(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		query       string
		want        string
	}{
		// "event data is the result of merging an interpreted hash of
		// parameters from the request body with ... the query string"
		{"json object", "application/json", `{"b":1,"a":{"x":[1,2.5,"s",null,true]}}`, "", `{"b":1,"a":{"x":[1,2.5,"s",null,true]}}`},
		{"json keeps big integers and float form", "application/json", `{"n":12345678901234567890,"f":1.0,"e":1e3}`, "", `{"n":12345678901234567890,"f":1.0,"e":1000.0}`},
		{"json with charset", "application/json; charset=utf-8", `{"a":1}`, "", `{"a":1}`},
		{"json vendor type", "application/vnd.api+json", `{"a":1}`, "", `{"a":1}`},
		{"json merged with query, query wins", "application/json", `{"a":1,"b":2}`, "b=q&c=3", `{"a":1,"b":"q","c":"3"}`},
		{"json array is wrapped", "application/json", `[1,2]`, "", `{"_json":[1,2]}`},
		{"json string is wrapped", "application/json", `"hi"`, "", `{"_json":"hi"}`},
		{"form", "application/x-www-form-urlencoded", "customer_id=123&customer_id_signature=abc", "", `{"customer_id":"123","customer_id_signature":"abc"}`},
		{"nested form", "application/x-www-form-urlencoded", "contact[Name]=Jo&contact[Phone+Number]=555&tags[]=a&tags[]=b", "", `{"contact":{"Name":"Jo","Phone Number":"555"},"tags":["a","b"]}`},
		{"form merged with query", "application/x-www-form-urlencoded", "foo=bar", "foo=baz&x[y]=1", `{"foo":"baz","x":{"y":"1"}}`},
		{"multipart with a file", "multipart/form-data; boundary=" + multipartBoundary, multipartBody, "",
			`{"key":"value","hash":{"key":"hash_value"},"array":["array_value"],"file_upload":{"content_base64":"iVBORw==","mime_type":"image/png","name":"tiny.png","size":4}}`},
		// "If no parameters from the request body are found, or if parsing
		// the request body fails for any reason, event data is set to
		// parameters from the request query string."
		{"invalid json falls back to query", "application/json", `{"a":`, "a=1", `{"a":"1"}`},
		{"empty json object falls back to query", "application/json", `{}`, "a=1", `{"a":"1"}`},
		// Ruby's JSON.parse refuses nesting deeper than 100 levels.
		{"json nested 101 deep falls back to query", "application/json", `{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "q=1", `{"q":"1"}`},
		{"json nested 100 deep", "application/json", `{"a":` + strings.Repeat("[", 99) + strings.Repeat("]", 99) + `}`, "", `{"a":` + strings.Repeat("[", 99) + strings.Repeat("]", 99) + `}`},
		{"brackets inside strings do not nest", "application/json", `{"a":"` + strings.Repeat("[", 200) + `\"{"}`, "", `{"a":"` + strings.Repeat("[", 200) + `\"{"}`},
		{"plain text with query", "text/plain", "hello", "a=1&b[]=2", `{"a":"1","b":["2"]}`},
		{"conflicting form falls back to query", "application/x-www-form-urlencoded", "a=1&a[b]=2", "q=1", `{"q":"1"}`},
		{"empty body with query", "", "", "key=value&hash[key]=hash_value&array[]=array_value", `{"key":"value","hash":{"key":"hash_value"},"array":["array_value"]}`},
		// "If no structured parameters are found from either ..., event data
		// is set to the request body in string form. If the string is blank
		// ..., event data is set to null."
		{"plain text", "text/plain", "hello\nworld", "", `"hello\nworld"`},
		{"xml", "application/xml", "<a>1</a>", "", `"<a>1</a>"`},
		{"invalid json", "application/json", `{"a":`, "", `"{\"a\":"`},
		{"empty json object", "application/json", `{}`, "", `"{}"`},
		{"blank text", "text/plain", " \n\t ", "", `null`},
		{"empty body", "", "", "", `null`},
		{"empty json body", "application/json", "", "", `null`},
		{"query without parameters", "text/plain", "", "&&", `null`},
		// Requests without a Content-Type: JSON or form bodies are sniffed.
		{"sniffed json", "", `{"a":[1]}`, "", `{"a":[1]}`},
		{"sniffed form", "", "a=1&b=2", "", `{"a":"1","b":"2"}`},
		{"unsniffable text", "", "hello world", "", `"hello world"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, sink := newTestHandler(t, nil)
			target := "/webhooks/" + hookAuto
			if tt.query != "" {
				target += "?" + tt.query
			}
			req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status = %d (%s), want 204", rec.Code, rec.Body)
			}
			events := sink.all()
			if len(events) != 1 {
				t.Fatalf("%d events, want 1", len(events))
			}
			if events[0].topic != "user/webhook/test" {
				t.Errorf("topic = %q", events[0].topic)
			}
			if got := toJSON(t, events[0].data); got != tt.want {
				t.Errorf("data = %s\nwant   %s", got, tt.want)
			}
		})
	}
}

// TestFullRequestMode covers platform/webhooks.md, "Full request", through
// a real HTTP server so that headers are what net/http really delivers.
func TestFullRequestMode(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		query       string
		headers     [][2]string
		want        string
	}{
		{
			name:        "multipart like the docs' sample",
			contentType: "multipart/form-data; boundary=" + multipartBoundary,
			body:        multipartBody,
			query:       "key=value&hash[key]=hash_value&array[]=array_value",
			headers:     [][2]string{{"X-Custom", "Value"}, {"X-Foo", "Bar"}, {"X-Foo", "Baz"}},
			want: `{"body_base64":"` + base64.StdEncoding.EncodeToString([]byte(multipartBody)) + `",` +
				`"body":{"key":"value","hash":{"key":"hash_value"},"array":["array_value"],"file_upload":{"content_base64":"iVBORw==","mime_type":"image/png","name":"tiny.png","size":4}},` +
				`"client_ip":"127.0.0.1",` +
				`"headers":{"content-length":["` + itoa(len(multipartBody)) + `"],"content-type":["multipart/form-data; boundary=XyZ"],"host":["hooks.example"],"user-agent":["test"],"x-custom":["Value"],"x-foo":["Bar,Baz"]},` +
				`"mime_type":"multipart/form-data",` +
				`"query_string":"key=value&hash[key]=hash_value&array[]=array_value",` +
				`"query":{"key":"value","hash":{"key":"hash_value"},"array":["array_value"]},` +
				`"request_id":"` + testReqID + `","webhook_id":"` + hookFull + `"}`,
		},
		{
			name:        "json",
			contentType: "Application/JSON; charset=utf-8",
			body:        `{"a":1}`,
			want: `{"body_base64":"eyJhIjoxfQ==","body":{"a":1},"client_ip":"127.0.0.1",` +
				`"headers":{"content-length":["7"],"content-type":["Application/JSON; charset=utf-8"],"host":["hooks.example"],"user-agent":["test"]},` +
				`"mime_type":"application/json","query_string":null,"query":null,"request_id":"` + testReqID + `","webhook_id":"` + hookFull + `"}`,
		},
		{
			name:        "unparsable body and query",
			contentType: "text/plain",
			body:        "hi",
			query:       "a=%zz",
			want: `{"body_base64":"aGk=","body":null,"client_ip":"127.0.0.1",` +
				`"headers":{"content-length":["2"],"content-type":["text/plain"],"host":["hooks.example"],"user-agent":["test"]},` +
				`"mime_type":"text/plain","query_string":"a=%zz","query":null,"request_id":"` + testReqID + `","webhook_id":"` + hookFull + `"}`,
		},
		{
			name: "empty body without content type",
			want: `{"body_base64":"","body":null,"client_ip":"127.0.0.1",` +
				`"headers":{"content-length":["0"],"host":["hooks.example"],"user-agent":["test"]},` +
				`"mime_type":null,"query_string":null,"query":null,"request_id":"` + testReqID + `","webhook_id":"` + hookFull + `"}`,
		},
		{
			name:        "empty form body is an empty hash",
			contentType: "application/x-www-form-urlencoded",
			want: `{"body_base64":"","body":{},"client_ip":"127.0.0.1",` +
				`"headers":{"content-length":["0"],"content-type":["application/x-www-form-urlencoded"],"host":["hooks.example"],"user-agent":["test"]},` +
				`"mime_type":"application/x-www-form-urlencoded","query_string":null,"query":null,"request_id":"` + testReqID + `","webhook_id":"` + hookFull + `"}`,
		},
	}
	h, sink := newTestHandler(t, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(sink.all())
			url := srv.URL + "/webhooks/" + hookFull
			if tt.query != "" {
				url += "?" + tt.query
			}
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "hooks.example"
			req.Header.Set("User-Agent", "test")
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			for _, kv := range tt.headers {
				req.Header.Add(kv[0], kv[1])
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("status = %d, want 204", resp.StatusCode)
			}
			events := sink.all()[before:]
			if len(events) != 1 {
				t.Fatalf("%d events, want 1", len(events))
			}
			if got := toJSON(t, events[0].data); got != tt.want {
				t.Errorf("data = %s\nwant   %s", got, tt.want)
			}
			if m := events[0].meta; m.RequestID != testReqID || m.WebhookID != hookFull || m.ClientIP != "127.0.0.1" || !m.ReceivedAt.Equal(testNow) {
				t.Errorf("meta = %+v", m)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

type responseCase struct {
	name       string
	method     string
	path       string
	headers    map[string]string
	body       string
	wantStatus int
	wantEvents int
	wantHeader map[string]string // "" value means the header must be absent
	wantError  string            // substring of the JSON error message
}

func runResponseCases(t *testing.T, h *Handler, sink *recordingSink, tests []responseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(sink.all())
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d (%s), want %d", rec.Code, rec.Body, tt.wantStatus)
			}
			if got := len(sink.all()) - before; got != tt.wantEvents {
				t.Errorf("%d events, want %d", got, tt.wantEvents)
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if rec.Header().Get("X-Request-Id") != testReqID {
				t.Errorf("X-Request-Id = %q", rec.Header().Get("X-Request-Id"))
			}
			if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("Access-Control-Allow-Origin = %q", rec.Header().Get("Access-Control-Allow-Origin"))
			}
			if tt.wantError != "" {
				var e struct {
					Error     string `json:"error"`
					RequestID string `json:"request_id"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
					t.Fatalf("error body %q is not JSON: %v", rec.Body, err)
				}
				if !strings.Contains(e.Error, tt.wantError) || e.RequestID != testReqID {
					t.Errorf("error body = %+v, want message containing %q", e, tt.wantError)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type = %q", ct)
				}
			}
		})
	}
}

// TestResponses covers platform/webhooks.md "Requests", "Client-specific
// endpoints", "Responses" and "Webhook request ID", plus Sprocket's 404.
func TestResponses(t *testing.T) {
	h, sink := newTestHandler(t, nil)
	p := "/webhooks/" + hookAuto
	runResponseCases(t, h, sink, []responseCase{
		{name: "post", method: "POST", path: p, body: "a=1", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			wantStatus: 204, wantEvents: 1, wantHeader: map[string]string{"Access-Control-Expose-Headers": "X-Request-Id"}},
		{name: "trailing slash", method: "POST", path: p + "/", wantStatus: 204, wantEvents: 1},
		{name: "get", method: "GET", path: p, wantStatus: 405, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}, wantError: "not allowed"},
		{name: "put", method: "PUT", path: p, wantStatus: 405, wantError: "not allowed"},
		{name: "head", method: "HEAD", path: p, wantStatus: 405},
		{name: "preflight", method: "OPTIONS", path: p,
			headers:    map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-custom"},
			wantStatus: 204,
			wantHeader: map[string]string{"Access-Control-Allow-Methods": "POST, OPTIONS", "Access-Control-Allow-Headers": "content-type,x-custom", "Access-Control-Max-Age": "86400"}},
		{name: "unknown webhook", method: "POST", path: "/webhooks/00000000-0000-0000-0000-000000000000", wantStatus: 404, wantError: "webhook not found"},
		{name: "unknown client suffix", method: "POST", path: p + "/zapier", wantStatus: 404, wantError: "no webhook"},
		{name: "outside the prefix", method: "POST", path: "/hooks/" + hookAuto, wantStatus: 404},
		{name: "too many segments", method: "POST", path: p + "/asana/x", wantStatus: 404},
		{name: "lookup failure", method: "POST", path: "/webhooks/explode", wantStatus: 503, wantError: "try again"},
		{name: "non-user topic", method: "POST", path: "/webhooks/" + hookBad, wantStatus: 500, wantError: "misconfigured"},
		{name: "mailchimp get", method: "GET", path: p + "/mailchimp", wantStatus: 200},
		{name: "mailchimp post", method: "POST", path: p + "/mailchimp", body: "type=subscribe", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, wantStatus: 200, wantEvents: 1},
		{name: "mailchimp get unknown", method: "GET", path: "/webhooks/nope/mailchimp", wantStatus: 404},
		{name: "mailchimp preflight", method: "OPTIONS", path: p + "/mailchimp", wantStatus: 204, wantHeader: map[string]string{"Access-Control-Allow-Methods": "GET, POST, OPTIONS"}},
		{name: "ship24 head", method: "HEAD", path: p + "/ship24", wantStatus: 200},
		{name: "ship24 post", method: "POST", path: p + "/ship24", body: `{"a":1}`, wantStatus: 204, wantEvents: 1},
		{name: "ship24 get", method: "GET", path: p + "/ship24", wantStatus: 405, wantHeader: map[string]string{"Allow": "HEAD, POST, OPTIONS"}},
		{name: "asana handshake", method: "POST", path: p + "/asana", headers: map[string]string{"X-Hook-Secret": "s3cr3t"}, wantStatus: 204, wantEvents: 1, wantHeader: map[string]string{"X-Hook-Secret": "s3cr3t"}},
		{name: "no echo without asana", method: "POST", path: p, headers: map[string]string{"X-Hook-Secret": "s3cr3t"}, wantStatus: 204, wantEvents: 1, wantHeader: map[string]string{"X-Hook-Secret": ""}},
	})
	for _, ev := range sink.all() {
		if ev.meta.RequestID != testReqID {
			t.Errorf("event meta request id = %q", ev.meta.RequestID)
		}
	}
}

func TestConcealUnknown(t *testing.T) {
	h, sink := newTestHandler(t, func(o *Options) { o.ConcealUnknown = true })
	runResponseCases(t, h, sink, []responseCase{
		{name: "unknown post", method: "POST", path: "/webhooks/00000000-0000-0000-0000-000000000000", body: "a=1", wantStatus: 204},
		{name: "unknown mailchimp", method: "GET", path: "/webhooks/nope/mailchimp", wantStatus: 200},
		{name: "known post", method: "POST", path: "/webhooks/" + hookAuto, wantStatus: 204, wantEvents: 1},
	})
}

// TestDeepJSONDoesNotCrash sends a body of a million "[": it must be treated
// as unparsable (and kept as the raw string), not exhaust the stack.
func TestDeepJSONDoesNotCrash(t *testing.T) {
	h, sink := newTestHandler(t, nil)
	body := strings.Repeat("[", 1<<20)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/"+hookAuto, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status = %d", rec.Code)
	}
	if ev := sink.all(); len(ev) != 1 || ev[0].data != body {
		t.Fatalf("events = %d, want one with the raw body", len(ev))
	}
}

func TestSinkFailure(t *testing.T) {
	h, sink := newTestHandler(t, nil)
	sink.err = errors.New("queue full")
	runResponseCases(t, h, sink, []responseCase{
		{name: "sink error", method: "POST", path: "/webhooks/" + hookAuto, body: "a=1", wantStatus: 503, wantError: "could not be recorded"},
	})
}

// chunkedReader hides its length so that the request has no Content-Length.
type chunkedReader struct{ r io.Reader }

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestBodyLimit(t *testing.T) {
	const limit = 64
	h, sink := newTestHandler(t, func(o *Options) { o.MaxBodyBytes = limit })
	tests := []struct {
		name    string
		size    int
		chunked bool
		want    int
	}{
		{"at the limit", limit, false, 204},
		{"over the limit", limit + 1, false, 413},
		{"chunked at the limit", limit, true, 204},
		{"chunked over the limit", limit + 1, true, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(sink.all())
			var body io.Reader = bytes.NewReader(bytes.Repeat([]byte("x"), tt.size))
			if tt.chunked {
				body = chunkedReader{body}
			}
			req := httptest.NewRequest(http.MethodPost, "/webhooks/"+hookAuto, body)
			if tt.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			wantEvents := 0
			if tt.want == 204 {
				wantEvents = 1
			} else if !strings.Contains(rec.Body.String(), "exceeds the limit of 64 bytes") {
				t.Errorf("413 body = %s", rec.Body)
			}
			if got := len(sink.all()) - before; got != wantEvents {
				t.Errorf("%d events, want %d", got, wantEvents)
			}
		})
	}
}

func TestSignature(t *testing.T) {
	body := `{"customer_id":123}`
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(body))
	sum := mac.Sum(nil)
	hexSig := hex.EncodeToString(sum)
	h, sink := newTestHandler(t, func(o *Options) {
		reg := o.Registry.(memRegistry)
		reg["custom-header"] = Webhook{ID: "custom-header", Topic: "user/webhook/signed", Secret: testSecret, SignatureHeader: "X-Hub-Signature-256"}
	})
	p := "/webhooks/" + hookSigned
	json := map[string]string{"Content-Type": "application/json"}
	with := func(k, v string) map[string]string {
		return map[string]string{"Content-Type": "application/json", k: v}
	}
	runResponseCases(t, h, sink, []responseCase{
		{name: "hex", method: "POST", path: p, body: body, headers: with(DefaultSignatureHeader, hexSig), wantStatus: 204, wantEvents: 1},
		{name: "upper hex", method: "POST", path: p, body: body, headers: with(DefaultSignatureHeader, strings.ToUpper(hexSig)), wantStatus: 204, wantEvents: 1},
		{name: "base64", method: "POST", path: p, body: body, headers: with(DefaultSignatureHeader, base64.StdEncoding.EncodeToString(sum)), wantStatus: 204, wantEvents: 1},
		{name: "base64url unpadded", method: "POST", path: p, body: body, headers: with(DefaultSignatureHeader, base64.RawURLEncoding.EncodeToString(sum)), wantStatus: 204, wantEvents: 1},
		{name: "sha256= prefix", method: "POST", path: p, body: body, headers: with(DefaultSignatureHeader, "sha256="+hexSig), wantStatus: 204, wantEvents: 1},
		{name: "custom header", method: "POST", path: "/webhooks/custom-header", body: body, headers: with("X-Hub-Signature-256", "sha256="+hexSig), wantStatus: 204, wantEvents: 1},
		{name: "custom header, default header sent", method: "POST", path: "/webhooks/custom-header", body: body, headers: with(DefaultSignatureHeader, hexSig), wantStatus: 401, wantError: "missing signature header X-Hub-Signature-256"},
		{name: "missing", method: "POST", path: p, body: body, headers: json, wantStatus: 401, wantError: "missing signature header " + DefaultSignatureHeader},
		{name: "altered body", method: "POST", path: p, body: `{"customer_id":124}`, headers: with(DefaultSignatureHeader, hexSig), wantStatus: 401, wantError: "does not match"},
		{name: "wrong secret", method: "POST", path: p, body: body, headers: with(DefaultSignatureHeader, hex.EncodeToString(hmacOf("other", body))), wantStatus: 401, wantError: "does not match"},
		{name: "truncated", method: "POST", path: p, body: body, headers: with(DefaultSignatureHeader, hexSig[:32]), wantStatus: 401, wantError: "does not match"},
		{name: "garbage", method: "POST", path: p, body: body, headers: with(DefaultSignatureHeader, "not a signature"), wantStatus: 401, wantError: "does not match"},
		{name: "unsigned webhook ignores header", method: "POST", path: "/webhooks/" + hookAuto, body: body, headers: with(DefaultSignatureHeader, "junk"), wantStatus: 204, wantEvents: 1},
	})
}

func hmacOf(secret, body string) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return mac.Sum(nil)
}

func TestParseDataMode(t *testing.T) {
	tests := []struct {
		in      string
		want    DataMode
		wantErr bool
	}{
		{"", ModeAuto, false},
		{"auto", ModeAuto, false},
		{"Auto", ModeAuto, false},
		{"Full request", ModeFullRequest, false},
		{"full_request", ModeFullRequest, false},
		{"full-request", ModeFullRequest, false},
		{"raw", ModeAuto, true},
	}
	for _, tt := range tests {
		got, err := ParseDataMode(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDataMode(%q) = %v, %v", tt.in, got, err)
		}
		if err == nil {
			if back, _ := ParseDataMode(got.String()); back != got {
				t.Errorf("String() of %v does not parse back", got)
			}
		}
	}
}

func TestNewUUID(t *testing.T) {
	a, b := newUUID(), newUUID()
	if a == b {
		t.Fatal("two UUIDs are equal")
	}
	if len(a) != 36 || a[14] != '4' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Fatalf("%q is not a version 4 UUID", a)
	}
}

func TestNewHandlerRequiresDependencies(t *testing.T) {
	if _, err := NewHandler(Options{Sink: &recordingSink{}}); err == nil {
		t.Error("NewHandler without a registry succeeded")
	}
	if _, err := NewHandler(Options{Registry: memRegistry{}}); err == nil {
		t.Error("NewHandler without a sink succeeded")
	}
}

func BenchmarkServeJSON(b *testing.B) {
	sink := &recordingSink{}
	h, err := NewHandler(Options{
		Registry: memRegistry{hookAuto: {ID: hookAuto, Topic: "user/webhook/test"}},
		Sink:     sink,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"order":{"id":1234567890,"email":"a@example.com","line_items":[{"sku":"A","quantity":2,"price":"10.00"}]}}`)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/"+hookAuto, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("status %d", rec.Code)
		}
		sink.events = sink.events[:0]
	}
}
