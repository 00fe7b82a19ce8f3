package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/sprocketrun/sprocket/shopify/schema"
)

// Defaults of Options.
const (
	DefaultShop           = "sandbox.myshopify.com"
	DefaultBucketSize     = 2000
	DefaultRestoreRate    = 100
	DefaultRESTBucketSize = 40
	DefaultRESTLeakRate   = 2
	DefaultMaxBodyBytes   = 4 << 20
	// DefaultAPIVersion is the API version subscriptions made without one
	// (the Go API, /admin/<resource>.json) declare.
	DefaultAPIVersion = "2026-01"
	// DefaultAPISecret signs webhook deliveries when Options.APISecret is
	// empty; it is public, so a sandbox is never a real shop's signer.
	DefaultAPISecret        = "sandbox-api-secret"
	DefaultWebhookAttempts  = 5
	DefaultWebhookRetry     = time.Second
	DefaultWebhookTimeout   = 5 * time.Second
	DefaultWebhookQueueSize = 1000
	DefaultWebhookWorkers   = 4
)

// Options configure a Sandbox.
type Options struct {
	// Schema is the Admin GraphQL schema served (required).
	Schema *schema.Schema
	// Schemas optionally serves other API versions with their own schema:
	// a request to /admin/api/{version}/graphql.json uses Schemas[version]
	// when present, else Schema.
	Schemas map[string]*schema.Schema
	// Shop is the shop's myshopify domain (default DefaultShop).
	Shop string
	// AccessToken is the required X-Shopify-Access-Token value (required).
	AccessToken string
	// BucketSize and RestoreRate shape the GraphQL cost bucket: points
	// available at most and points restored per second.
	BucketSize  float64
	RestoreRate float64
	// RESTBucketSize and RESTLeakRate shape the REST leaky bucket:
	// requests held at most and requests leaked per second.
	RESTBucketSize int
	RESTLeakRate   float64
	// MaxQueryCost is the largest requested cost of one query (0 means
	// Shopify's 1000; negative disables the check). Shopify's per-field
	// cost overrides are not published, so a query the documented default
	// costs put above 1000 may still run on Shopify.
	MaxQueryCost int
	// Seed selects the deterministic seeded shop (0 means 1).
	Seed int64
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// Logger receives one debug line per request (default: discard).
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// APIVersion is the version of subscriptions made without one (default
	// DefaultAPIVersion).
	APIVersion string
	// APISecret is the app secret that signs webhook deliveries
	// (X-Shopify-Hmac-Sha256; default DefaultAPISecret).
	APISecret string
	// WebhookAttempts bounds the attempts of one delivery (default
	// DefaultWebhookAttempts); WebhookRetry is the delay before the first
	// retry, doubled for each further one (default DefaultWebhookRetry).
	WebhookAttempts int
	WebhookRetry    time.Duration
	// WebhookTimeout bounds one delivery request (default
	// DefaultWebhookTimeout, Shopify's 5 seconds).
	WebhookTimeout time.Duration
	// WebhookQueueSize bounds the deliveries waiting to be sent (default
	// DefaultWebhookQueueSize); an event that finds the queue full is
	// counted as failed and logged.
	WebhookQueueSize int
	// WebhookClient sends deliveries (default: a client with
	// WebhookTimeout).
	WebhookClient *http.Client
	// BulkDelay is how long a bulk operation stays RUNNING before it
	// completes (0: it completes within the mutation that starts it).
	BulkDelay time.Duration
}

// Stats counts what the sandbox has answered since it was created or reset.
type Stats struct {
	// Requests is every authenticated Admin API request (GraphQL and REST).
	Requests int `json:"requests"`
	// GraphQL is the GraphQL requests; REST the REST requests.
	GraphQL int `json:"graphql"`
	REST    int `json:"rest"`
	// Mutations is the mutation root fields executed.
	Mutations int `json:"mutations"`
	// Throttled is GraphQL requests answered THROTTLED; RESTThrottled
	// REST requests answered 429.
	Throttled     int `json:"throttled"`
	RESTThrottled int `json:"restThrottled"`
	// ExceededBucket is true when any request asked for more than the
	// bucket had (so it was throttled).
	ExceededBucket bool `json:"exceededBucket"`
	// MinAvailable is the lowest GraphQL bucket level left after charging
	// a request; MaxRESTUsed the fullest the REST bucket has been.
	MinAvailable float64 `json:"minAvailable"`
	MaxRESTUsed  int     `json:"maxRestUsed"`
	// InvalidQueries is GraphQL requests rejected by validation.
	InvalidQueries int `json:"invalidQueries"`
	// Unauthorized is requests with a missing or wrong access token.
	Unauthorized int `json:"unauthorized"`
	// Faults is the requests answered by an injected fault.
	Faults int `json:"faults"`
	// Webhooks counts webhook deliveries: Delivered got a 2xx answer,
	// Failed gave up (attempts exhausted or queue full), Pending are queued,
	// in flight or waiting for a retry; Attempts counts every POST.
	Webhooks WebhookStats `json:"webhooks"`
}

// WebhookStats counts webhook deliveries.
type WebhookStats struct {
	Events    int `json:"events"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	Pending   int `json:"pending"`
	Attempts  int `json:"attempts"`
}

// Fault makes the next Count Admin API requests fail: answer Status (a
// 5xx) or, when Hang is set, wait that long (or until the client gives up)
// before answering normally.
type Fault struct {
	Status int           `json:"status"`
	Hang   time.Duration `json:"hang"`
	Count  int           `json:"count"`
}

// Sandbox is a stand-in Shopify shop. It is safe for concurrent use.
type Sandbox struct {
	opts      Options
	schema    *schema.Schema
	log       *slog.Logger
	resolvers map[string]resolver
	mutations map[string]mutationFunc

	mu          sync.Mutex
	st          *store
	stats       Stats
	avail       float64
	availAt     time.Time
	restUsed    float64
	restAt      time.Time
	faults      []Fault
	epoch       time.Time
	orderNumber int
	draftNumber int
	invites     []string
	invoices    []Invoice
	host        string
	hooks       *deliverer
	// staged holds staged uploads by key (nil until the file is POSTed).
	staged map[string][]byte
	// bulkTimers complete delayed bulk operations; Reset and Close stop them.
	bulkTimers []*time.Timer
	flow       []FlowTrigger
}

// New creates a sandbox with its seeded shop.
func New(opts Options) (*Sandbox, error) {
	if opts.Schema == nil {
		return nil, errors.New("sandbox: Options.Schema is required")
	}
	if opts.AccessToken == "" {
		return nil, errors.New("sandbox: Options.AccessToken is required")
	}
	if opts.Shop == "" {
		opts.Shop = DefaultShop
	}
	if opts.BucketSize <= 0 {
		opts.BucketSize = DefaultBucketSize
	}
	if opts.RestoreRate <= 0 {
		opts.RestoreRate = DefaultRestoreRate
	}
	if opts.RESTBucketSize <= 0 {
		opts.RESTBucketSize = DefaultRESTBucketSize
	}
	if opts.RESTLeakRate <= 0 {
		opts.RESTLeakRate = DefaultRESTLeakRate
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.MaxQueryCost == 0 {
		opts.MaxQueryCost = schema.MaxQueryCost
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.APIVersion == "" {
		opts.APIVersion = DefaultAPIVersion
	}
	if opts.APISecret == "" {
		opts.APISecret = DefaultAPISecret
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = DefaultWebhookAttempts
	}
	if opts.WebhookRetry <= 0 {
		opts.WebhookRetry = DefaultWebhookRetry
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = DefaultWebhookTimeout
	}
	if opts.WebhookQueueSize <= 0 {
		opts.WebhookQueueSize = DefaultWebhookQueueSize
	}
	if opts.WebhookClient == nil {
		opts.WebhookClient = &http.Client{Timeout: opts.WebhookTimeout}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sb := &Sandbox{opts: opts, schema: opts.Schema, log: log, resolvers: resolverTable(), mutations: mutationTable()}
	sb.hooks = newDeliverer(sb)
	sb.Reset()
	return sb, nil
}

func (sb *Sandbox) now() time.Time { return sb.opts.Now() }

// Reset restores the seeded shop, full buckets and zero statistics.
func (sb *Sandbox) Reset() {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.st = newStore()
	sb.stats = Stats{MinAvailable: sb.opts.BucketSize}
	sb.avail = sb.opts.BucketSize
	sb.availAt = sb.now()
	sb.restUsed = 0
	sb.restAt = sb.now()
	sb.faults = nil
	sb.invites = nil
	sb.invoices = nil
	for _, t := range sb.bulkTimers {
		t.Stop()
	}
	sb.bulkTimers = nil
	sb.hooks.resetCounts()
	sb.staged = map[string][]byte{}
	sb.epoch = sb.now().UTC().AddDate(-3, 0, 0).Truncate(24 * time.Hour)
	sb.seed()
}

// Stats returns the request statistics.
func (sb *Sandbox) Stats() Stats {
	sb.mu.Lock()
	st := sb.stats
	sb.mu.Unlock()
	st.Webhooks = sb.hooks.stats()
	return st
}

// InjectFault queues a fault for the next Admin API requests.
func (sb *Sandbox) InjectFault(f Fault) error {
	if f.Count <= 0 {
		return errors.New("sandbox: fault count must be positive")
	}
	if f.Hang <= 0 && (f.Status < 500 || f.Status > 599) {
		return fmt.Errorf("sandbox: fault status %d is not a 5xx (and no hang given)", f.Status)
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.faults = append(sb.faults, f)
	return nil
}

// Object returns a copy of a stored object by GID, relations as GIDs.
func (sb *Sandbox) Object(gid string) (map[string]any, bool) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	o := sb.st.get(gid)
	if o == nil {
		return nil, false
	}
	return plainObject(o), true
}

// plainObject copies a stored object without internal fields.
func plainObject(o object) map[string]any {
	out := plain(o).(map[string]any)
	for k := range out {
		if strings.HasPrefix(k, "_") && k != "__typename" {
			delete(out, k)
		}
	}
	if q, ok := o["_quantities"].(map[string]int); ok {
		qq := map[string]any{}
		for k, v := range q {
			qq[k] = v
		}
		out["quantities"] = qq
	}
	return out
}

// IDs lists the GIDs of the stored objects of a GraphQL type, oldest first.
func (sb *Sandbox) IDs(typ string) []string {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	var out []string
	for _, o := range sb.st.list(typ) {
		out = append(out, o["id"].(string))
	}
	return out
}

// checkNewID verifies a requested GID: of the type and not taken.
func (sb *Sandbox) checkNewID(id, typ string) error {
	if id == "" {
		return nil
	}
	if t, _, ok := parseGID(id); !ok || t != typ {
		return fmt.Errorf("id %q is not a %s GID", id, typ)
	}
	if sb.st.get(id) != nil {
		return fmt.Errorf("id %s already exists", id)
	}
	return nil
}

// CreateOrder stores a new order and returns its GID.
func (sb *Sandbox) CreateOrder(spec OrderSpec) (string, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if err := sb.checkNewID(spec.ID, "Order"); err != nil {
		return "", fmt.Errorf("sandbox: create order: %w", err)
	}
	o, err := sb.addOrder(spec)
	if err != nil {
		return "", fmt.Errorf("sandbox: create order: %w", err)
	}
	sb.orderCreated(o)
	return o["id"].(string), nil
}

// CreateCustomer stores a new customer and returns its GID.
func (sb *Sandbox) CreateCustomer(spec CustomerSpec) (string, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if err := sb.checkNewID(spec.ID, "Customer"); err != nil {
		return "", fmt.Errorf("sandbox: create customer: %w", err)
	}
	if spec.Email != "" && sb.emailTaken(spec.Email, "") {
		return "", fmt.Errorf("sandbox: create customer: email %q has already been taken", spec.Email)
	}
	c := sb.addCustomer(spec, sb.now())
	sb.emit("customers/create", c)
	return c["id"].(string), nil
}

// CreateProduct stores a new product with its variants and returns its GID.
func (sb *Sandbox) CreateProduct(spec ProductSpec) (string, error) {
	if strings.TrimSpace(spec.Title) == "" {
		return "", errors.New("sandbox: create product: title is required")
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if err := sb.checkNewID(spec.ID, "Product"); err != nil {
		return "", fmt.Errorf("sandbox: create product: %w", err)
	}
	for i, v := range spec.Variants {
		if err := sb.checkNewID(v.ID, "ProductVariant"); err != nil {
			return "", fmt.Errorf("sandbox: create product: variants[%d]: %w", i, err)
		}
	}
	p := sb.addProduct(spec, sb.now())
	sb.emit("products/create", p)
	return p["id"].(string), nil
}

var (
	graphqlPath = regexp.MustCompile(`^/admin/api/([0-9]{4}-[0-9]{2}|unstable)/graphql\.json$`)
	restPath    = regexp.MustCompile(`^/admin(?:/api/([0-9]{4}-[0-9]{2}|unstable))?/(.+)\.json$`)
)

// Handler serves the Admin API (GraphQL and REST) and the /sandbox/
// control endpoints.
func (sb *Sandbox) Handler() http.Handler {
	return http.HandlerFunc(sb.serve)
}

func (sb *Sandbox) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			// A sandbox bug must not pass for Shopify's answer: say so.
			sb.log.Error("sandbox panic", "method", r.Method, "path", r.URL.Path, "panic", p)
			writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": fmt.Sprintf("sandbox internal error: %v", p)})
			return
		}
		sb.log.Debug("sandbox request", "method", r.Method, "path", r.URL.Path, "elapsed", time.Since(start))
	}()
	if strings.HasPrefix(r.URL.Path, bulkPathPrefix) {
		sb.serveBulkFile(w, r)
		return
	}
	if r.URL.Path == stagedPathPrefix || r.URL.Path == stagedPathPrefix+"/" {
		sb.serveStaged(w, r)
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") != sb.opts.AccessToken {
		sb.mu.Lock()
		sb.stats.Unauthorized++
		sb.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, sb.opts.MaxBodyBytes)
	path := r.URL.Path
	if strings.HasPrefix(path, "/sandbox/") {
		sb.control(w, r)
		return
	}
	if !strings.HasPrefix(path, "/admin/") {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	if !sb.fault(w, r) {
		return
	}
	if graphqlPath.MatchString(path) {
		sb.graphql(w, r)
		return
	}
	if m := restPath.FindStringSubmatch(path); m != nil {
		sb.rest(w, r, m[1], m[2])
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
}

// fault applies a queued fault; it reports whether to go on answering.
func (sb *Sandbox) fault(w http.ResponseWriter, r *http.Request) bool {
	sb.mu.Lock()
	if len(sb.faults) == 0 {
		sb.mu.Unlock()
		return true
	}
	f := sb.faults[0]
	sb.faults[0].Count--
	if sb.faults[0].Count <= 0 {
		sb.faults = sb.faults[1:]
	}
	sb.stats.Faults++
	sb.mu.Unlock()
	if f.Hang > 0 {
		// Read the body first: the server notices a client that gives up
		// only once the request body is consumed.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return false
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		}
		if f.Status == 0 {
			return true
		}
	}
	writeJSON(w, f.Status, map[string]any{"errors": http.StatusText(f.Status)})
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":"sandbox: cannot encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// graphqlRequest is the body of a GraphQL call.
type graphqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// ruleCodes maps gqlparser rules to the codes Shopify's errors carry.
var ruleCodes = map[string]string{
	"FieldsOnCorrectType":        "undefinedField",
	"KnownArgumentNames":         "argumentNotAccepted",
	"ProvidedRequiredArguments":  "missingRequiredArguments",
	"KnownTypeNames":             "undefinedType",
	"ScalarLeafs":                "selectionMismatch",
	"ValuesOfCorrectType":        "argumentLiteralsIncompatible",
	"NoUndefinedVariables":       "variableNotDefined",
	"NoUnusedVariables":          "variableNotUsed",
	"KnownFragmentNames":         "undefinedFragment",
	"NoUnusedFragments":          "useAndDefineFragment",
	"VariablesInAllowedPosition": "variableMismatch",
	"KnownDirectives":            "undefinedDirective",
}

func (sb *Sandbox) graphql(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"errors": "GraphQL requests must be POST"})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"errors": "request body too large or unreadable: " + err.Error()})
		return
	}
	var req graphqlRequest
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/graphql") {
		req.Query = string(body)
	} else if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "Invalid JSON in request body: " + err.Error()})
		return
	}
	sb.mu.Lock()
	sb.stats.Requests++
	sb.stats.GraphQL++
	sb.host = r.Host
	sb.mu.Unlock()
	if strings.TrimSpace(req.Query) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]any{"query": "Required parameter missing or invalid"}})
		return
	}
	s := sb.schema
	if m := graphqlPath.FindStringSubmatch(r.URL.Path); m != nil && sb.opts.Schemas[m[1]] != nil {
		s = sb.opts.Schemas[m[1]]
	}
	version := ""
	if m := graphqlPath.FindStringSubmatch(r.URL.Path); m != nil {
		version = m[1]
	}
	status, resp := sb.execute(s, version, req.Query, req.Variables, req.OperationName)
	writeJSON(w, status, resp)
}

// Execute runs one GraphQL request against Options.Schema as the HTTP
// endpoint does and returns the HTTP status and the response body.
func (sb *Sandbox) Execute(query string, variables map[string]any, operationName string) (int, map[string]any) {
	return sb.execute(sb.schema, "", query, variables, operationName)
}

func (sb *Sandbox) execute(sch *schema.Schema, version, query string, variables map[string]any, operationName string) (int, map[string]any) {
	doc, findings := sch.ParseAndValidate(query)
	if len(findings) > 0 {
		sb.mu.Lock()
		sb.stats.InvalidQueries++
		sb.mu.Unlock()
		errs := make([]gqlError, 0, len(findings))
		for _, f := range findings {
			ge := gqlError{Message: f.Message, Locations: []location{{f.Line, f.Column}}}
			if code := ruleCodes[f.Rule]; code != "" {
				ge.Extensions = map[string]any{"code": code}
			} else if f.Rule == "" {
				ge.Extensions = map[string]any{"code": "parseError"}
			} else {
				ge.Extensions = map[string]any{"code": f.Rule}
			}
			shopifyWording(&ge)
			errs = append(errs, ge)
		}
		return http.StatusOK, map[string]any{"errors": errs}
	}
	op, err := schema.PickOperation(doc, operationName)
	if err != nil {
		return http.StatusOK, map[string]any{"errors": []gqlError{{Message: strings.TrimPrefix(err.Error(), "shopify schema: "), Extensions: map[string]any{"code": "OPERATION_NOT_FOUND"}}}}
	}
	if op.Operation == ast.Subscription {
		return http.StatusOK, map[string]any{"errors": []gqlError{{Message: "Subscriptions are not supported", Extensions: map[string]any{"code": "BAD_REQUEST"}}}}
	}
	vars, err := validator.VariableValues(sch.AST(), op, variables)
	if err != nil {
		ge := gqlError{Message: err.Error(), Extensions: map[string]any{"code": "INVALID_VARIABLE"}}
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) {
			ge.Message = gerr.Message
		}
		return http.StatusOK, map[string]any{"errors": []gqlError{ge}}
	}
	requested, err := sch.Cost(doc, operationName, vars)
	if err != nil {
		return http.StatusOK, map[string]any{"errors": []gqlError{{Message: err.Error(), Extensions: map[string]any{"code": "BAD_REQUEST"}}}}
	}
	if limit := sb.opts.MaxQueryCost; limit > 0 && requested > limit {
		return http.StatusOK, map[string]any{"errors": []gqlError{{
			Message:    fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (%d).", requested, limit),
			Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": limit},
		}}}
	}

	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.restore()
	if float64(requested) > sb.avail {
		sb.stats.Throttled++
		sb.stats.ExceededBucket = true
		return http.StatusOK, map[string]any{
			"errors": []gqlError{{Message: "Throttled", Extensions: map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}},
			"extensions": map[string]any{"cost": map[string]any{
				"requestedQueryCost": requested, "actualQueryCost": nil, "throttleStatus": sb.throttleStatus(),
			}},
		}
	}
	sb.avail -= float64(requested)
	sb.stats.MinAvailable = math.Min(sb.stats.MinAvailable, sb.avail)
	if version == "" {
		version = sb.opts.APIVersion
	}
	e := &executor{sb: sb, sch: sch, schema: sch.AST(), doc: doc, op: op, vars: vars, version: version}
	data := e.run()
	actual := min(e.actual, requested)
	sb.avail = math.Min(sb.opts.BucketSize, sb.avail+float64(requested-actual))
	resp := map[string]any{"data": data}
	if len(e.errs) > 0 {
		resp["errors"] = e.errs
	}
	resp["extensions"] = map[string]any{"cost": map[string]any{
		"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": sb.throttleStatus(),
	}}
	return http.StatusOK, resp
}

// restore refills the GraphQL bucket for the time passed. Caller holds mu.
func (sb *Sandbox) restore() {
	now := sb.now()
	if dt := now.Sub(sb.availAt).Seconds(); dt > 0 {
		sb.avail = math.Min(sb.opts.BucketSize, sb.avail+dt*sb.opts.RestoreRate)
	}
	sb.availAt = now
}

func (sb *Sandbox) throttleStatus() map[string]any {
	return map[string]any{
		"maximumAvailable":   sb.opts.BucketSize,
		"currentlyAvailable": math.Floor(sb.avail),
		"restoreRate":        sb.opts.RestoreRate,
	}
}

// control serves the /sandbox/ endpoints.
func (sb *Sandbox) control(w http.ResponseWriter, r *http.Request) {
	decode := func(v any) bool {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid JSON body: " + err.Error()})
			return false
		}
		return true
	}
	route := r.Method + " " + strings.TrimSuffix(r.URL.Path, "/")
	switch route {
	case "GET /sandbox/stats":
		writeJSON(w, http.StatusOK, sb.Stats())
	case "POST /sandbox/reset":
		sb.Reset()
		writeJSON(w, http.StatusOK, map[string]any{"reset": true})
	case "GET /sandbox/objects":
		id := r.URL.Query().Get("id")
		if id == "" {
			typ := r.URL.Query().Get("type")
			if typ == "" {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "give ?id=<GID> or ?type=<GraphQL type>"})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"ids": sb.IDs(typ)})
			return
		}
		o, ok := sb.Object(id)
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"error": "no object " + id})
			return
		}
		writeJSON(w, http.StatusOK, o)
	case "POST /sandbox/orders":
		var spec OrderSpec
		if decode(&spec) {
			sb.answerCreate(w, "order")(sb.CreateOrder(spec))
		}
	case "POST /sandbox/customers":
		var spec CustomerSpec
		if decode(&spec) {
			sb.answerCreate(w, "customer")(sb.CreateCustomer(spec))
		}
	case "POST /sandbox/products":
		var spec ProductSpec
		if decode(&spec) {
			sb.answerCreate(w, "product")(sb.CreateProduct(spec))
		}
	case "POST /sandbox/import/orders", "POST /sandbox/import/customers", "POST /sandbox/import/products":
		var body map[string]any
		if !decode(&body) {
			return
		}
		resource := strings.TrimPrefix(route, "POST /sandbox/import/")
		if inner, ok := body[strings.TrimSuffix(resource, "s")].(map[string]any); ok && len(body) == 1 {
			body = inner
		}
		id, created, err := sb.ImportREST(resource, body)
		if err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": err.Error()})
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(w, status, map[string]any{"id": id, "created": created})
	case "POST /sandbox/deliver":
		var in struct {
			Topic string `json:"topic"`
			ID    string `json:"id"`
		}
		if !decode(&in) {
			return
		}
		if in.Topic == "" || in.ID == "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "give topic (\"orders/create\") and id (a GID or numeric id)"})
			return
		}
		d, err := sb.Deliver(in.Topic, in.ID)
		if err != nil {
			status := http.StatusUnprocessableEntity
			if errors.Is(err, ErrNoSubscription) {
				status = http.StatusConflict
			}
			writeJSON(w, status, map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusAccepted, d)
	case "GET /sandbox/webhooks":
		writeJSON(w, http.StatusOK, map[string]any{"subscriptions": nonNilSubs(sb.WebhookSubscriptions()), "stats": sb.Stats().Webhooks})
	case "POST /sandbox/faults":
		var in struct {
			Status int    `json:"status"`
			Hang   string `json:"hang"`
			Count  int    `json:"count"`
		}
		if !decode(&in) {
			return
		}
		f := Fault{Status: in.Status, Count: in.Count}
		if in.Hang != "" {
			d, err := time.ParseDuration(in.Hang)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "hang: " + err.Error()})
				return
			}
			f.Hang = d
		}
		if err := sb.InjectFault(f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"queued": f.Count})
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "unknown control endpoint " + route +
			"; have GET /sandbox/stats, POST /sandbox/reset, GET /sandbox/objects?id=|type=, POST /sandbox/orders|customers|products, POST /sandbox/import/orders|customers|products, POST /sandbox/faults, POST /sandbox/deliver, GET /sandbox/webhooks"})
	}
}

func (sb *Sandbox) answerCreate(w http.ResponseWriter, kind string) func(string, error) {
	return func(id string, err error) {
		if err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": err.Error()})
			return
		}
		o, _ := sb.Object(id)
		writeJSON(w, http.StatusCreated, map[string]any{kind: o})
	}
}

var (
	undefinedFieldRE  = regexp.MustCompile(`^Cannot query field "([^"]+)" on type "([^"]+)"\.`)
	unknownArgumentRE = regexp.MustCompile(`^Unknown argument "([^"]+)" on field "(?:[^".]+\.)?([^"]+)"\.`)
	missingArgRE      = regexp.MustCompile(`^Field "([^"]+)" argument "([^"]+)" of type "[^"]+" is required`)
)

// shopifyWording rewrites the commonest validation messages the way
// Shopify's GraphQL server words them, with the same extensions.
func shopifyWording(ge *gqlError) {
	if m := undefinedFieldRE.FindStringSubmatch(ge.Message); m != nil {
		ge.Message = fmt.Sprintf("Field '%s' doesn't exist on type '%s'", m[1], m[2])
		ge.Extensions["typeName"], ge.Extensions["fieldName"] = m[2], m[1]
	} else if m := unknownArgumentRE.FindStringSubmatch(ge.Message); m != nil {
		ge.Message = fmt.Sprintf("Field '%s' doesn't accept argument '%s'", m[2], m[1])
		ge.Extensions["name"], ge.Extensions["typeName"], ge.Extensions["argumentName"] = m[2], "Field", m[1]
	} else if m := missingArgRE.FindStringSubmatch(ge.Message); m != nil {
		ge.Message = fmt.Sprintf("Field '%s' is missing required arguments: %s", m[1], m[2])
		ge.Extensions["className"], ge.Extensions["name"], ge.Extensions["arguments"] = "Field", m[1], m[2]
	}
}

func nonNilSubs(l []WebhookSubscription) []WebhookSubscription {
	if l == nil {
		return []WebhookSubscription{}
	}
	return l
}
