package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/shopify/objects"
	"github.com/sprocketrun/sprocket/store"
)

// ShopifyAPI is the service's connection to its shop as runs use it: the
// Admin API of whichever shop is connected at the moment of the call
// (shopify.ErrNotConnected when none is).
type ShopifyAPI interface {
	GraphQL(ctx context.Context, req shopify.GraphQLRequest) (*shopify.GraphQLResponse, error)
	REST(ctx context.Context, req shopify.RESTRequest) (*shopify.RESTResponse, error)
	// Hold reports whether the shop's rate limit asks runs that call
	// Shopify to wait.
	Hold() bool
	// ShopJSON returns the shop's REST attributes (briefly cached).
	ShopJSON(ctx context.Context) (json.RawMessage, error)
}

// runGraphQL serves the shopify filter of one live task run: it refuses
// mutations (the filter reads; writes are shopify actions), charges the
// run's call budget, uses the task's API version, and answers the whole
// response ({"data", "errors", "extensions"}). A call that did not get an
// answer from Shopify (no shop connected, HTTP errors, the rate limit not
// recovering) is an error, which fails the run with the filter's line.
type runGraphQL struct {
	api     ShopifyAPI
	version string
	budget  objects.Budget
}

// GraphQL implements dialect.GraphQLClient.
func (g runGraphQL) GraphQL(ctx context.Context, query string, variables any) (any, error) {
	if isMutation(query) {
		return nil, fmt.Errorf("the shopify filter only reads; run mutations with a shopify action")
	}
	if err := g.budget.Spend("shopify filter"); err != nil {
		return nil, err
	}
	req := shopify.GraphQLRequest{Query: query, APIVersion: g.version}
	if variables != nil {
		b, err := value.ToJSON(variables)
		if err != nil {
			return nil, fmt.Errorf("variables: %w", err)
		}
		req.Variables = b
	}
	resp, err := g.api.GraphQL(ctx, req)
	if err != nil {
		return nil, err
	}
	v, err := value.FromJSON(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %w", err)
	}
	return v, nil
}

// isMutation reports whether a GraphQL document's first operation is a mutation.
func isMutation(doc string) bool {
	s := doc
	for {
		s = strings.TrimLeft(s, " \t\r\n,\ufeff")
		if strings.HasPrefix(s, "#") {
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
				continue
			}
			return false
		}
		break
	}
	rest, ok := strings.CutPrefix(s, "mutation")
	return ok && (rest == "" || !isNameByte(rest[0]))
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// shopifyThrottle holds back task runs and shopify action runs while the
// shop's rate limit recovers (docs: core/shopify/api-rate-limit.md).
type shopifyThrottle struct{ api ShopifyAPI }

// Hold implements pipeline.Throttle.
func (t shopifyThrottle) Hold() ([]store.RunKind, []string) {
	if t.api.Hold() {
		return []store.RunKind{store.KindTask}, []string{"shopify"}
	}
	return nil, nil
}

// liveShop is the shop variable of live runs: the shop's REST attributes
// (cached for a minute by the connection) over the stand-in's defaults,
// with the service's time zone. Without a connection it is the stand-in.
func liveShop(ctx context.Context, api ShopifyAPI, standIn *value.Map) (*value.Map, error) {
	if api == nil {
		return standIn, nil
	}
	raw, err := api.ShopJSON(ctx)
	if errors.Is(err, shopify.ErrNotConnected) {
		return standIn, nil
	}
	if err != nil {
		return nil, fmt.Errorf("shop: %w", err)
	}
	v, err := value.FromJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("shop: %w", err)
	}
	attrs, ok := v.(*value.Map)
	if !ok {
		return nil, fmt.Errorf("shop: the shop resource is not an object")
	}
	out := value.NewMap(standIn.Len() + attrs.Len())
	standIn.Each(func(k string, v any) bool { out.Set(k, v); return true })
	attrs.Each(func(k string, v any) bool {
		if k != "iana_timezone" && k != "timezone" || !out.Has(k) {
			out.Set(k, v)
		}
		return true
	})
	return out, nil
}
