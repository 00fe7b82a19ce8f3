package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// REST calls the shop's Admin REST API. It waits before sending while the
// shop's REST bucket (X-Shopify-Shop-Api-Call-Limit, as last reported)
// is full, waits and retries on 429 (honouring Retry-After), and retries
// 5xx answers, connection errors and timeouts with backoff. Answers with
// status 400 and above that are not retried come back as *HTTPError.
func (c *Client) REST(ctx context.Context, req RESTRequest) (*RESTResponse, error) {
	c.metrics.calls.Add(1)
	method := strings.ToUpper(strings.TrimSpace(req.Method))
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete:
	default:
		return nil, fmt.Errorf("shopify: rest: method %q is not GET, POST, PUT or DELETE", req.Method)
	}
	version, err := c.versionOr(req.APIVersion)
	if err != nil {
		return nil, err
	}
	p, q, err := RESTPath(req.Path)
	if err != nil {
		return nil, err
	}
	for k, vs := range req.Query {
		q[k] = append([]string(nil), vs...)
	}
	var body []byte
	if len(req.Body) > 0 {
		if method == http.MethodGet {
			return nil, errors.New("shopify: rest: a GET request has no body")
		}
		if !json.Valid(req.Body) {
			return nil, errors.New("shopify: rest: body is not valid JSON")
		}
		body = req.Body
	}
	u := c.base + "/admin/api/" + version + "/" + p
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	s := &callState{c: c, method: method, url: u, write: method != http.MethodGet}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("shopify: %s %s: %w", method, u, err)
		}
		epoch, err := c.rest.acquire(ctx, s)
		if err != nil {
			return nil, err
		}
		s.attempts++
		res, err := c.send(ctx, method, u, body)
		if err != nil {
			c.rest.release(epoch, nil, c.clock.Now())
			var ae *attemptError
			if !errors.As(err, &ae) {
				return nil, err
			}
			if err := s.failed(ctx, ae.err, nil, notSent(ae.err)); err != nil {
				return nil, err
			}
			continue
		}
		c.rest.release(epoch, res.header, c.clock.Now())
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
			he := &HTTPError{Method: method, URL: u, Status: res.status, Body: res.body}
			if err := s.failed(ctx, he, res.header, res.status == http.StatusServiceUnavailable); err != nil {
				return nil, err
			}
			continue
		}
		if res.status >= 400 {
			return nil, &HTTPError{Method: method, URL: u, Status: res.status, Body: res.body}
		}
		out := &RESTResponse{Status: res.status, Header: res.header, Body: res.body}
		out.NextPageInfo, out.PreviousPageInfo = parseLink(res.header.Values("Link"))
		return out, nil
	}
}

// RESTPath normalises the path of a REST call to the part after
// /admin/api/{version}/, with ".json" added when the last segment has no
// extension, and splits off its query string. "orders/1.json",
// "/admin/orders/1.json", "/admin/api/2024-01/orders/1.json" and
// "orders/1" all give "orders/1.json".
func RESTPath(raw string) (string, url.Values, error) {
	p := strings.TrimSpace(raw)
	if p == "" {
		return "", nil, errors.New("shopify: rest: path is empty")
	}
	if strings.Contains(p, "://") {
		return "", nil, fmt.Errorf("shopify: rest: path %q must be a path, not a URL", raw)
	}
	q := url.Values{}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		pq, err := url.ParseQuery(p[i+1:])
		if err != nil {
			return "", nil, fmt.Errorf("shopify: rest: query of path %q: %w", raw, err)
		}
		q, p = pq, p[:i]
	}
	p = strings.TrimPrefix(p, "/")
	if rest, ok := strings.CutPrefix(p, "admin/"); ok {
		p = rest
		if rest, ok := strings.CutPrefix(p, "api/"); ok {
			v, after, found := strings.Cut(rest, "/")
			if !found || !versionRE.MatchString(v) {
				return "", nil, fmt.Errorf("shopify: rest: path %q has no API version after /admin/api/", raw)
			}
			p = after
		}
	}
	if p == "" {
		return "", nil, fmt.Errorf("shopify: rest: path %q names no resource", raw)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", nil, fmt.Errorf("shopify: rest: path %q has an empty or relative segment", raw)
		}
	}
	if path.Ext(p) == "" {
		p += ".json"
	}
	return p, q, nil
}

// parseLink reads the page_info cursors of the rel="next" and
// rel="previous" links of Link headers.
func parseLink(values []string) (next, prev string) {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			lt, gt := strings.IndexByte(part, '<'), strings.IndexByte(part, '>')
			if lt != 0 || gt < 0 {
				continue
			}
			target, params := part[1:gt], part[gt+1:]
			rel := ""
			for p := range strings.SplitSeq(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "rel") {
					rel = strings.Trim(strings.TrimSpace(val), `"`)
				}
			}
			u, err := url.Parse(target)
			if err != nil {
				continue
			}
			pi := u.Query().Get("page_info")
			switch rel {
			case "next":
				next = pi
			case "previous", "prev":
				prev = pi
			}
		}
	}
	return next, prev
}

// RESTAll is a convenience for reading every page of a GET listing: it
// calls fn with each page's response, following NextPageInfo, for at most
// maxPages pages (an error names the bound when more remain).
func (c *Client) RESTAll(ctx context.Context, req RESTRequest, maxPages int, fn func(*RESTResponse) error) error {
	if maxPages <= 0 {
		return errors.New("shopify: rest: maxPages must be positive")
	}
	for page := 0; ; page++ {
		if page == maxPages {
			return fmt.Errorf("shopify: rest: GET %s has more than %d pages", req.Path, maxPages)
		}
		res, err := c.REST(ctx, req)
		if err != nil {
			return err
		}
		if err := fn(res); err != nil {
			return err
		}
		if res.NextPageInfo == "" {
			return nil
		}
		// With page_info Shopify accepts only limit and fields besides it.
		q := url.Values{"page_info": {res.NextPageInfo}}
		for _, k := range []string{"limit", "fields"} {
			if v := req.Query.Get(k); v != "" {
				q.Set(k, v)
			}
		}
		p, _, _ := strings.Cut(req.Path, "?")
		req.Path, req.Query = p, q
	}
}
