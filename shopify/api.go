// Package shopify is Sprocket's client of a shop's Admin API: GraphQL and
// REST calls with Shopify's authentication, cost-based throttling, retries
// and timeouts, and the ways a shop is connected (a pasted access token,
// the client-credentials grant, the OAuth authorization-code install).
//
// The request and response types in this file are the contract between
// the client and its consumers (the shopify action, the shopify Liquid
// filter, the REST-backed Liquid objects, the service's connection API):
// consumers define the small interfaces they need in terms of these types.
package shopify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// DefaultAPIVersion is the Admin API version used when neither the
// connection nor the task names one: a current stable version.
const DefaultAPIVersion = "2026-01"

// GraphQLRequest is one Admin GraphQL call.
type GraphQLRequest struct {
	// Query is the GraphQL document.
	Query string
	// Variables is a JSON object, or nil for none.
	Variables json.RawMessage
	// OperationName selects the operation of a document with several; "" for none.
	OperationName string
	// APIVersion overrides the client's API version for this call ("" for the default).
	APIVersion string
}

// GraphQLResponse is the answer to a GraphQL call that reached Shopify and
// came back with HTTP 200. GraphQL-level errors (the top-level "errors"
// array, THROTTLED after the client gave up waiting excepted) are not Go
// errors: they are in Errors, for the caller to judge.
type GraphQLResponse struct {
	// Status is the HTTP status code.
	Status int
	// Body is the whole JSON response body: {"data", "errors", "extensions"}.
	Body []byte
	// Data is the body's "data" member (nil when absent or null).
	Data json.RawMessage
	// Errors are the body's top-level "errors".
	Errors []GraphQLError
	// Cost is the body's "extensions.cost", nil when absent.
	Cost *Cost
}

// GraphQLError is one entry of a GraphQL response's top-level "errors".
type GraphQLError struct {
	Message    string          `json:"message"`
	Locations  []ErrorLocation `json:"locations,omitempty"`
	Path       []any           `json:"path,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

// ErrorLocation is a line and column in a GraphQL document.
type ErrorLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Code returns the error's extensions.code ("THROTTLED", …), or "".
func (e GraphQLError) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// Cost is the query cost Shopify reports in extensions.cost.
type Cost struct {
	RequestedQueryCost float64        `json:"requestedQueryCost"`
	ActualQueryCost    *float64       `json:"actualQueryCost"`
	ThrottleStatus     ThrottleStatus `json:"throttleStatus"`
}

// ThrottleStatus is the state of the shop's GraphQL cost bucket.
type ThrottleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// RESTRequest is one Admin REST call.
type RESTRequest struct {
	// Method is GET, POST, PUT or DELETE.
	Method string
	// Path names the resource: "orders/1.json", "/admin/orders/1.json" and
	// "/admin/api/2024-01/orders/1.json" all mean the same resource; the
	// client's (or APIVersion's) version is used.
	Path string
	// Query holds query parameters (limit, page_info, fields, status, …).
	Query url.Values
	// Body is the JSON request body, or nil.
	Body json.RawMessage
	// APIVersion overrides the client's API version for this call.
	APIVersion string
}

// RESTResponse is the answer to a REST call with a status below 400.
type RESTResponse struct {
	// Status is the HTTP status code.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the raw response body (JSON for Admin resources).
	Body []byte
	// NextPageInfo and PreviousPageInfo are the page_info cursors of the
	// Link header ("" when there is no such page).
	NextPageInfo, PreviousPageInfo string
}

// HTTPError is an Admin API answer with status 400 or above (after the
// client's retries, for the statuses it retries).
type HTTPError struct {
	// Method and URL identify the request (the URL has no credentials).
	Method, URL string
	// Status is the HTTP status code.
	Status int
	// Body is the response body, possibly truncated.
	Body []byte
}

// Error describes the failure with the status and the start of the body.
func (e *HTTPError) Error() string {
	b := e.Body
	if len(b) > 512 {
		b = b[:512]
	}
	return fmt.Sprintf("shopify: %s %s: HTTP %d: %s", e.Method, e.URL, e.Status, b)
}

// ErrNotConnected is returned by a client or its stand-in when no shop is
// connected to the service.
var ErrNotConnected = errNotConnected{}

type errNotConnected struct{}

func (errNotConnected) Error() string {
	return "no Shopify shop is connected (set SPROCKET_SHOPIFY_SHOP and SPROCKET_SHOPIFY_ACCESS_TOKEN, or PUT /v1/shop/connection)"
}
