package server

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	actionhttp "github.com/sprocketrun/sprocket/action/http"
)

// TestRedactEncodings: a secret echoed by a remote in another case or in
// a common encoding is redacted like the raw value.
func TestRedactEncodings(t *testing.T) {
	svc, _ := openTestService(t, Config{})
	const secret = "Sk_live/Zq+9=Ab&c"
	if _, err := svc.PutSecret(context.Background(), "api_key", secret); err != nil {
		t.Fatal(err)
	}
	v := svc.Vault()
	b := []byte(secret)
	tests := []struct{ name, echoed string }{
		{"raw", secret},
		{"lower case", strings.ToLower(secret)},
		{"upper case", strings.ToUpper(secret)},
		{"base64", base64.StdEncoding.EncodeToString(b)},
		{"base64 raw", base64.RawStdEncoding.EncodeToString(b)},
		{"base64 url", base64.URLEncoding.EncodeToString(b)},
		{"query escaped", url.QueryEscape(secret)},
		{"path escaped", url.PathEscape(secret)},
		{"hex", hex.EncodeToString(b)},
		{"HEX", strings.ToUpper(hex.EncodeToString(b))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := v.Redact(`{"echo":"` + tc.echoed + `","n":1}`)
			if strings.Contains(got, tc.echoed) || !strings.Contains(got, actionhttp.RedactedValue) || !strings.HasSuffix(got, `","n":1}`) {
				t.Errorf("Redact = %s", got)
			}
		})
	}
	if got := v.Redact("nothing secret here"); got != "nothing secret here" {
		t.Errorf("Redact changed unrelated text: %s", got)
	}
}
