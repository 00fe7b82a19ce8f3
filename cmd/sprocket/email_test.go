package main

import (
	"strings"
	"testing"
)

// TestEmailConfig checks the email flags: the relay URL needs a sender,
// inbound mail needs a domain, and certificate and key go together.
func TestEmailConfig(t *testing.T) {
	t.Setenv("SPROCKET_SMTP_URL", "")
	for _, c := range []struct {
		name                                  string
		url, from, listen, domains, cert, key string
		wantErr                               string
		wantRelay                             bool
		wantDomains                           int
	}{
		{name: "nothing"},
		{name: "relay", url: "smtp://u:pw@127.0.0.1:2525?tls=none", from: "shop@example.com", wantRelay: true},
		{name: "relay without sender", url: "smtp://u:pw@127.0.0.1:2525", wantErr: "--email-from"},
		{name: "bad relay", url: "ftp://u:topsecret@x", from: "a@example.com", wantErr: "--smtp-url"},
		{name: "bad sender", url: "smtp://x", from: "not an address", wantErr: "sender address"},
		{name: "inbound", listen: "127.0.0.1:2525", domains: " in.example , other.example,", wantDomains: 2},
		{name: "inbound without domain", listen: "127.0.0.1:2525", wantErr: "--email-domain"},
		{name: "cert without key", cert: "c.pem", wantErr: "go together"},
		{name: "missing cert file", cert: "/nonexistent/c.pem", key: "/nonexistent/k.pem", wantErr: "--smtp-tls-cert"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, in, err := emailConfig(c.url, c.from, c.listen, c.domains, c.cert, c.key)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), "topsecret") {
					t.Fatalf("err = %v, want %q without the password", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (out.Relay != nil) != c.wantRelay || len(in.domains) != c.wantDomains {
				t.Errorf("relay %v domains %v", out.Relay, in.domains)
			}
		})
	}
}
