package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// graphqlBody is the JSON body of a GraphQL request.
type graphqlBody struct {
	Query         string          `json:"query"`
	Variables     json.RawMessage `json:"variables,omitempty"`
	OperationName string          `json:"operationName,omitempty"`
}

// graphqlAnswer is the JSON body of a GraphQL response.
type graphqlAnswer struct {
	Data       json.RawMessage `json:"data"`
	Errors     json.RawMessage `json:"errors"`
	Extensions struct {
		Cost *Cost `json:"cost"`
	} `json:"extensions"`
}

// GraphQL sends a GraphQL document to the shop's Admin API and returns
// Shopify's answer. It waits before sending while the shop's cost bucket
// (as last reported) cannot afford the document, waits and retries when
// Shopify answers THROTTLED or 429, and retries 5xx answers, connection
// errors and timeouts with backoff. Top-level GraphQL errors other than
// THROTTLED are returned in the response, not as an error; HTTP statuses
// of 400 and above that are not retried come back as *HTTPError, and
// failures that persisted through the retries as *ExhaustedError.
func (c *Client) GraphQL(ctx context.Context, req GraphQLRequest) (*GraphQLResponse, error) {
	c.metrics.calls.Add(1)
	if strings.TrimSpace(req.Query) == "" {
		return nil, errors.New("shopify: graphql: query is empty")
	}
	if len(req.Variables) > 0 {
		v := bytes.TrimSpace(req.Variables)
		if bytes.Equal(v, []byte("null")) {
			req.Variables = nil
		} else if len(v) == 0 || v[0] != '{' || !json.Valid(v) {
			return nil, errors.New("shopify: graphql: variables must be a JSON object")
		}
	}
	version, err := c.versionOr(req.APIVersion)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(graphqlBody{Query: req.Query, Variables: req.Variables, OperationName: req.OperationName})
	if err != nil {
		return nil, fmt.Errorf("shopify: graphql: encoding request: %w", err)
	}
	u := c.base + "/admin/api/" + version + "/graphql.json"
	key := costKey(req.Query, req.OperationName)
	s := &callState{c: c, method: http.MethodPost, url: u, write: isMutation(req.Query, req.OperationName) && !strings.Contains(req.Query, "@idempotent")}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("shopify: POST %s: %w", u, err)
		}
		est := c.gql.estimate(key, c.cfg.DefaultQueryCost)
		reserved, err := c.gql.acquire(ctx, s, est)
		if err != nil {
			return nil, err
		}
		s.attempts++
		res, err := c.send(ctx, http.MethodPost, u, body)
		if err != nil {
			c.gql.release(reserved, nil, false, c.clock.Now())
			var ae *attemptError
			if !errors.As(err, &ae) {
				return nil, err
			}
			if err := s.failed(ctx, ae.err, nil, notSent(ae.err)); err != nil {
				return nil, err
			}
			continue
		}
		var ans graphqlAnswer
		parseErr := json.Unmarshal(res.body, &ans)
		var gerrs []GraphQLError
		if parseErr == nil && len(ans.Errors) > 0 && !bytes.Equal(ans.Errors, []byte("null")) {
			if err := json.Unmarshal(ans.Errors, &gerrs); err != nil {
				// Shopify answers some failures with "errors" as a string.
				var msg string
				if json.Unmarshal(ans.Errors, &msg) == nil {
					gerrs = []GraphQLError{{Message: msg}}
				}
			}
		}
		throttled := res.status == http.StatusOK && isThrottled(gerrs)
		var cost *Cost
		if parseErr == nil {
			cost = ans.Extensions.Cost
		}
		c.gql.release(reserved, cost, throttled || res.status == http.StatusTooManyRequests, c.clock.Now())
		if cost != nil && cost.RequestedQueryCost > 0 {
			c.gql.remember(key, cost.RequestedQueryCost)
		}

		switch {
		case res.status == http.StatusUnauthorized && !s.invalidated:
			if inv, ok := c.cfg.Token.(Invalidator); ok {
				s.invalidated = true
				inv.Invalidate()
				continue
			}
		case res.status == http.StatusTooManyRequests:
			if err := s.throttled(ctx, res.header, c.backoff(s.throttles+1)); err != nil {
				return nil, err
			}
			continue
		case res.status >= 500:
			he := &HTTPError{Method: http.MethodPost, URL: u, Status: res.status, Body: res.body}
			if err := s.failed(ctx, he, res.header, res.status == http.StatusServiceUnavailable); err != nil {
				return nil, err
			}
			continue
		}
		if res.status >= 400 {
			return nil, &HTTPError{Method: http.MethodPost, URL: u, Status: res.status, Body: res.body}
		}
		if parseErr != nil {
			return nil, fmt.Errorf("shopify: POST %s: HTTP %d: response is not JSON: %w", u, res.status, parseErr)
		}
		if throttled {
			s.throttles++
			c.metrics.throttled.Add(1)
			if s.throttles > c.cfg.MaxThrottleWaits {
				return nil, s.exhausted(ErrThrottled)
			}
			c.log.Debug("shopify: THROTTLED", "url", u, "attempt", s.attempts)
			if cost == nil || cost.ThrottleStatus.MaximumAvailable <= 0 {
				// No bucket report to wait on: back off instead.
				if err := s.pause(ctx, c.backoff(s.throttles), ErrThrottled); err != nil {
					return nil, err
				}
			}
			continue // acquire waits until the bucket affords the cost
		}
		out := &GraphQLResponse{Status: res.status, Body: res.body, Errors: gerrs, Cost: cost}
		if len(ans.Data) > 0 && !bytes.Equal(ans.Data, []byte("null")) {
			out.Data = ans.Data
		}
		return out, nil
	}
}

// isThrottled reports whether Shopify refused the query for the rate limit.
func isThrottled(errs []GraphQLError) bool {
	for _, e := range errs {
		if e.Code() == "THROTTLED" {
			return true
		}
	}
	return false
}

// WaitTime returns how long the shop's GraphQL bucket needs, as the
// client models it now, before it affords cost points (0 when it does, or
// when the bucket is not known yet).
func (c *Client) WaitTime(cost float64) time.Duration {
	b := c.gql
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.known {
		return 0
	}
	free := b.level(c.clock.Now()) - b.reserved
	need := min(cost, b.max)
	if free >= need || b.rate <= 0 {
		return 0
	}
	return time.Duration((need - free) / b.rate * float64(time.Second))
}

// isMutation reports whether the operation of a GraphQL document that
// operationName selects (or its only operation) is a mutation; with
// several operations and no name it reports whether any is one. It scans
// tokens at the top level, skipping strings, comments and selections.
func isMutation(doc, operationName string) bool {
	type op struct{ kind, name string }
	var ops []op
	depth := 0
	pending := -1 // index in ops of an operation waiting for its name
	for i := 0; i < len(doc); {
		ch := doc[i]
		switch {
		case ch == '#':
			for i < len(doc) && doc[i] != '\n' && doc[i] != '\r' {
				i++
			}
		case ch == '"':
			if strings.HasPrefix(doc[i:], `"""`) {
				end := strings.Index(doc[i+3:], `"""`)
				if end < 0 {
					i = len(doc)
				} else {
					i += 3 + end + 3
				}
				continue
			}
			i++
			for i < len(doc) && doc[i] != '"' {
				if doc[i] == '\\' {
					i++
				}
				i++
			}
			i++
		case ch == '{':
			depth++
			pending = -1
			i++
		case ch == '}':
			depth--
			i++
		case depth == 0 && (ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z'):
			j := i
			for j < len(doc) && (doc[j] == '_' || doc[j] >= 'a' && doc[j] <= 'z' || doc[j] >= 'A' && doc[j] <= 'Z' || doc[j] >= '0' && doc[j] <= '9') {
				j++
			}
			word := doc[i:j]
			switch {
			case pending >= 0:
				ops[pending].name = word
				pending = -1
			case word == "query" || word == "mutation" || word == "subscription" || word == "fragment":
				ops = append(ops, op{kind: word})
				pending = len(ops) - 1
			}
			i = j
		case ch == '(' && depth == 0:
			// Variable definitions: skip to the closing parenthesis.
			pending = -1
			for i < len(doc) && doc[i] != ')' {
				if doc[i] == '"' {
					i++
					for i < len(doc) && doc[i] != '"' {
						if doc[i] == '\\' {
							i++
						}
						i++
					}
				}
				i++
			}
			i++
		default:
			i++
		}
	}
	found := false
	for _, o := range ops {
		if o.kind == "mutation" {
			found = true
			if operationName != "" && o.name == operationName {
				return true
			}
		}
	}
	if operationName != "" {
		return false
	}
	return found
}
