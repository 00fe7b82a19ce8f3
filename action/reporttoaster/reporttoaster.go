// Package reporttoaster implements the report_toaster action: it asks
// Report Toaster (Cloudlab's reporting app) to run reports or to update
// its data.
//
// Options: operation, "report" or "update". A report operation takes
// batch (also accepted as reports), an array of {"id" (required),
// "file" ({"format": "json"|"csv"|"pdf", "include_headers"}), "meta"};
// each finished report comes back as a report_toaster/reports/create (or
// /fail) event, inline data limited to 10 MB. An update operation takes
// Order, an array of merge-patch objects identifying an order by "id"
// (or, as library tasks do, by "name") and setting only shipping_cost
// and/or transaction_fees (numbers, numeric strings or null).
//
// The request is a JSON POST of the options (plus the shop's domain) to
// the configured Report Toaster endpoint with the configured API key as a
// bearer token; the result is {"status", "body"} of its answer.
package reporttoaster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
)

// Type is the action type.
const Type = "report_toaster"

// MaxInlineBytes is the limit of inline JSON report data (10 MB).
const MaxInlineBytes = 10 << 20

// Endpoint is where and how to reach Report Toaster.
type Endpoint struct {
	// URL receives the action's requests.
	URL string
	// APIKey authenticates them (bearer token).
	APIKey string
	// Shop is the shop's domain, sent with each request.
	Shop string
}

// Endpoints supplies the configured endpoint (from the service's
// integration settings).
type Endpoints interface {
	ReportToasterEndpoint(ctx context.Context) (Endpoint, error)
}

// Config configures the action.
type Config struct {
	// Endpoints supplies the endpoint.
	Endpoints Endpoints
	// HTTP sends requests; nil means a client with a 60 s timeout.
	HTTP *http.Client
}

// Performer performs report_toaster actions.
type Performer struct {
	cfg Config
}

// New returns the report_toaster action's performer.
func New(cfg Config) *Performer {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	return &Performer{cfg: cfg}
}

func invalid(field, format string, args ...any) error {
	return action.Invalid(Type, field, format, args...)
}

// Validate implements action.Validator.
func (p *Performer) Validate(raw any) error {
	_, err := parse(raw)
	return err
}

var formats = []string{"json", "csv", "pdf"}
var updatable = []string{"id", "name", "shipping_cost", "transaction_fees"}

func nonEmpty(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) != ""
}

func numericString(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64, *big.Int:
		return true
	}
	return false
}

func parse(raw any) (*value.Map, error) {
	m, ok := raw.(*value.Map)
	if !ok {
		return nil, invalid("", "must be a hash, got %s", value.TypeName(raw))
	}
	op, _ := m.Get("operation")
	switch op {
	case "report":
		key := "batch"
		bv, ok := m.Get(key)
		if !ok {
			key = "reports"
			bv, ok = m.Get(key)
		}
		list, isList := bv.([]any)
		if !ok || !isList || len(list) == 0 {
			return nil, invalid("batch", "is required: a non-empty array of reports to run")
		}
		for i, item := range list {
			field := fmt.Sprintf("%s[%d]", key, i)
			im, ok := item.(*value.Map)
			if !ok {
				return nil, invalid(field, "must be a hash with an id, got %s", value.TypeName(item))
			}
			if id, _ := im.Get("id"); id == nil || id == "" {
				return nil, invalid(field+".id", "is required (the report's id)")
			} else if _, ok := id.(string); !ok {
				return nil, invalid(field+".id", "must be a string, got %s", value.TypeName(id))
			}
			if fv, ok := im.Get("file"); ok && fv != nil {
				fm, ok := fv.(*value.Map)
				if !ok {
					return nil, invalid(field+".file", "must be a hash with a format, got %s", value.TypeName(fv))
				}
				f, _ := fm.Get("format")
				if s, _ := f.(string); !slices.Contains(formats, s) {
					return nil, invalid(field+".file.format", "must be one of json, csv, pdf, got %v", f)
				}
				if ih, ok := fm.Get("include_headers"); ok && ih != nil {
					if _, ok := ih.(bool); !ok {
						return nil, invalid(field+".file.include_headers", "must be a boolean, got %s", value.TypeName(ih))
					}
				}
			}
		}
	case "update":
		ov, ok := m.Get("Order")
		list, isList := ov.([]any)
		if !ok || !isList || len(list) == 0 {
			return nil, invalid("Order", `is required: a non-empty array of order updates (only the model "Order" is supported)`)
		}
		for i, item := range list {
			field := fmt.Sprintf("Order[%d]", i)
			im, ok := item.(*value.Map)
			if !ok {
				return nil, invalid(field, "must be a hash, got %s", value.TypeName(item))
			}
			id, _ := im.Get("id")
			name, _ := im.Get("name")
			if !isNumber(id) && !nonEmpty(id) && !nonEmpty(name) {
				return nil, invalid(field+".id", "is required (the order's id; its name is accepted too)")
			}
			var err error
			im.Each(func(k string, v any) bool {
				if !slices.Contains(updatable, k) {
					err = invalid(field+"."+k, "cannot be updated; only shipping_cost and transaction_fees can")
					return false
				}
				if (k == "shipping_cost" || k == "transaction_fees") && v != nil && !isNumber(v) && !numericString(v) {
					err = invalid(field+"."+k, "must be a number or null, got %v", v)
					return false
				}
				return true
			})
			if err != nil {
				return nil, err
			}
		}
		for _, k := range m.Keys() {
			if k != "operation" && k != "Order" {
				return nil, invalid(k, `is not a model Report Toaster can update (only "Order")`)
			}
		}
	default:
		return nil, invalid("operation", `must be "report" or "update", got %v`, op)
	}
	return m, nil
}

// Perform implements action.Performer.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	m, err := parse(req.Options)
	if err != nil {
		return action.Result{}, err
	}
	if p.cfg.Endpoints == nil {
		return action.Result{}, action.Failed(errors.New("report_toaster action: Report Toaster is not configured on this server"))
	}
	ep, err := p.cfg.Endpoints.ReportToasterEndpoint(ctx)
	if err != nil {
		return action.Result{}, action.Failed(fmt.Errorf("report_toaster action: %w", err))
	}
	body := m.Clone()
	body.Set("shop", ep.Shop)
	body.Set("task_id", req.TaskID)
	body.Set("action_run_id", req.RunID)
	raw, err := value.ToJSON(body)
	if err != nil {
		return action.Result{}, action.Failed(fmt.Errorf("report_toaster action: encode: %w", err))
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(raw))
	if err != nil {
		return action.Result{}, action.Failed(fmt.Errorf("report_toaster action: %w", err))
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Authorization", "Bearer "+ep.APIKey)
	resp, err := p.cfg.HTTP.Do(r)
	if err != nil {
		return action.Result{}, action.Transient(fmt.Errorf("report_toaster action: POST %s: %w", ep.URL, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxInlineBytes+1))
	if err != nil {
		return action.Result{}, action.Transient(fmt.Errorf("report_toaster action: read answer: %w", err))
	}
	if len(data) > MaxInlineBytes {
		return action.Result{}, action.Failed(fmt.Errorf("report_toaster action: the answer exceeds the %d-byte inline limit; ask for a file instead", MaxInlineBytes))
	}
	var parsed any = string(data)
	if v, err := value.FromJSON(data); err == nil {
		parsed = v
	}
	res := value.NewMap(2)
	res.Set("status", int64(resp.StatusCode))
	res.Set("body", parsed)
	result := action.Result{Value: res}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return action.Result{}, action.WithResult(action.Transient(fmt.Errorf("report_toaster action: Report Toaster answered %s (Retry-After %q)", resp.Status, resp.Header.Get("Retry-After"))), result)
	case resp.StatusCode >= 300:
		return action.Result{}, action.WithResult(action.Failed(fmt.Errorf("report_toaster action: Report Toaster answered %s: %.300s", resp.Status, data)), result)
	}
	return result, nil
}
