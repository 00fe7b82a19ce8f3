package shopify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/shopify"
)

// This file holds a minimal Admin API caller doing real HTTP, standing in
// for *shopify.Client until the client package lands, and a loopback shop
// that answers as Shopify documents (the Admin API's paths, headers and
// JSON shapes).

const testToken = "shpat_test_token"

// httpCaller sends GraphQL and REST calls to base as Shopify's Admin API
// expects them.
type httpCaller struct {
	base, version string
	hc            *http.Client
}

func newCaller(base string) *httpCaller {
	return &httpCaller{base: base, version: "2026-01", hc: &http.Client{Timeout: 10 * time.Second}}
}

var versionedPath = regexp.MustCompile(`^/?(?:admin/)?(?:api/(?:\d{4}-\d{2}|unstable)/)?`)

func (c *httpCaller) do(ctx context.Context, method, path, version string, q url.Values, body []byte) (*http.Response, []byte, error) {
	if version == "" {
		version = c.version
	}
	u := c.base + "/admin/api/" + version + "/" + versionedPath.ReplaceAllString(path, "")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("X-Shopify-Access-Token", testToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode >= 400 {
		return nil, nil, &shopify.HTTPError{Method: method, URL: u, Status: resp.StatusCode, Body: data}
	}
	return resp, data, nil
}

func (c *httpCaller) GraphQL(ctx context.Context, r shopify.GraphQLRequest) (*shopify.GraphQLResponse, error) {
	payload := map[string]any{"query": r.Query}
	if r.Variables != nil {
		payload["variables"] = r.Variables
	}
	if r.OperationName != "" {
		payload["operationName"] = r.OperationName
	}
	b, _ := json.Marshal(payload)
	resp, data, err := c.do(ctx, "POST", "graphql.json", r.APIVersion, nil, b)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data       json.RawMessage        `json:"data"`
		Errors     []shopify.GraphQLError `json:"errors"`
		Extensions struct {
			Cost *shopify.Cost `json:"cost"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("graphql response: %w", err)
	}
	return &shopify.GraphQLResponse{Status: resp.StatusCode, Body: data, Data: doc.Data, Errors: doc.Errors, Cost: doc.Extensions.Cost}, nil
}

func (c *httpCaller) REST(ctx context.Context, r shopify.RESTRequest) (*shopify.RESTResponse, error) {
	resp, data, err := c.do(ctx, r.Method, r.Path, r.APIVersion, r.Query, r.Body)
	if err != nil {
		return nil, err
	}
	return &shopify.RESTResponse{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// seen is one request the loopback shop received.
type seen struct {
	Method, Path, Query string
	Body                any // parsed with value.FromJSON; nil for none
}

// shop is a loopback Admin API answering each request with answer.
type shop struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []seen
	answer func(w http.ResponseWriter, s seen)
}

func newShop(t *testing.T, answer func(w http.ResponseWriter, s seen)) *shop {
	t.Helper()
	s := &shop{answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Shopify-Access-Token") != testToken {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
			return
		}
		var body any
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			var err error
			if body, err = value.FromJSON(b); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"errors":"bad JSON"}`)
				return
			}
		}
		rec := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body}
		s.mu.Lock()
		s.got = append(s.got, rec)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		s.answer(w, rec)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *shop) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.got...)
}

// graphQLCost is extensions.cost as Shopify reports it.
const graphQLCost = `"extensions":{"cost":{"requestedQueryCost":10,"actualQueryCost":10,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1990,"restoreRate":100.0}}}`

func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
