package appevents_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/integrations/appevents"
)

func sum(key, msg string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := `{"event":"review/created"}`
	svixKey := []byte("0123456789abcdef0123456789abcdef")
	svixSecret := "whsec_" + base64.StdEncoding.EncodeToString(svixKey)
	svix := func(ts time.Time, b string) http.Header {
		s := strconv.FormatInt(ts.Unix(), 10)
		sig := base64.StdEncoding.EncodeToString(sum(string(svixKey), "msg_1."+s+"."+b))
		return http.Header{"Svix-Id": {"msg_1"}, "Svix-Timestamp": {s}, "Svix-Signature": {"v1,bogus v1," + sig}}
	}
	tests := []struct {
		name, app, secret string
		h                 http.Header
		body              string
		ok                bool
	}{
		{"judgeme hex", "judgeme", "k", http.Header{"Judgeme-Hmac-Sha256": {hex.EncodeToString(sum("k", body))}}, body, true},
		{"judgeme base64", "judgeme", "k", http.Header{"Judgeme-Hmac-Sha256": {base64.StdEncoding.EncodeToString(sum("k", body))}}, body, true},
		{"judgeme wrong key", "judgeme", "k", http.Header{"Judgeme-Hmac-Sha256": {hex.EncodeToString(sum("other", body))}}, body, false},
		{"judgeme tampered", "judgeme", "k", http.Header{"Judgeme-Hmac-Sha256": {hex.EncodeToString(sum("k", body))}}, body + " ", false},
		{"flow", "flow", "app", http.Header{"X-Shopify-Hmac-Sha256": {base64.StdEncoding.EncodeToString(sum("app", body))}}, body, true},
		{"flow missing", "flow", "app", http.Header{}, body, false},
		{"locksmith", "locksmith", "s", http.Header{"X-Sprocket-Hmac-Sha256": {base64.StdEncoding.EncodeToString(sum("s", body))}}, body, true},
		{"no secret configured", "locksmith", "", http.Header{"X-Sprocket-Hmac-Sha256": {base64.StdEncoding.EncodeToString(sum("", body))}}, body, false},
		{"appstle svix", "appstle_subscriptions", svixSecret, svix(now, body), body, true},
		{"appstle svix old", "appstle_subscriptions", svixSecret, svix(now.Add(-10*time.Minute), body), body, false},
		{"appstle svix tampered", "appstle_subscriptions", svixSecret, svix(now, body), body + "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := appevents.Verify(tt.app, tt.secret, tt.h, []byte(tt.body), now)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, appevents.ErrSignature)) {
				t.Fatalf("got %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		app, rest, body string
		topic, data     string
		task            string
		err             string
	}{
		{"judgeme", "", `{"event":"review/updated","review":{"id":1}}`, "judgeme/review/updated", `{"event":"review/updated","review":{"id":1}}`, "", ""},
		{"judgeme", "", `{"event":"review/deleted"}`, "", "", "", "review/created"},
		{"appstle_subscriptions", "", `{"type":"subscription.next-order-date-changed","data":{}}`, "appstle_subscriptions/subscriptions/next_order_date_change", "", "", ""},
		{"appstle_subscriptions", "", `{"type":"subscription.billing-failure"}`, "appstle_subscriptions/billings/failure", "", "", ""},
		{"appstle_subscriptions", "", `{"type":"membership.created"}`, "", "", "", "no Mechanic topic"},
		{"locksmith", "sessions/ping", `{"event":{"params":{"passcode":"x"}}}`, "locksmith/sessions/ping", `{"params":{"passcode":"x"}}`, "", ""},
		{"locksmith", "sessions/pong", `{}`, "", "", "", "sessions/ping"},
		{"report_toaster", "reports/fail", `{"id":"v","error":{}}`, "report_toaster/reports/fail", `{"id":"v","error":{}}`, "", ""},
		{"flow", "", `{"properties":{"Event topic":"user/flow/order","Event data":"{\"a\":1}","Task ID":"t1"}}`, "user/flow/order", `{"a":1}`, "t1", ""},
		{"flow", "", `{"properties":{"event_topic":"user/flow/x","event_data":"{bad"}}`, "user/flow/x", `invalid_event_data_json`, "", ""},
		{"flow", "", `{"properties":{"event_topic":"shopify/orders/create"}}`, "", "", "", `start with "user/"`},
		{"judgeme", "", `not json`, "", "", "", "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.app+" "+tt.topic+tt.err, func(t *testing.T) {
			ev, err := appevents.Parse(tt.app, tt.rest, []byte(tt.body))
			if tt.err != "" {
				var ie *appevents.InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || ev.Topic != tt.topic || ev.TaskID != tt.task || !strings.Contains(string(ev.Data), tt.data) {
				t.Fatalf("got %+v %s, %v", ev, ev.Data, err)
			}
		})
	}
}
