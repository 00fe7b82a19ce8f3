package smtp_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/ingress/smtp"
)

var benchMessage = crlf(`From: Ann <ann@example.com>
To: orders@in.sprocket.test
Subject: Benchmark
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B"

--B
Content-Type: text/html; charset=utf-8

<p>Hello <b>there</b></p>
--B
Content-Type: text/csv; name="a.csv"
Content-Disposition: attachment; filename="a.csv"
Content-Transfer-Encoding: base64

` + wrap76(base64.StdEncoding.EncodeToString([]byte(strings.Repeat("sku,qty\n", 512)))) + `
--B--
`)

// BenchmarkReceive measures inbound messages end to end: an SMTP
// transaction over loopback, MIME parsing and the event committed to
// SQLite before 250, one connection per message.
func BenchmarkReceive(b *testing.B) {
	in := start(b, nil)
	b.SetBytes(int64(len(benchMessage)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := send(in.addr, nil, "ann@example.com", []string{"orders@in.sprocket.test"}, benchMessage); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures MIME parsing into the event data alone.
func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(benchMessage)))
	for i := 0; i < b.N; i++ {
		if _, err := smtp.Parse(benchMessage, smtp.Envelope{Recipients: []string{"orders@in.sprocket.test"}, ReceivedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
}

func wrap76(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 76 {
		b.WriteString(s[i:min(i+76, len(s))])
		b.WriteString("\n")
	}
	return b.String()
}
