package objects_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/shopify"
)

// This file holds a minimal Admin REST caller doing real HTTP, standing in
// for *shopify.Client until the client package lands, and a loopback shop
// answering the REST paths the objects read as Shopify does: resources
// under their root names, {"count": n} counts, 404 for unknown resources,
// cursor pagination through the Link header (a page_info request takes no
// other filter, as Shopify requires), and limit at most 250.

const testToken = "shpat_objects_test"

type restCaller struct {
	base, version string
	hc            *http.Client
}

var versionedPath = regexp.MustCompile(`^/?(?:admin/)?(?:api/(?:\d{4}-\d{2}|unstable)/)?`)

var linkRE = regexp.MustCompile(`<([^>]+)>;\s*rel="(next|previous)"`)

func (c *restCaller) REST(ctx context.Context, r shopify.RESTRequest) (*shopify.RESTResponse, error) {
	version := r.APIVersion
	if version == "" {
		version = c.version
	}
	u := c.base + "/admin/api/" + version + "/" + versionedPath.ReplaceAllString(r.Path, "")
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Shopify-Access-Token", testToken)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		return nil, &shopify.HTTPError{Method: r.Method, URL: u, Status: resp.StatusCode, Body: data}
	}
	out := &shopify.RESTResponse{Status: resp.StatusCode, Header: resp.Header, Body: data}
	for _, m := range linkRE.FindAllStringSubmatch(resp.Header.Get("Link"), -1) {
		lu, err := url.Parse(m[1])
		if err != nil {
			continue
		}
		if m[2] == "next" {
			out.NextPageInfo = lu.Query().Get("page_info")
		} else {
			out.PreviousPageInfo = lu.Query().Get("page_info")
		}
	}
	return out, nil
}

type record = map[string]any

// restList is a paginated REST list: its items under root.
type restList struct {
	root  string
	items []record
}

// restShop is the loopback shop.
type restShop struct {
	srv *httptest.Server

	mu      sync.Mutex
	calls   []string             // "GET path?query" as received, without the version
	version []string             // the API version of each call
	lists   map[string]*restList // by path, e.g. "orders.json"
	singles map[string]record    // full bodies by path, e.g. "shop.json"
	fail    map[string]int       // status to answer for a path
}

func newRESTShop(t *testing.T) *restShop {
	t.Helper()
	s := &restShop{lists: map[string]*restList{}, singles: map[string]record{}, fail: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *restShop) caller() *restCaller {
	return &restCaller{base: s.srv.URL, version: "2026-01", hc: &http.Client{Timeout: 10 * time.Second}}
}

// add registers a top-level resource: the list name.json, each member at
// name/<id>.json under single, and name/count.json.
func (s *restShop) add(name, single string, items ...record) {
	s.addList(name+".json", name, items...)
	for _, it := range items {
		s.singles[fmt.Sprintf("%s/%v.json", name, it["id"])] = record{single: it}
	}
}

func (s *restShop) addList(path, root string, items ...record) {
	s.lists[path] = &restList{root: root, items: items}
}

func (s *restShop) callLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

var apiPathRE = regexp.MustCompile(`^/admin/api/(\d{4}-\d{2}|unstable)/(.+)$`)

func (s *restShop) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.Header.Get("X-Shopify-Access-Token") != testToken {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
		return
	}
	m := apiPathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errors":"Not Found"}`)
		return
	}
	path := m[2]
	q := r.URL.Query()
	s.mu.Lock()
	call := r.Method + " " + path
	if r.URL.RawQuery != "" {
		call += "?" + q.Encode()
	}
	s.calls = append(s.calls, call)
	s.version = append(s.version, m[1])
	status, failing := s.fail[path]
	s.mu.Unlock()
	if failing {
		w.WriteHeader(status)
		io.WriteString(w, `{"errors":"Internal Server Error"}`)
		return
	}
	if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if body, ok := s.singles[path]; ok {
		json.NewEncoder(w).Encode(body)
		return
	}
	if strings.HasSuffix(path, "/count.json") {
		if l, ok := s.lists[strings.TrimSuffix(path, "/count.json")+".json"]; ok {
			json.NewEncoder(w).Encode(record{"count": len(filter(l.items, q))})
			return
		}
	}
	if path == "customers/search.json" {
		email := strings.TrimPrefix(q.Get("query"), "email:")
		var found []record
		for _, c := range s.lists["customers.json"].items {
			if c["email"] == email {
				found = append(found, c)
			}
		}
		json.NewEncoder(w).Encode(record{"customers": found})
		return
	}
	l, ok := s.lists[path]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errors":"Not Found"}`)
		return
	}
	s.page(w, r, path, l, q)
}

// cursor is what a page_info stands for: the filters and the offset.
type cursor struct {
	Query  url.Values `json:"q"`
	Offset int        `json:"o"`
}

func (s *restShop) page(w http.ResponseWriter, r *http.Request, path string, l *restList, q url.Values) {
	limit := 50 // Shopify's default page size
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 250 {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"errors":{"limit":"Invalid value"}}`)
			return
		}
		limit = n
	}
	cur := cursor{Query: q}
	if pi := q.Get("page_info"); pi != "" {
		for k := range q {
			if k != "page_info" && k != "limit" && k != "fields" {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"errors":{"page_info":"Invalid value: page_info cannot be combined with `+k+`"}}`)
				return
			}
		}
		raw, err := base64.RawURLEncoding.DecodeString(pi)
		cur = cursor{}
		if err != nil || json.Unmarshal(raw, &cur) != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"errors":{"page_info":"Invalid value"}}`)
			return
		}
	}
	items := filter(l.items, cur.Query)
	end := min(cur.Offset+limit, len(items))
	pageItems := items[min(cur.Offset, len(items)):end]
	if end < len(items) {
		next, _ := json.Marshal(cursor{Query: cur.Query, Offset: end})
		w.Header().Set("Link", fmt.Sprintf(`<%s/admin/api/2026-01/%s?limit=%d&page_info=%s>; rel="next"`,
			s.srv.URL, path, limit, base64.RawURLEncoding.EncodeToString(next)))
	}
	if pageItems == nil {
		pageItems = []record{}
	}
	json.NewEncoder(w).Encode(record{l.root: pageItems})
}

// filter applies the REST filters the loopback shop knows: the order
// statuses, namespace, product_id and inventory_item_ids.
func filter(items []record, q url.Values) []record {
	var out []record
	for _, it := range items {
		if keep(it, q) {
			out = append(out, it)
		}
	}
	return out
}

func keep(it record, q url.Values) bool {
	switch q.Get("status") {
	case "open":
		if it["closed_at"] != nil || it["cancelled_at"] != nil {
			return false
		}
	case "closed":
		if it["closed_at"] == nil {
			return false
		}
	case "cancelled":
		if it["cancelled_at"] == nil {
			return false
		}
	case "", "any":
	default: // draft orders' and gift cards' statuses
		if it["status"] != q.Get("status") {
			return false
		}
	}
	if fs := q.Get("financial_status"); fs != "" {
		got, _ := it["financial_status"].(string)
		if fs == "unpaid" {
			if got != "authorized" && got != "pending" && got != "partially_paid" {
				return false
			}
		} else if got != fs {
			return false
		}
	}
	switch q.Get("fulfillment_status") {
	case "shipped":
		if it["fulfillment_status"] != "fulfilled" {
			return false
		}
	case "partial":
		if it["fulfillment_status"] != "partial" {
			return false
		}
	case "unshipped":
		if it["fulfillment_status"] != nil {
			return false
		}
	}
	if ns := q.Get("namespace"); ns != "" && it["namespace"] != ns {
		return false
	}
	return true
}

// sortedCalls returns the calls sorted, for order-independent checks.
func sortedCalls(calls []string) []string {
	out := append([]string(nil), calls...)
	sort.Strings(out)
	return out
}
