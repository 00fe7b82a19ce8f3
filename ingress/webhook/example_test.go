package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sprocketrun/sprocket/ingress/webhook"
	"github.com/sprocketrun/sprocket/liquid/value"
)

type registry map[string]webhook.Webhook

func (r registry) Lookup(_ context.Context, id string) (webhook.Webhook, error) {
	if wh, ok := r[id]; ok {
		return wh, nil
	}
	return webhook.Webhook{}, webhook.ErrNotFound
}

type printSink struct{}

func (printSink) Accept(_ context.Context, topic string, data any, meta webhook.Meta) (string, error) {
	b, err := value.ToJSON(data)
	if err != nil {
		return "", err
	}
	fmt.Printf("%s %s (request %s)\n", topic, b, meta.RequestID)
	return "event-1", nil
}

func ExampleNewHandler() {
	h, err := webhook.NewHandler(webhook.Options{
		Registry:     registry{"abc": {ID: "abc", Topic: "user/webhook/test"}},
		Sink:         printSink{},
		NewRequestID: func() string { return "req-1" },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle(webhook.DefaultPrefix, h)

	req := httptest.NewRequest("POST", "/webhooks/abc?source=form", strings.NewReader(`{"customer_id":123}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("X-Request-Id"))
	// Output:
	// user/webhook/test {"customer_id":123,"source":"form"} (request req-1)
	// 204 req-1
}
