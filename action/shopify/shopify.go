// Package shopify implements Mechanic's shopify action: one request to the
// shop's Admin API, GraphQL or REST, whose response becomes the run's
// result (docs: core/actions/shopify.md; the REST forms are those of the
// page's earlier versions, which library tasks still use).
//
// Options, in one of four forms:
//
//   - a GraphQL document (the action tag's block form): "mutation { … }";
//   - {"query": "…", "variables": {…}} (variables optional, as library tasks
//     leave them out; "operationName" selects one operation of several);
//   - explicit REST: ["get"|"post"|"put"|"delete", "/admin/orders/1.json",
//     body], the body a hash wrapped in the resource's name
//     ({"order": {…}}); a query string in the path is kept;
//   - resourceful REST: ["create", "customer", {attrs}],
//     ["update", ["order", 123], {attrs}], ["delete", ["product", 123]],
//     nested resources as ["order", 123, "fulfillment", 456], and an id
//     given as the "id" attribute (["update", "theme", {"id": 1, …}]); the
//     attributes are wrapped in the resource's name.
//
// The result of a GraphQL request is Shopify's whole response,
// {"data": …, "errors"?: …, "extensions"?: …}, so a follow-up run reads
// action.run.result.data.<mutation>.userErrors; the result of a REST
// request is the parsed response body. The run's result_meta has
// Mechanic's counters (shopify_admin_api_time_ms,
// shopify_admin_graphql_api_cost, shopify_admin_graphql_api_requests_count,
// shopify_admin_rest_api_requests_count).
//
// The run fails when Shopify answers a GraphQL request with top-level
// errors (the response is kept as the failed run's result), and when it
// answers a REST request with an HTTP error ("Received a Shopify error
// (resource invalid): …" for a 422). Mutation userErrors do not fail the
// run — Mechanic's docs have tasks inspect them in the result — but they
// are logged at warning level. Transient failures (5xx answers, timeouts,
// connection errors and throttling the client gave up waiting on, as
// the client classifies them) are retried by the action queue. With no
// shop connected the run fails with shopify.ErrNotConnected's message.
package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/shopify"
)

// Type is the action type name the shopify action is registered under.
const Type = "shopify"

// Client is the Admin API client the action sends its request with
// (*shopify.Client).
type Client interface {
	GraphQL(ctx context.Context, req shopify.GraphQLRequest) (*shopify.GraphQLResponse, error)
	REST(ctx context.Context, req shopify.RESTRequest) (*shopify.RESTResponse, error)
}

// Config configures a Performer.
type Config struct {
	// Client sends the requests; nil fails every run with
	// shopify.ErrNotConnected's message.
	Client Client
	// IsTransient tells which client errors the queue should retry
	// (shopify.IsTransient). Nil means a classification of its own: HTTP
	// 429 and 5xx answers, timeouts and connection errors.
	IsTransient func(error) bool
	// Timeout bounds one request, the client's retries included; zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Logger receives a record per request; nil discards.
	Logger *slog.Logger
}

// DefaultTimeout bounds one shopify action when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Performer performs shopify actions. It is safe for concurrent use.
type Performer struct {
	client    Client
	transient func(error) bool
	timeout   time.Duration
	logger    *slog.Logger
}

// New returns a Performer with cfg.
func New(cfg Config) *Performer {
	p := &Performer{client: cfg.Client, transient: cfg.IsTransient, timeout: cfg.Timeout, logger: cfg.Logger}
	if p.transient == nil {
		p.transient = defaultTransient
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	return p
}

// Validate checks the options of a shopify action without sending it.
func (p *Performer) Validate(options any) error {
	_, err := parseOptions(options)
	return err
}

// Perform sends the request and returns Shopify's response as the result.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	r, err := parseOptions(req.Options)
	if err != nil {
		return action.Result{}, err
	}
	if p.client == nil {
		return action.Result{}, action.Failed(fmt.Errorf("shopify action: %w", shopify.ErrNotConnected))
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	start := time.Now()
	if r.graphql {
		return p.graphQL(ctx, req, r, start)
	}
	return p.rest(ctx, req, r, start)
}

func (p *Performer) graphQL(ctx context.Context, req action.Request, r *request, start time.Time) (action.Result, error) {
	resp, err := p.client.GraphQL(ctx, shopify.GraphQLRequest{
		Query: r.query, Variables: r.variables, OperationName: r.operationName, APIVersion: req.APIVersion,
	})
	elapsed := time.Since(start)
	if err != nil {
		return action.Result{}, p.clientError(r, err)
	}
	body, err := value.FromJSON(resp.Body)
	if err != nil {
		return action.Result{}, action.Failed(fmt.Errorf("shopify action: %s: the response is not JSON: %w", r.describe(), err))
	}
	res := action.Result{Value: body, Meta: resultMeta(elapsed, resp.Cost, 1, 0)}
	p.logger.LogAttrs(ctx, slog.LevelDebug, "shopify action",
		slog.String("run_id", req.RunID), slog.String("request", r.describe()),
		slog.Int("errors", len(resp.Errors)), slog.Duration("elapsed", elapsed))
	if len(resp.Errors) > 0 {
		err := fmt.Errorf("shopify action: %s: Shopify answered with errors: %s", r.describe(), graphQLErrorText(resp.Errors))
		if throttledOnly(resp.Errors) {
			return action.Result{}, action.WithResult(action.Transient(err), res)
		}
		return action.Result{}, action.WithResult(action.Failed(err), res)
	}
	if ue := userErrors(body); len(ue) > 0 {
		p.logger.LogAttrs(ctx, slog.LevelWarn, "shopify action: mutation returned userErrors",
			slog.String("run_id", req.RunID), slog.String("task_id", req.TaskID),
			slog.String("user_errors", strings.Join(ue, "; ")))
	}
	return res, nil
}

func (p *Performer) rest(ctx context.Context, req action.Request, r *request, start time.Time) (action.Result, error) {
	resp, err := p.client.REST(ctx, shopify.RESTRequest{
		Method: r.method, Path: r.path, Query: r.query2, Body: r.body, APIVersion: req.APIVersion,
	})
	elapsed := time.Since(start)
	if err != nil {
		var he *shopify.HTTPError
		if errors.As(err, &he) && !p.transient(err) {
			return action.Result{}, action.Failed(fmt.Errorf("shopify action: %s: %s", r.describe(), restErrorText(he)))
		}
		return action.Result{}, p.clientError(r, err)
	}
	p.logger.LogAttrs(ctx, slog.LevelDebug, "shopify action",
		slog.String("run_id", req.RunID), slog.String("request", r.describe()),
		slog.Int("status", resp.Status), slog.Duration("elapsed", elapsed))
	var body any
	if len(strings.TrimSpace(string(resp.Body))) > 0 {
		if body, err = value.FromJSON(resp.Body); err != nil {
			return action.Result{}, action.Failed(fmt.Errorf("shopify action: %s: the response is not JSON: %w", r.describe(), err))
		}
	} else {
		body = value.NewMap(0) // 200 with an empty body (DELETE): {}
	}
	return action.Result{Value: body, Meta: resultMeta(elapsed, nil, 0, 1)}, nil
}

// clientError classifies an error of the client: not connected and
// invalid requests fail the run, transient ones are retried.
func (p *Performer) clientError(r *request, err error) error {
	wrapped := fmt.Errorf("shopify action: %s: %w", r.describe(), err)
	switch {
	case errors.Is(err, shopify.ErrNotConnected):
		return action.Failed(fmt.Errorf("shopify action: %w", shopify.ErrNotConnected))
	case p.transient(err):
		return action.Transient(wrapped)
	}
	return action.Failed(wrapped)
}

// defaultTransient is the classification used without Config.IsTransient.
func defaultTransient(err error) bool {
	var he *shopify.HTTPError
	if errors.As(err, &he) {
		return he.Status == http.StatusTooManyRequests || he.Status >= 500
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return false
}

// resultMeta builds Mechanic's result_meta counters for the run.
func resultMeta(elapsed time.Duration, cost *shopify.Cost, graphQLCalls, restCalls int64) *value.Map {
	m := value.NewMap(4)
	m.Set("shopify_admin_api_time_ms", float64(elapsed.Microseconds())/1000)
	var c float64
	if cost != nil {
		c = cost.RequestedQueryCost
		if cost.ActualQueryCost != nil {
			c = *cost.ActualQueryCost
		}
	}
	if c == float64(int64(c)) {
		m.Set("shopify_admin_graphql_api_cost", int64(c))
	} else {
		m.Set("shopify_admin_graphql_api_cost", c)
	}
	m.Set("shopify_admin_graphql_api_requests_count", graphQLCalls)
	m.Set("shopify_admin_rest_api_requests_count", restCalls)
	return m
}

func throttledOnly(errs []shopify.GraphQLError) bool {
	for _, e := range errs {
		if e.Code() != "THROTTLED" {
			return false
		}
	}
	return len(errs) > 0
}

// graphQLErrorText joins the messages of a response's top-level errors.
func graphQLErrorText(errs []shopify.GraphQLError) string {
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		m := e.Message
		if len(e.Locations) > 0 {
			m += fmt.Sprintf(" (line %d, column %d)", e.Locations[0].Line, e.Locations[0].Column)
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}

// userErrors collects "path: field: message" for every non-empty
// userErrors list under data.
func userErrors(body any) []string {
	m, _ := body.(*value.Map)
	data, _ := m.Get("data")
	dm, _ := data.(*value.Map)
	var out []string
	dm.Each(func(field string, v any) bool {
		fm, ok := v.(*value.Map)
		if !ok {
			return true
		}
		ue, _ := fm.Get("userErrors")
		list, _ := ue.([]any)
		for _, e := range list {
			em, _ := e.(*value.Map)
			msg, _ := em.Get("message")
			f, _ := em.Get("field")
			if f != nil {
				out = append(out, fmt.Sprintf("%s: %s: %s", field, value.ToS(f), value.ToS(msg)))
			} else {
				out = append(out, fmt.Sprintf("%s: %s", field, value.ToS(msg)))
			}
		}
		return true
	})
	return out
}

// restErrorText describes a REST error answer as Mechanic does:
// "Received a Shopify error (resource invalid): Add at least 1 product".
func restErrorText(he *shopify.HTTPError) string {
	kind := fmt.Sprintf("HTTP %d %s", he.Status, http.StatusText(he.Status))
	if he.Status == http.StatusUnprocessableEntity {
		kind = "resource invalid"
	}
	msg := restErrorMessages(he.Body)
	if msg == "" {
		msg = strings.TrimSpace(string(he.Body))
		if len(msg) > 512 {
			msg = msg[:512] + "…"
		}
	}
	if msg == "" {
		return "Received a Shopify error (" + kind + ")"
	}
	return "Received a Shopify error (" + kind + "): " + msg
}

// restErrorMessages reads Shopify's REST error bodies: {"errors": "…"},
// {"errors": ["…"]} or {"errors": {"field": ["…"]}} (base errors without
// the field name, as Shopify's own messages read).
func restErrorMessages(body []byte) string {
	var doc struct {
		Errors json.RawMessage `json:"errors"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	raw := doc.Errors
	if len(raw) == 0 {
		raw = doc.Error
	}
	v, err := value.FromJSON(raw)
	if err != nil {
		return ""
	}
	var msgs []string
	var add func(prefix string, v any)
	add = func(prefix string, v any) {
		switch x := v.(type) {
		case string:
			msgs = append(msgs, prefix+x)
		case []any:
			for _, e := range x {
				add(prefix, e)
			}
		case *value.Map:
			x.Each(func(k string, e any) bool {
				p := k + " "
				if k == "base" {
					p = ""
				}
				add(prefix+p, e)
				return true
			})
		case nil:
		default:
			msgs = append(msgs, prefix+value.ToS(x))
		}
	}
	add("", v)
	return strings.Join(msgs, ", ")
}
