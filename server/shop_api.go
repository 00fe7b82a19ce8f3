package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/ingress/shopifyhook"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/shopify/scopes"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// The shop connection API:
//
//   - GET /v1/shop/connection: the connection, never a credential;
//   - PUT /v1/shop/connection: connect with an access token or a client id
//     and secret (client-credentials grant); the token is checked against
//     the shop (unless "verify": false) and stored sealed;
//   - DELETE /v1/shop/connection: forget it;
//   - POST /v1/shop/oauth/install: begin the OAuth authorization-code
//     install of an app, answering the URL to send the merchant to;
//   - GET /shopify/oauth/callback: where Shopify sends the merchant back
//     (public; checked by HMAC and the state nonce).

// shopRoutes adds the shop connection endpoints to the API map.
func (s *Service) shopRoutes(api map[string]apiHandler) {
	api["GET /v1/shop/connection"] = s.getShopConnection
	api["PUT /v1/shop/connection"] = s.putShopConnection
	api["DELETE /v1/shop/connection"] = s.deleteShopConnection
	api["POST /v1/shop/oauth/install"] = s.oauthInstall
	api["POST /v1/shop/send"] = s.sendResources
}

func (s *Service) getShopConnection(*http.Request) (int, any, error) {
	return http.StatusOK, s.shop.describe(), nil
}

// envManaged refuses API changes to a connection made from the environment.
func (s *Service) envManaged() error {
	if s.cfg.Shopify.Shop != "" {
		return errorf(http.StatusConflict, "", "the shop connection is configured by the environment (SPROCKET_SHOPIFY_SHOP); unset it to manage the connection through the API")
	}
	return nil
}

type putConnectionBody struct {
	connectRequest
	// Verify checks the credentials against the shop first (default true).
	Verify *bool `json:"verify"`
}

func (s *Service) putShopConnection(r *http.Request) (int, any, error) {
	if err := s.envManaged(); err != nil {
		return 0, nil, err
	}
	var body putConnectionBody
	if err := decodeBody(r, &body); err != nil {
		return 0, nil, err
	}
	if body.BaseURL != "" {
		if u, err := url.Parse(body.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "base_url", "base_url %q is not an http(s) URL", body.BaseURL)
		}
	}
	if body.APIVersion != "" && !apiVersionRE(body.APIVersion) {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "api_version", "api_version %q is not of the form YYYY-MM (or unstable)", body.APIVersion)
	}
	conn, err := s.shop.connect(r.Context(), body.connectRequest)
	if err != nil {
		return 0, nil, err
	}
	if body.Verify == nil || *body.Verify {
		if err := s.shop.verify(r.Context(), conn); err != nil {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "access_token", "the shop did not accept the credentials: %v", err)
		}
	}
	if err := s.shop.save(r.Context(), conn, body.connectRequest); err != nil {
		return 0, nil, err
	}
	s.log.Info("shopify connection saved", "shop", conn.shop, "auth", conn.auth)
	s.hookSync.Kick()
	return http.StatusOK, s.shop.describe(), nil
}

func (s *Service) deleteShopConnection(r *http.Request) (int, any, error) {
	if err := s.envManaged(); err != nil {
		return 0, nil, err
	}
	if err := s.shop.remove(r.Context()); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.shop.describe(), nil
}

// apiVersionRE reports whether v looks like an Admin API version.
func apiVersionRE(v string) bool {
	if v == "unstable" {
		return true
	}
	if len(v) != 7 || v[4] != '-' {
		return false
	}
	for i, c := range v {
		if i != 4 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// oauthState is a pending OAuth install.
type oauthState struct {
	Shop         string    `json:"shop"`
	ClientID     string    `json:"client_id"`
	ClientSecret string    `json:"sealed_client_secret"`
	BaseURL      string    `json:"base_url,omitempty"`
	APIVersion   string    `json:"api_version,omitempty"`
	RedirectURI  string    `json:"redirect_uri"`
	Scopes       []string  `json:"scopes"`
	CreatedAt    time.Time `json:"created_at"`
}

type installBody struct {
	Shop         string   `json:"shop"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Scopes       []string `json:"scopes"`
	RedirectURI  string   `json:"redirect_uri"`
	BaseURL      string   `json:"base_url"`
	APIVersion   string   `json:"api_version"`
}

// oauthInstall begins an OAuth install: it stores a state nonce and
// answers the URL that asks the merchant to grant the scopes the enabled
// tasks need (or those given).
func (s *Service) oauthInstall(r *http.Request) (int, any, error) {
	if err := s.envManaged(); err != nil {
		return 0, nil, err
	}
	var body installBody
	if err := decodeBody(r, &body); err != nil {
		return 0, nil, err
	}
	body.Shop = strings.ToLower(strings.TrimSpace(body.Shop))
	switch {
	case !shopify.ValidShopDomain(body.Shop):
		return 0, nil, errorf(http.StatusUnprocessableEntity, "shop", "shop %q is not a shop domain of the form name.myshopify.com", body.Shop)
	case body.ClientID == "":
		return 0, nil, errorf(http.StatusUnprocessableEntity, "client_id", "client_id is required")
	case body.ClientSecret == "":
		return 0, nil, errorf(http.StatusUnprocessableEntity, "client_secret", "client_secret is required")
	}
	if body.RedirectURI == "" {
		body.RedirectURI = strings.TrimRight(s.publicURL(r), "/") + "/shopify/oauth/callback"
	}
	want := body.Scopes
	if len(want) == 0 {
		need, err := s.scopes.needed(r.Context())
		if err != nil {
			return 0, nil, err
		}
		want = need.all
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return 0, nil, fmt.Errorf("oauth state: %w", err)
	}
	state := hex.EncodeToString(nonce[:])
	raw, err := json.Marshal(oauthState{
		Shop: body.Shop, ClientID: body.ClientID, BaseURL: body.BaseURL, APIVersion: body.APIVersion,
		ClientSecret: s.box.Seal([]byte(body.ClientSecret), "shopify/oauth/"+state),
		RedirectURI:  body.RedirectURI, Scopes: want, CreatedAt: time.Now().UTC(),
	})
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.st.PutSetting(r.Context(), settingShopifyOAuth, state, raw); err != nil {
		return 0, nil, fmt.Errorf("store oauth state: %w", err)
	}
	install := shopify.InstallURL(body.Shop, body.ClientID, want, body.RedirectURI, state)
	if body.BaseURL != "" { // a stand-in shop serves the authorize page itself
		install = strings.TrimRight(body.BaseURL, "/") + strings.TrimPrefix(install, "https://"+body.Shop)
	}
	return http.StatusOK, map[string]any{
		"install_url":  install,
		"state":        state,
		"scopes":       want,
		"redirect_uri": body.RedirectURI,
		"expires_at":   time.Now().Add(oauthStateTTL).UTC().Format(time.RFC3339),
	}, nil
}

// publicURL is the service's public base URL.
func (s *Service) publicURL(r *http.Request) string {
	if s.cfg.Shopify.PublicURL != "" {
		return s.cfg.Shopify.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// oauthCallback completes an OAuth install: it checks the state nonce and
// the HMAC, exchanges the code for an offline token and stores the
// connection.
func (s *Service) oauthCallback(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		s.log.Warn("shopify oauth callback refused", "reason", msg)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!doctype html><title>Sprocket</title><p>The Shopify install did not complete: %s</p>\n", html.EscapeString(msg))
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || len(state) > 64 {
		fail(http.StatusBadRequest, "the callback has no valid state parameter")
		return
	}
	ctx := r.Context()
	set, err := s.st.GetSetting(ctx, settingShopifyOAuth, state)
	if errors.Is(err, store.ErrNotFound) {
		fail(http.StatusBadRequest, "unknown or already used state; begin the install again")
		return
	}
	if err != nil {
		fail(http.StatusInternalServerError, "could not read the install state")
		return
	}
	var st oauthState
	if err := json.Unmarshal(set.Value, &st); err != nil {
		fail(http.StatusInternalServerError, "could not read the install state")
		return
	}
	if time.Since(st.CreatedAt) > oauthStateTTL {
		_ = s.st.DeleteSetting(ctx, settingShopifyOAuth, state)
		fail(http.StatusBadRequest, "the install took too long; begin it again")
		return
	}
	secret, err := s.box.Open(st.ClientSecret, "shopify/oauth/"+state)
	if err != nil {
		fail(http.StatusInternalServerError, "could not open the stored client secret")
		return
	}
	if err := shopify.VerifyCallback(q, string(secret), oauthStateTTL, time.Now()); err != nil {
		fail(http.StatusUnauthorized, err.Error())
		return
	}
	if !strings.EqualFold(q.Get("shop"), st.Shop) {
		fail(http.StatusUnauthorized, "the callback names another shop than the install")
		return
	}
	// The state is used once, whatever happens next.
	_ = s.st.DeleteSetting(ctx, settingShopifyOAuth, state)
	base := st.BaseURL
	if base == "" {
		base = "https://" + st.Shop
	}
	tok, err := shopify.ExchangeCode(ctx, nil, base, st.ClientID, string(secret), q.Get("code"))
	if err != nil {
		fail(http.StatusBadGateway, "the code exchange failed: "+err.Error())
		return
	}
	req := connectRequest{Shop: st.Shop, AccessToken: tok.AccessToken, ClientID: st.ClientID, ClientSecret: string(secret), BaseURL: st.BaseURL, APIVersion: st.APIVersion}
	conn, err := s.shop.connect(ctx, req)
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	conn.auth = authOAuth
	conn.scopes = []string(tok.Scopes)
	if err := s.shop.save(ctx, conn, req); err != nil {
		fail(http.StatusInternalServerError, "could not store the connection")
		return
	}
	s.log.Info("shopify app installed", "shop", st.Shop, "scopes", strings.Join(conn.scopes, ","))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>Sprocket</title><p>Sprocket is connected to %s with scopes %s. You can close this window.</p>\n",
		html.EscapeString(st.Shop), html.EscapeString(strings.Join(conn.scopes, ", ")))
}

// shopifyStatus is the Shopify part of GET /v1/shop/status.
func (s *Service) shopifyStatus(ctx context.Context) (map[string]any, error) {
	out := s.shop.describe()
	need, err := s.scopes.needed(ctx)
	if err != nil {
		return nil, err
	}
	granted, _ := out["scopes"].([]string)
	out["scopes_needed"] = need.all
	if conn := s.shop.current(); conn != nil {
		out["scopes_missing"] = nonNil(scopes.Missing(granted, need.all))
		byTask := []map[string]any{}
		for _, t := range need.tasks {
			if miss := scopes.Missing(granted, t.scopes); len(miss) > 0 {
				byTask = append(byTask, map[string]any{"task_id": t.id, "name": t.name, "missing": miss})
			}
		}
		out["tasks_missing_scopes"] = byTask
		out["rate_limit"] = conn.client.ThrottleState()
		if rep := s.hookSync.report(); !rep.At.IsZero() {
			out["webhook_subscriptions"] = rep
		}
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// taskScopes works out the scopes enabled tasks need, by previewing each
// task once per definition (cached by content).
type taskScopes struct {
	st      store.Tasks
	preview func(ctx context.Context, t *task.Task) (*run.Preview, error)

	mu    sync.Mutex
	cache map[string][]string // definition → scopes
}

type neededScopes struct {
	all   []string
	tasks []taskNeed
}

type taskNeed struct {
	id, name string
	scopes   []string
}

// needed lists the scopes of every enabled task.
func (ts *taskScopes) needed(ctx context.Context) (neededScopes, error) {
	enabled := true
	all := scopes.Set{}
	var out neededScopes
	cursor := ""
	for {
		list, next, err := ts.st.ListTasks(ctx, store.TaskFilter{Enabled: &enabled, Page: store.Page{Cursor: cursor, Limit: store.MaxPageLimit}})
		if err != nil {
			return out, fmt.Errorf("list tasks: %w", err)
		}
		for _, t := range list {
			sc := ts.forTask(ctx, t)
			for _, x := range sc {
				all.Add(x)
			}
			out.tasks = append(out.tasks, taskNeed{id: t.ID, name: t.Name, scopes: sc})
		}
		if next == "" {
			break
		}
		cursor = next
	}
	out.all = nonNil(all.List())
	return out, nil
}

func (ts *taskScopes) forTask(ctx context.Context, st store.Task) []string {
	key := string(st.Definition)
	ts.mu.Lock()
	sc, ok := ts.cache[key]
	ts.mu.Unlock()
	if ok {
		return sc
	}
	set := scopes.Set{}
	for _, sub := range st.Subscriptions {
		set.Add(scopes.ForTopic(sub))
	}
	if t, err := task.Parse(st.Definition); err == nil {
		for _, p := range dialect.Permissions(t.Script) {
			set.Add(p)
		}
		if !hasPermissionsTag(t.Script) && ts.preview != nil {
			if pv, err := ts.preview(ctx, t); err == nil {
				set.AddAll(previewScopes(pv))
			}
		}
	}
	sc = set.List()
	ts.mu.Lock()
	if ts.cache == nil || len(ts.cache) > 4096 {
		ts.cache = map[string][]string{}
	}
	ts.cache[key] = sc
	ts.mu.Unlock()
	return sc
}

// hasPermissionsTag reports whether the task declares its scopes itself,
// which replaces inference (docs: core/tasks/permissions.md).
func hasPermissionsTag(script string) bool {
	return len(dialect.Permissions(script)) > 0
}

// previewScopes collects the scopes of a preview's shopify filter queries
// and shopify actions.
func previewScopes(pv *run.Preview) scopes.Set {
	set := scopes.Set{}
	for _, r := range pv.Runs {
		if r.Result == nil {
			continue
		}
		for _, q := range r.Result.Queries {
			set.AddAll(scopes.ForGraphQL(q, ""))
		}
		if r.Result.Output == nil {
			continue
		}
		for _, a := range r.Result.Output.Actions {
			if a.Type != "shopify" {
				continue
			}
			set.AddAll(ShopifyActionScopes(a.Options))
		}
	}
	return set
}

// ShopifyActionScopes returns the scopes a shopify action's options need:
// its GraphQL (string or {query, variables}) or its REST call.
func ShopifyActionScopes(opts any) scopes.Set {
	opts, _ = action.SplitControl(opts)
	switch o := opts.(type) {
	case string:
		return scopes.ForGraphQL(o, "")
	case *value.Map:
		q, _ := o.Get("query")
		qs, _ := q.(string)
		vars := ""
		if v, ok := o.Get("variables"); ok && v != nil {
			if b, err := value.ToJSON(v); err == nil {
				vars = string(b)
			}
		}
		return scopes.ForGraphQL(qs, vars)
	case []any:
		set := scopes.Set{}
		if len(o) >= 2 {
			m, _ := o[0].(string)
			if p, ok := o[1].(string); ok {
				set.Add(scopes.ForREST(m, p))
			}
		}
		return set
	}
	return scopes.Set{}
}

// shopifyWebhooks is the receiver of Shopify's webhooks for the connected shop.
func (s *Service) shopifyWebhooks() http.Handler {
	h, err := shopifyhook.New(shopifyhook.Options{
		Secret: func(shop string) (string, bool) {
			conn := s.shop.current()
			if conn == nil || !strings.EqualFold(conn.shop, shop) {
				return "", false
			}
			return conn.apiSecret, true
		},
		Events: s.batcher,
		Accepted: func(topic string) {
			s.wake()
			if topic == "bulk_operations/finish" {
				s.bulk.Kick()
			}
		},
		Logger: s.log,
	})
	if err != nil { // only for missing options, which are set above
		panic(err)
	}
	return h
}

// actionLinkResources maps the resource types of Shopify admin action
// links (docs: core/shopify/admin-action-links.md) to their REST paths;
// products and variants carry only their ids.
var actionLinkResources = map[string]struct {
	plural, rest, gid string
	idsOnly, noBatch  bool
}{
	"customer":    {plural: "customers", rest: "customers", gid: "Customer"},
	"order":       {plural: "orders", rest: "orders", gid: "Order"},
	"draft_order": {plural: "draft_orders", rest: "draft_orders", gid: "DraftOrder"},
	"product":     {plural: "products", gid: "Product", idsOnly: true},
	"variant":     {plural: "variants", gid: "ProductVariant", idsOnly: true},
	"collection":  {plural: "collections", rest: "collections", gid: "Collection", noBatch: true},
}

// maxActionLinkIDs is the most resources one action link sends.
const maxActionLinkIDs = 50

type actionLinkBody struct {
	ResourceType string   `json:"resource_type"`
	IDs          []any    `json:"ids"`
	Mode         string   `json:"mode"`
	TaskIDs      []string `json:"task_ids"`
}

// sendResources answers POST /v1/shop/send: the admin action link. It
// fetches each resource from the shop and creates one mechanic/user/<type>
// event per resource (mode "individual", the default) or one
// mechanic/user/<types> event with all of them ("batch"), for the given
// tasks or every task subscribed to the topic.
func (s *Service) sendResources(r *http.Request) (int, any, error) {
	if err := s.checkIngest(r); err != nil {
		return 0, nil, err
	}
	var body actionLinkBody
	if err := decodeBody(r, &body); err != nil {
		return 0, nil, err
	}
	res, ok := actionLinkResources[body.ResourceType]
	if !ok {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "resource_type", "resource_type %q is not one of customer, order, draft_order, product, variant, collection", body.ResourceType)
	}
	if len(body.IDs) == 0 || len(body.IDs) > maxActionLinkIDs {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "ids", "give 1 to %d resource ids", maxActionLinkIDs)
	}
	switch body.Mode {
	case "", "individual":
		body.Mode = "individual"
	case "batch":
		if res.noBatch {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "mode", "%s resources have no batch mode", body.ResourceType)
		}
	default:
		return 0, nil, errorf(http.StatusUnprocessableEntity, "mode", "mode must be individual or batch")
	}
	ids := make([]string, 0, len(body.IDs))
	for _, v := range body.IDs {
		id := strings.TrimPrefix(fmt.Sprint(v), "gid://shopify/"+res.gid+"/")
		if f, ok := v.(float64); ok {
			id = strconv.FormatFloat(f, 'f', -1, 64)
		}
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "ids", "resource id %v is not a number or a %s global id", v, res.gid)
		}
		ids = append(ids, id)
	}
	var items []json.RawMessage
	for _, id := range ids {
		if res.idsOnly {
			items = append(items, json.RawMessage(fmt.Sprintf(`{"id":%s,"admin_graphql_api_id":"gid://shopify/%s/%s"}`, id, res.gid, id)))
			continue
		}
		resp, err := s.shop.REST(r.Context(), shopify.RESTRequest{Method: "GET", Path: res.rest + "/" + id + ".json"})
		if err != nil {
			var he *shopify.HTTPError
			if errors.As(err, &he) && he.Status == http.StatusNotFound {
				return 0, nil, errorf(http.StatusNotFound, "ids", "the shop has no %s %s", body.ResourceType, id)
			}
			if errors.Is(err, shopify.ErrNotConnected) {
				return 0, nil, errorf(http.StatusConflict, "", "%v", err)
			}
			return 0, nil, errorf(http.StatusBadGateway, "", "fetch %s %s: %v", body.ResourceType, id, err)
		}
		var wrap map[string]json.RawMessage
		if err := json.Unmarshal(resp.Body, &wrap); err != nil || len(wrap[body.ResourceType]) == 0 {
			return 0, nil, errorf(http.StatusBadGateway, "", "fetch %s %s: unexpected answer", body.ResourceType, id)
		}
		items = append(items, wrap[body.ResourceType])
	}
	var evs []store.NewEvent
	if body.Mode == "batch" {
		raw, _ := json.Marshal(items)
		evs = append(evs, store.NewEvent{Topic: "mechanic/user/" + res.plural, Data: raw})
	} else {
		for _, it := range items {
			evs = append(evs, store.NewEvent{Topic: "mechanic/user/" + body.ResourceType, Data: it})
		}
	}
	out := []string{}
	for _, ev := range evs {
		ev.ID = store.NewTimeID(time.Now())
		ev.Source, ev.TaskIDs = "mechanic", body.TaskIDs
		saved, err := s.batcher.Insert(r.Context(), ev)
		if err != nil {
			return 0, nil, fmt.Errorf("store event: %w", err)
		}
		out = append(out, saved.ID)
	}
	s.wake()
	return http.StatusCreated, map[string]any{"event_ids": out, "topic": evs[0].Topic, "mode": body.Mode}, nil
}
