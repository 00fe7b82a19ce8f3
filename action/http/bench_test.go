package http_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	httpaction "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// BenchmarkPerformJSON measures one JSON POST round trip over loopback,
// request encoding and response parsing included.
func BenchmarkPerformJSON(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true,"items":[{"id":1,"sku":"A-1","stock":5},{"id":2,"sku":"B-2","stock":0}],"total":2}`)
	}))
	defer srv.Close()
	p := httpaction.New(httpaction.Config{Network: allowLoopback})
	defer p.CloseIdleConnections()
	req := action.Request{Type: "http", Options: mustJSONb(b, `{"method":"post","url":"`+srv.URL+`/post","headers":{"X-Api-Key":"k"},"body":{"data":{"type":"event","attributes":{"metric":{"name":"Delayed"},"profile":{"$email":"a@example.com"}}}}}`)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Perform(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func mustJSONb(b *testing.B, s string) any {
	b.Helper()
	v, err := value.FromJSON([]byte(s))
	if err != nil {
		b.Fatal(err)
	}
	return v
}
