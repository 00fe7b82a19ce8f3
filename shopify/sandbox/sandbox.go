package sandbox

import (
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
)

// Options configure a Sandbox.
type Options struct {
	// Schema is the Admin GraphQL schema served (required).
	Schema *schema.Schema
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
	// Seed selects the deterministic seeded shop (0 means 1).
	Seed int64
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// Logger receives one debug line per request (default: discard).
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
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
	flow        []FlowTrigger
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
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sb := &Sandbox{opts: opts, schema: opts.Schema, log: log, resolvers: resolverTable(), mutations: mutationTable()}
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
	sb.epoch = sb.now().UTC().AddDate(-3, 0, 0).Truncate(24 * time.Hour)
	sb.seed()
}

// Stats returns the request statistics.
func (sb *Sandbox) Stats() Stats {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.stats
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

// CreateOrder stores a new order and returns its GID.
func (sb *Sandbox) CreateOrder(spec OrderSpec) (string, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	o, err := sb.addOrder(spec)
	if err != nil {
		return "", fmt.Errorf("sandbox: create order: %w", err)
	}
	return o["id"].(string), nil
}

// CreateCustomer stores a new customer and returns its GID.
func (sb *Sandbox) CreateCustomer(spec CustomerSpec) (string, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if spec.Email != "" && sb.emailTaken(spec.Email, "") {
		return "", fmt.Errorf("sandbox: create customer: email %q has already been taken", spec.Email)
	}
	return sb.addCustomer(spec, sb.now())["id"].(string), nil
}

// CreateProduct stores a new product with its variants and returns its GID.
func (sb *Sandbox) CreateProduct(spec ProductSpec) (string, error) {
	if strings.TrimSpace(spec.Title) == "" {
		return "", errors.New("sandbox: create product: title is required")
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.addProduct(spec, sb.now())["id"].(string), nil
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
		sb.log.Debug("sandbox request", "method", r.Method, "path", r.URL.Path, "elapsed", time.Since(start))
	}()
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
	sb.mu.Unlock()
	if strings.TrimSpace(req.Query) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]any{"query": "Required parameter missing or invalid"}})
		return
	}
	status, resp := sb.Execute(req.Query, req.Variables, req.OperationName)
	writeJSON(w, status, resp)
}

// Execute runs one GraphQL request as the HTTP endpoint does and returns
// the HTTP status and the response body.
func (sb *Sandbox) Execute(query string, variables map[string]any, operationName string) (int, map[string]any) {
	doc, findings := sb.schema.ParseAndValidate(query)
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
	vars, err := validator.VariableValues(sb.schema.AST(), op, variables)
	if err != nil {
		ge := gqlError{Message: err.Error(), Extensions: map[string]any{"code": "INVALID_VARIABLE"}}
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) {
			ge.Message = gerr.Message
		}
		return http.StatusOK, map[string]any{"errors": []gqlError{ge}}
	}
	requested, err := sb.schema.Cost(doc, operationName, vars)
	if err != nil {
		return http.StatusOK, map[string]any{"errors": []gqlError{{Message: err.Error(), Extensions: map[string]any{"code": "BAD_REQUEST"}}}}
	}
	if requested > schema.MaxQueryCost {
		return http.StatusOK, map[string]any{"errors": []gqlError{{
			Message:    fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (%d).", requested, schema.MaxQueryCost),
			Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": schema.MaxQueryCost},
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
	e := &executor{sb: sb, schema: sb.schema.AST(), doc: doc, op: op, vars: vars}
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
			"; have GET /sandbox/stats, POST /sandbox/reset, GET /sandbox/objects?id=|type=, POST /sandbox/orders|customers|products, POST /sandbox/faults"})
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
