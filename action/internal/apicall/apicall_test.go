package apicall

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
)

func TestStatusError(t *testing.T) {
	tests := []struct {
		status int
		header http.Header
		kind   action.Kind
		want   string
	}{
		{200, nil, action.KindNone, ""},
		{204, nil, action.KindNone, ""},
		{429, http.Header{"Retry-After": {"30"}}, action.KindTransient, "Retry-After 30s"},
		{429, nil, action.KindTransient, "429"},
		{500, nil, action.KindTransient, "500"},
		{503, nil, action.KindTransient, "Service Unavailable"},
		{400, nil, action.KindFailed, "400"},
		{404, nil, action.KindFailed, "404"},
		{422, nil, action.KindFailed, "422"},
	}
	for _, tt := range tests {
		err := StatusError("x", &Response{Status: tt.status, Header: tt.header, Body: []byte(` {"error":"e"} `)})
		if action.Classify(err) != tt.kind || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%d: %v (kind %v), want %v %q", tt.status, err, action.Classify(err), tt.kind, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	future := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		v        string
		min, max time.Duration
	}{
		{"", 0, 0},
		{"2", 2 * time.Second, 2 * time.Second},
		{"0.5", 500 * time.Millisecond, 500 * time.Millisecond},
		{future, 80 * time.Second, 91 * time.Second},
		{"soon", 0, 0},
	}
	for _, tt := range tests {
		got := RetryAfter(http.Header{"Retry-After": {tt.v}})
		if got < tt.min || got > tt.max {
			t.Errorf("%q: %s, want %s..%s", tt.v, got, tt.min, tt.max)
		}
	}
}
