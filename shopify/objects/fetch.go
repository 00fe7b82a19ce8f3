package objects

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/shopify"
)

// fetched is one cached response: its body (nil for a 404) and the cursor
// of the next page ("" for none).
type fetched struct {
	body *value.Map
	next string
}

// get fetches path (e.g. "orders/1.json") with query q and returns the
// parsed body, or nil when Shopify answers 404. Each call not in the
// session's cache is charged to the budget.
func (s *Session) get(ctx context.Context, path string, q url.Values) (fetched, error) {
	shown := path
	if len(q) > 0 {
		shown += "?" + q.Encode()
	}
	s.mu.Lock()
	if f, ok := s.cacheGet(shown); ok {
		s.mu.Unlock()
		return f, nil
	}
	s.mu.Unlock()
	if s.client == nil {
		return fetched{}, shopify.ErrNotConnected
	}
	if err := s.budget.Spend("GET " + shown); err != nil {
		return fetched{}, err
	}
	resp, err := s.client.REST(ctx, shopify.RESTRequest{Method: http.MethodGet, Path: path, Query: q, APIVersion: s.version})
	if err != nil {
		var he *shopify.HTTPError
		if errors.As(err, &he) && he.Status == http.StatusNotFound {
			s.cachePut(shown, fetched{})
			return fetched{}, nil
		}
		return fetched{}, fmt.Errorf("GET %s: %w", shown, err)
	}
	v, err := value.FromJSON(resp.Body)
	if err != nil {
		return fetched{}, fmt.Errorf("GET %s: the response is not JSON: %w", shown, err)
	}
	m, ok := v.(*value.Map)
	if !ok {
		return fetched{}, fmt.Errorf("GET %s: the response is %s, not a JSON object", shown, value.TypeName(v))
	}
	f := fetched{body: m, next: resp.NextPageInfo}
	s.cachePut(shown, f)
	return f, nil
}

// cacheGet must be called with s.mu held.
func (s *Session) cacheGet(key string) (fetched, bool) {
	f, ok := s.cache[key]
	return f, ok
}

func (s *Session) cachePut(key string, f fetched) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cache[key] = f
}

// one fetches a single resource: the member root of path's body (e.g.
// "order" of orders/1.json), nil when it does not exist.
func (s *Session) one(ctx context.Context, path, root string) (*value.Map, error) {
	f, err := s.get(ctx, path, nil)
	if err != nil || f.body == nil {
		return nil, err
	}
	v, _ := f.body.Get(root)
	m, _ := v.(*value.Map)
	return m, nil
}

// count fetches a count endpoint ({"count": N}).
func (s *Session) count(ctx context.Context, path string, q url.Values) (int64, error) {
	f, err := s.get(ctx, path, q)
	if err != nil || f.body == nil {
		return 0, err
	}
	v, _ := f.body.Get("count")
	switch n := v.(type) {
	case int64:
		return n, nil
	case float64:
		return int64(n), nil
	case string:
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("GET %s: no count in the response", path)
}

// list reads the items under root of a paginated collection, page after
// page, up to limit items (all when limit < 0). Only the first request
// carries the filters: Shopify takes nothing but limit with a page_info.
func (s *Session) list(ctx context.Context, path, root string, q url.Values, limit int64) ([]any, error) {
	var out []any
	cursor := ""
	for {
		pq := url.Values{}
		if cursor == "" {
			for k, vs := range q {
				pq[k] = append([]string(nil), vs...)
			}
		} else {
			pq.Set("page_info", cursor)
		}
		n := int64(s.pageSize)
		if limit >= 0 && limit-int64(len(out)) < n {
			n = limit - int64(len(out))
		}
		if n <= 0 {
			return out, nil
		}
		pq.Set("limit", strconv.FormatInt(n, 10))
		f, err := s.get(ctx, path, pq)
		if err != nil {
			return nil, err
		}
		if f.body == nil {
			return out, nil // the owner does not exist: no items
		}
		v, _ := f.body.Get(root)
		items, ok := v.([]any)
		if !ok && v != nil {
			return nil, fmt.Errorf("GET %s: %q is %s, not an array", path, root, value.TypeName(v))
		}
		out = append(out, items...)
		if len(out) > s.maxItems {
			return nil, fmt.Errorf("GET %s: more than %d items, the limit of one collection read", path, s.maxItems)
		}
		if f.next == "" || len(items) == 0 || limit >= 0 && int64(len(out)) >= limit {
			return out, nil
		}
		cursor = f.next
	}
}
