// Package objects holds Mechanic's REST-backed Liquid objects for live
// task runs (docs: core/shopify/read/liquid-objects.md and
// platform/liquid/objects/shopify/**): the shop variable with its lazy
// collections (shop.orders, shop.customers[id], shop.draft_orders,
// shop.locations, shop.themes, shop.metafields, …), and the lazy
// associations of resource objects (customer.orders, order.transactions,
// fulfillment.order, refund.order, order_edit.order, any_resource.reload,
// resource.metafields.namespace.key, …).
//
// Lookups are made on demand, through the Admin REST API: an id lookup is
// one call; a collection is read page by page, following the page_info
// cursors of Shopify's Link header, when a template loops over it or hands
// it to a filter. Every call is charged to the run's Budget, and a run's
// objects cache what they fetched, so a lookup repeated within a run costs
// nothing. A failed call fails the render with the lookup named (see
// liquid.LookupError); a resource that does not exist (HTTP 404) reads as
// nil.
//
// A Session holds the objects of one run. Its Shop is the shop variable;
// Wrap gives an event's subject variable (the webhook payload) the lazy
// associations while keeping it, for iteration, JSON and filters, the very
// hash it was.
package objects

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/shopify"
)

// RESTClient is the Admin REST client the objects read with
// (*shopify.Client).
type RESTClient interface {
	REST(ctx context.Context, req shopify.RESTRequest) (*shopify.RESTResponse, error)
}

// Budget bounds the API calls of one run.
type Budget interface {
	// Spend charges one call, made for lookup (e.g. "GET orders.json"); it
	// fails, naming the limit, when the run may make no more calls.
	Spend(lookup string) error
}

// ErrCallLimit is wrapped by the error of a lookup refused because the
// run's calls are used up.
var ErrCallLimit = errors.New("Shopify API call limit of the run exceeded")

// CallBudget is a Budget of a fixed number of calls; it is safe for
// concurrent use.
type CallBudget struct {
	max  int64
	used atomic.Int64
}

// NewCallBudget returns a budget of max calls.
func NewCallBudget(max int) *CallBudget { return &CallBudget{max: int64(max)} }

// Spend charges one call, or fails once max calls were made.
func (b *CallBudget) Spend(lookup string) error {
	if n := b.used.Add(1); n > b.max {
		b.used.Add(-1)
		return fmt.Errorf("%s: %w (at most %d calls per run)", lookup, ErrCallLimit, b.max)
	}
	return nil
}

// Used returns the number of calls charged.
func (b *CallBudget) Used() int { return int(b.used.Load()) }

// Defaults used when the corresponding Config field is zero.
const (
	// DefaultMaxCalls bounds the REST calls of one run.
	DefaultMaxCalls = 200
	// DefaultPageSize is the page size of collection reads (Shopify's
	// maximum, as Mechanic uses).
	DefaultPageSize = 250
	// DefaultMaxItems bounds the items one collection read may hold.
	DefaultMaxItems = 25_000
)

// Config configures the objects of one run.
type Config struct {
	// Client makes the REST calls; nil fails every lookup with
	// shopify.ErrNotConnected.
	Client RESTClient
	// APIVersion is the task's Shopify API version; "" means the client's.
	APIVersion string
	// Budget bounds the run's calls; nil means NewCallBudget(DefaultMaxCalls).
	Budget Budget
	// PageSize is the number of items asked for per page; DefaultPageSize
	// when zero.
	PageSize int
	// MaxItems bounds the items a collection read may hold; DefaultMaxItems
	// when zero.
	MaxItems int
	// Shop supplies the shop's attributes (see ShopCache); nil means they
	// are fetched, once per run, with GET shop.json.
	Shop ShopSource
}

// ShopSource supplies the shop's attributes (the "shop" object of
// shop.json), typically from a short-lived cache shared by runs.
type ShopSource interface {
	// Attributes returns the shop's attributes; fetch makes the call when
	// the source has none to give (charging it to the run).
	Attributes(ctx context.Context, fetch func(ctx context.Context) (*value.Map, error)) (*value.Map, error)
}

// Session is the Shopify-backed objects of one run. Its methods are safe
// for concurrent use; its objects read with the context the run renders
// with (drops looked up without one use the session's).
type Session struct {
	ctx      context.Context
	client   RESTClient
	version  string
	budget   Budget
	pageSize int
	maxItems int
	shopSrc  ShopSource

	mu    sync.Mutex
	cache map[string]fetched // responses by request
	err   error              // the first failure of a lookup made without a context
	shop  *shopDrop
}

// NewSession returns the objects of one run; ctx is used by the rare
// lookups made where the template engine passes no context.
func NewSession(ctx context.Context, cfg Config) *Session {
	s := &Session{ctx: ctx, client: cfg.Client, version: cfg.APIVersion, budget: cfg.Budget,
		pageSize: cfg.PageSize, maxItems: cfg.MaxItems, shopSrc: cfg.Shop, cache: map[string]fetched{}}
	if s.budget == nil {
		s.budget = NewCallBudget(DefaultMaxCalls)
	}
	if s.pageSize <= 0 || s.pageSize > DefaultPageSize {
		s.pageSize = DefaultPageSize
	}
	if s.maxItems <= 0 {
		s.maxItems = DefaultMaxItems
	}
	s.shop = &shopDrop{s: s}
	return s
}

// Shop returns the shop variable: the shop's attributes and its lazy
// collections.
func (s *Session) Shop() any { return s.shop }

// Err returns the first failure of a lookup that was made without a way
// to report it (a filter reading a drop property); a run that sees one
// must fail, as its output may rest on a value that was not there.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Session) noteErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Wrap returns the value of an event's subject variable with the lazy
// associations of its resource: subject is the variable's name ("order",
// "customer", "refund", "order_edit", …, or a plural such as "orders" for
// an array of them). Hashes are copied, not changed, so event.data stays
// a plain hash; values of subjects without REST associations are returned
// as they are.
func (s *Session) Wrap(subject string, data any) any {
	if k := kinds[subject]; k != nil {
		return s.wrap(k, data)
	}
	if k := kinds[singularOf(subject)]; k != nil {
		if arr, ok := data.([]any); ok {
			return s.wrapAll(k, arr)
		}
	}
	return data
}

func singularOf(s string) string {
	switch {
	case len(s) > 3 && s[len(s)-3:] == "ies":
		return s[:len(s)-3] + "y"
	case len(s) > 1 && s[len(s)-1] == 's':
		return s[:len(s)-1]
	}
	return s
}
