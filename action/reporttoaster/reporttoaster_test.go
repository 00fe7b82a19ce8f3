package reporttoaster_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/internal/actiontest"
	"github.com/sprocketrun/sprocket/action/reporttoaster"
	"github.com/sprocketrun/sprocket/integrations/standin"
)

type endpoint struct{ ep reporttoaster.Endpoint }

func (e endpoint) ReportToasterEndpoint(context.Context) (reporttoaster.Endpoint, error) {
	return e.ep, nil
}

func TestReportToaster(t *testing.T) {
	rt := &standin.ReportToaster{APIKey: "key"}
	ts := httptest.NewServer(rt)
	defer ts.Close()
	p := reporttoaster.New(reporttoaster.Config{Endpoints: endpoint{reporttoaster.Endpoint{URL: ts.URL, APIKey: "key", Shop: "s.myshopify.com"}}})
	tests := []struct {
		name, options string
		kind          action.Kind
		want          string
	}{
		{"report batch", `{"operation":"report","batch":[{"id":"v_1","file":{"format":"csv","include_headers":false},"meta":{"x":1}},{"id":"v_2"}]}`, action.KindNone, `"queued":["v_1","v_2"]`},
		{"report reports", `{"operation":"report","reports":[{"id":"v_3","file":{"format":"pdf"}}]}`, action.KindNone, `"queued":["v_3"]`},
		{"update", `{"operation":"update","Order":[{"id":4192644956357,"shipping_cost":6.54},{"name":"#1001","transaction_fees":"5.32"},{"id":1,"shipping_cost":null}]}`, action.KindNone, `"updated":3`},
		{"unknown operation", `{"operation":"delete"}`, action.KindInvalid, `"operation"`},
		{"no reports", `{"operation":"report","batch":[]}`, action.KindInvalid, `"batch"`},
		{"report without id", `{"operation":"report","batch":[{"file":{"format":"csv"}}]}`, action.KindInvalid, `"batch[0].id"`},
		{"bad format", `{"operation":"report","batch":[{"id":"v","file":{"format":"xlsx"}}]}`, action.KindInvalid, `"batch[0].file.format"`},
		{"other field", `{"operation":"update","Order":[{"id":1,"total_price":3}]}`, action.KindInvalid, `"Order[0].total_price"`},
		{"other model", `{"operation":"update","Order":[{"id":1}],"Product":[]}`, action.KindInvalid, `"Product"`},
		{"no order id", `{"operation":"update","Order":[{"shipping_cost":1}]}`, action.KindInvalid, `"Order[0].id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := p.Perform(context.Background(), actiontest.Request(t, "report_toaster", tt.options))
			if action.Classify(err) != tt.kind {
				t.Fatalf("kind %v, want %v: %v", action.Classify(err), tt.kind, err)
			}
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = actiontest.JSON(t, res.Value)
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("got %s, want %q", got, tt.want)
			}
		})
	}
	if rt.Requests[0]["shop"] != "s.myshopify.com" || rt.Requests[0]["task_id"] != "task1" {
		t.Fatalf("request: %v", rt.Requests[0])
	}
	bad := reporttoaster.New(reporttoaster.Config{Endpoints: endpoint{reporttoaster.Endpoint{URL: ts.URL, APIKey: "wrong"}}})
	if _, err := bad.Perform(context.Background(), actiontest.Request(t, "report_toaster", `{"operation":"report","batch":[{"id":"v"}]}`)); action.Classify(err) != action.KindFailed {
		t.Fatalf("wrong key: %v", err)
	}
}
