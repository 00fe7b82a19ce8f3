package http_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	httpaction "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/liquid/value"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := value.FromJSON([]byte(s))
	if err != nil {
		t.Fatalf("FromJSON(%s): %v", s, err)
	}
	return v
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := value.ToJSON(v)
	if err != nil {
		t.Fatalf("ToJSON: %v", err)
	}
	return string(b)
}

// TestValidate covers the option rules of core/actions/http.md.
func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		options   string
		wantField string // "" with wantMsg "" means valid
		wantMsg   string
	}{
		{"minimal get", `{"method":"get","url":"https://example.com"}`, "", ""},
		{"upper-case method", `{"method":"POST","url":"http://example.com/x","body":""}`, "", ""},
		{"every option", `{"method":"post","url":"https://example.com","body":{"a":1},"headers":{"X-A":"1","X-B":["1",2]},"follow_redirects":false,"proxy":"socks5://u:p@proxy.example:1080","verify":false,"error_on_5xx":true,"files":{"a.txt":"x"}}`, "", ""},
		{"library string booleans", `{"method":"get","url":"https://example.com","verify":"true","error_on_5xx":"true"}`, "", ""},
		{"unknown options ignored", `{"method":"get","url":"https://example.com","meta":{"order_number":1}}`, "", ""},
		{"null optional options", `{"method":"get","url":"https://example.com","headers":null,"proxy":null,"files":null,"verify":null}`, "", ""},
		{"not a hash", `["get","https://example.com"]`, "", "must be a hash of request options, got Array"},
		{"missing method", `{"url":"https://example.com"}`, "method", "is required"},
		{"method not string", `{"method":1,"url":"https://example.com"}`, "method", "must be a string, got Integer"},
		{"unknown method", `{"method":"trace","url":"https://example.com"}`, "method", `must be one of options, head, get, post, put, patch, delete, got "trace"`},
		{"missing url", `{"method":"get"}`, "url", "is required"},
		{"url not string", `{"method":"get","url":["https://example.com"]}`, "url", "must be a string, got Array"},
		{"ftp url", `{"method":"get","url":"ftp://example.com/file"}`, "url", "must start with http://, https://"},
		{"relative url", `{"method":"get","url":"/admin/orders.json"}`, "url", "must start with"},
		{"url without host", `{"method":"get","url":"https:///path"}`, "url", "has no host"},
		{"url with space", `{"method":"get","url":"https://example.com/a b"}`, "url", "must not contain whitespace"},
		{"url with control char", "{\"method\":\"get\",\"url\":\"https://example.com/\\u0001\"}", "url", "is not a valid URL"},
		{"post without body", `{"method":"post","url":"https://example.com"}`, "body", "is required for post requests"},
		{"delete without body", `{"method":"delete","url":"https://example.com"}`, "body", "is required for delete requests"},
		{"headers not hash", `{"method":"get","url":"https://example.com","headers":"X-A: 1"}`, "headers", "must be a hash"},
		{"bad header name", `{"method":"get","url":"https://example.com","headers":{"X A":"1"}}`, "headers.X A", "is not a valid header name"},
		{"header value newline", `{"method":"get","url":"https://example.com","headers":{"X-A":"1\r\nX-B: 2"}}`, "headers.X-A", "must not contain line breaks"},
		{"header value hash", `{"method":"get","url":"https://example.com","headers":{"X-A":{"b":1}}}`, "headers.X-A", "must be a string, got Hash"},
		{"verify not boolean", `{"method":"get","url":"https://example.com","verify":"yes"}`, "verify", `must be true or false, got "yes"`},
		{"follow_redirects number", `{"method":"get","url":"https://example.com","follow_redirects":1}`, "follow_redirects", "must be true or false, got Integer"},
		{"error_on_5xx array", `{"method":"get","url":"https://example.com","error_on_5xx":[]}`, "error_on_5xx", "must be true or false"},
		{"proxy scheme", `{"method":"get","url":"https://example.com","proxy":"ftp://proxy.example"}`, "proxy", "must start with http://, https://, socks5://"},
		{"proxy not string", `{"method":"get","url":"https://example.com","proxy":true}`, "proxy", "must be a string"},
		{"files not hash", `{"method":"post","url":"https://example.com","body":{},"files":["a.txt"]}`, "files", "must be a hash of filenames"},
		{"files unknown generator", `{"method":"post","url":"https://example.com","body":{},"files":{"a.csv":{"csv":[]}}}`, "files.a.csv.csv", `unknown file generator "csv"`},
		{"files two keys", `{"method":"post","url":"https://example.com","body":{},"files":{"a":{"url":"https://x","base64":""}}}`, "files.a", "must be a string or a hash with one key"},
		{"files bad base64", `{"method":"post","url":"https://example.com","body":{},"files":{"a":{"base64":"!!!"}}}`, "files.a.base64", "is not valid base64"},
		{"files url scheme", `{"method":"post","url":"https://example.com","body":{},"files":{"a":{"url":"file:///etc/passwd"}}}`, "files.a.url", "must start with http:// or https://"},
		{"files pdf without html", `{"method":"post","url":"https://example.com","body":{},"files":{"a.pdf":{"pdf":{}}}}`, "files.a.pdf.pdf.html", "is required"},
		{"files zip nested bad", `{"method":"post","url":"https://example.com","body":{},"files":{"a.zip":{"zip":{"files":{"b.txt":5}}}}}`, "files.a.zip.zip.files.b.txt", "must be a string or a hash"},
		{"files zip without files", `{"method":"post","url":"https://example.com","body":{},"files":{"a.zip":{"zip":{}}}}`, "files.a.zip.zip.files", "is required"},
		{"files with string body", `{"method":"post","url":"https://example.com","body":"a=1","files":{"a.txt":"x"}}`, "body", "must be a hash of form fields when files are given"},
		{"files with array body", `{"method":"post","url":"https://example.com","body":[1],"files":{"a.txt":"x"}}`, "body", "must be a hash of form fields"},
		{"form array not pairs", `{"method":"post","url":"https://example.com","headers":{"Content-Type":"application/x-www-form-urlencoded"},"body":[["a",1],"b"]}`, "body.1", "[name, value] pairs"},
	}
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	r := action.NewRegistry()
	if err := r.Register(httpaction.Type, p); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Validate(httpaction.Type, mustJSON(t, tt.options))
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *action.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate error = %v (%T), want a *ValidationError", err, err)
			}
			if ve.Field != tt.wantField || ve.Type != "http" {
				t.Errorf("Type, Field = %q, %q; want http, %q", ve.Type, ve.Field, tt.wantField)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if action.Retryable(err) {
				t.Error("validation errors must not be retried")
			}
		})
	}
}
