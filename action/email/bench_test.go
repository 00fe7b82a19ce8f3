package email_test

import (
	"context"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/email"
	"github.com/sprocketrun/sprocket/internal/smtptest"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// BenchmarkSend measures one email action: rendering the message (HTML,
// generated text part, one attachment) and delivering it to an SMTP
// server on loopback, one connection per message.
func BenchmarkSend(b *testing.B) {
	s, err := smtptest.Start(smtptest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	relay, err := email.ParseURL(s.URL())
	if err != nil {
		b.Fatal(err)
	}
	p, err := email.New(email.Config{Relay: relay, From: sender, Files: files()})
	if err != nil {
		b.Fatal(err)
	}
	o, err := value.FromJSON([]byte(`{"to": "a@example.com", "subject": "Report", "body": "<h1>Report</h1><p>All <b>good</b>.</p>", "attachments": {"report.csv": "sku,qty\nA,1\n"}}`))
	if err != nil {
		b.Fatal(err)
	}
	req := action.Request{Type: email.Type, Options: o}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Perform(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
