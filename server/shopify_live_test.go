package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/shared"
	"github.com/sprocketrun/sprocket/shopify/sandbox"
	"github.com/sprocketrun/sprocket/shopify/schema"
)

const sandboxToken = "shpat_sandbox_token_for_tests"

var (
	schemaOnce sync.Once
	schemaV    *schema.Schema
	schemaErr  error
)

// adminSchema loads the 2026-01 Admin schema once per test binary.
func adminSchema(t *testing.T) *schema.Schema {
	t.Helper()
	path := shared.For(t, "corpus", "shopify", "admin-schema", "admin_2026-01.json.gz")
	schemaOnce.Do(func() { schemaV, schemaErr = schema.LoadFile(path) })
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schemaV
}

// startSandbox serves a sandbox shop on loopback.
func startSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Sandbox, string) {
	t.Helper()
	opts.Schema = adminSchema(t)
	if opts.AccessToken == "" {
		opts.AccessToken = sandboxToken
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(ts.Close)
	return sb, ts.URL
}

// startShopService runs the service with its pipeline, connected to the
// sandbox at base through the environment configuration.
func startShopService(t *testing.T, base string, cfg Config) (*Service, *client) {
	t.Helper()
	cfg.DataDir, cfg.APIToken, cfg.DisableScheduler = t.TempDir(), testToken, true
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if cfg.NewPipeline == nil {
		cfg.NewPipeline = StandardPipeline(PipelineOptions{Network: loopbackNetwork})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Shopify.Shop == "" {
		// The service's own address is its public URL: the sandbox delivers
		// webhooks there.
		cfg.Shopify = ShopifyConfig{Shop: sandbox.DefaultShop, AccessToken: sandboxToken, BaseURL: base,
			APISecret: sandbox.DefaultAPISecret, PublicURL: "http://" + ln.Addr().String()}
	}
	svc, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, serveInProcess(t, svc, ln)
}

// runLogs returns the logs of a task run as JSON text.
func runLogs(r map[string]any) string {
	b, _ := json.Marshal(r["logs"])
	return string(b)
}

// TestShopifyLive runs tasks against the sandbox through the real client:
// the shopify filter, a GraphQL action, the variables form, a REST-form
// action and lazy REST lookups, and checks the shop's state after.
func TestShopifyLive(t *testing.T) {
	sb, base := startSandbox(t, sandbox.Options{})
	_, c := startShopService(t, base, Config{})
	orders := sb.IDs("Order")
	customers := sb.IDs("Customer")
	if len(orders) < 2 || len(customers) < 1 {
		t.Fatalf("sandbox seed: %d orders, %d customers", len(orders), len(customers))
	}
	order, order2, customer := orders[0], orders[1], customers[0]
	numID := func(gid string) string { return gid[strings.LastIndex(gid, "/")+1:] }

	reader := createTask(t, c, "reader", `{% assign r = "query { shop { name myshopifyDomain } }" | shopify %}{% log name: r.data.shop.name, domain: r.data.shop.myshopifyDomain %}`, "mechanic/user/trigger")
	vars := createTask(t, c, "vars", `{% assign v = hash %}{% assign v["id"] = "`+order+`" %}{% assign r = "query O($id: ID!) { order(id: $id) { id name } }" | shopify: variables: v %}{% log r.data.order %}`, "mechanic/user/trigger")
	writer := createTask(t, c, "writer", `{% action "shopify" %}mutation { tagsAdd(id: "`+order+`", tags: ["sprocket-live"]) { node { id } userErrors { field message } } }{% endaction %}`, "mechanic/user/trigger")
	varsWriter := createTask(t, c, "vars writer", `{% action "shopify" %}{"query": "mutation T($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { message } } }", "variables": {"id": "`+order2+`", "tags": ["via-variables"]}}{% endaction %}`, "mechanic/user/trigger")
	restWriter := createTask(t, c, "rest writer", `{% action "shopify" %}["put", "/admin/customers/`+numID(customer)+`.json", {"customer": {"note": "set over REST"}}]{% endaction %}`, "mechanic/user/trigger")
	lazy := createTask(t, c, "lazy", `{% assign first = shop.orders.any | first %}{% assign n = 0 %}{% for o in shop.orders.any %}{% assign n = n | plus: 1 %}{% endfor %}{% assign has = false %}{% if first.id %}{% assign has = true %}{% endif %}{% log count: n, first_has_id: has, shop: shop.myshopify_domain %}`, "mechanic/user/trigger")
	for _, id := range []string{reader, vars, writer, varsWriter, restWriter, lazy} {
		c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
	}
	for name, id := range map[string]string{"reader": reader, "vars": vars, "lazy": lazy} {
		r := waitFinal(t, c, "task_runs", id, 1)[0]
		if r["status"] != "success" {
			t.Errorf("%s: %v: %v", name, r["status"], r["error"])
		}
		t.Logf("%s logs: %s", name, runLogs(r))
	}
	if got := runLogs(waitFinal(t, c, "task_runs", reader, 1)[0]); !strings.Contains(got, sandbox.DefaultShop) {
		t.Errorf("reader logs %s", got)
	}
	if got := runLogs(waitFinal(t, c, "task_runs", vars, 1)[0]); !strings.Contains(got, order) {
		t.Errorf("vars logs %s", got)
	}
	if got := runLogs(waitFinal(t, c, "task_runs", lazy, 1)[0]); !strings.Contains(got, `"first_has_id":true`) || strings.Contains(got, `"count":0`) {
		t.Errorf("lazy logs %s", got)
	}
	for name, id := range map[string]string{"writer": writer, "vars writer": varsWriter, "rest writer": restWriter} {
		r := waitFinal(t, c, "action_runs", id, 1)[0]
		if r["status"] != "success" {
			t.Errorf("%s action: %v: %v", name, r["status"], r["error"])
		}
	}
	tagged := func(gid, tag string) bool {
		o, ok := sb.Object(gid)
		if !ok {
			t.Fatalf("no %s", gid)
		}
		b, _ := json.Marshal(o["tags"])
		return strings.Contains(string(b), tag)
	}
	if !tagged(order, "sprocket-live") || !tagged(order2, "via-variables") {
		t.Errorf("tags not in the sandbox: %v / %v", must(sb.Object(order)), must(sb.Object(order2)))
	}
	if cu, _ := sb.Object(customer); cu["note"] != "set over REST" {
		t.Errorf("customer note = %v", cu["note"])
	}
	st := c.want(http.StatusOK, "GET", "/v1/shop/status", nil)["shopify"].(map[string]any)
	if st["connected"] != true || st["shop"] != sandbox.DefaultShop {
		t.Errorf("status: %v", st)
	}
}

func must(m map[string]any, _ bool) map[string]any { return m }

// TestShopifyThrottling: with a tiny cost bucket, 200 runs that each read
// (shopify filter) and write (shopify action) all complete, with no
// failure, and the sandbox never receives a request its bucket cannot
// afford: the client waits on its model of the bucket instead.
func TestShopifyThrottling(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 200 tasks against a slow bucket")
	}
	sb, base := startSandbox(t, sandbox.Options{BucketSize: 60, RestoreRate: 600})
	// No public URL: the webhook subscription sync would spend the tiny
	// bucket on queries of its own.
	_, c := startShopService(t, base, Config{Shopify: ShopifyConfig{Shop: sandbox.DefaultShop, AccessToken: sandboxToken, BaseURL: base}})
	order := sb.IDs("Order")[0]
	id := createTask(t, c, "read and write", `{% assign r = "query { shop { name } orders(first: 3) { nodes { id } } }" | shopify %}`+
		`{% action "shopify" %}mutation { tagsAdd(id: "`+order+`", tags: ["t{{ event.data.n }}"]) { userErrors { message } } }{% endaction %}`, "mechanic/user/trigger")
	const n = 200
	for i := 0; i < n; i++ {
		c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id, "data": map[string]any{"n": i}})
	}
	failed := 0
	for _, r := range waitFinalN(t, c, "task_runs", id, n) {
		if r["status"] != "success" {
			failed++
			t.Errorf("task run failed: %v", r["error"])
		}
	}
	for _, r := range waitFinalN(t, c, "action_runs", id, n) {
		if r["status"] != "success" {
			failed++
			t.Errorf("action run failed: %v", r["error"])
		}
	}
	st := sb.Stats()
	t.Logf("200 runs: %d failed; sandbox saw %d GraphQL requests, %d throttled, exceeded bucket: %v", failed, st.GraphQL, st.Throttled, st.ExceededBucket)
	if st.ExceededBucket || st.Throttled > 0 {
		t.Errorf("the sandbox saw requests beyond its bucket: %+v", st)
	}
}

// waitFinalN is waitFinal for many runs (up to a page of 1000).
func waitFinalN(t *testing.T, c *client, kind, taskID string, n int) []map[string]any {
	t.Helper()
	return waitFinal(t, c, kind, taskID, n)
}

// TestShopifyServerErrorsRetried: Shopify answering 5xx is retried by the
// client, and the run succeeds once Shopify recovers.
func TestShopifyServerErrorsRetried(t *testing.T) {
	sb, base := startSandbox(t, sandbox.Options{})
	_, c := startShopService(t, base, Config{})
	order := sb.IDs("Order")[0]
	if err := sb.InjectFault(sandbox.Fault{Status: 503, Count: 2}); err != nil {
		t.Fatal(err)
	}
	id := createTask(t, c, "writer", `{% action "shopify" %}mutation { tagsAdd(id: "`+order+`", tags: ["after-503"]) { userErrors { message } } }{% endaction %}`, "mechanic/user/trigger")
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": id})
	r := waitFinal(t, c, "action_runs", id, 1)[0]
	if r["status"] != "success" {
		t.Fatalf("action run: %v %v", r["status"], r["error"])
	}
	o, _ := sb.Object(order)
	b, _ := json.Marshal(o["tags"])
	if !strings.Contains(string(b), "after-503") {
		t.Errorf("tags %s", b)
	}
}

// TestAdminActionLinks: POST /v1/shop/send fetches the resources from the
// shop and makes one mechanic/user/order event per order (individual
// mode) or one mechanic/user/orders event (batch), reaching the tasks
// given; products carry only their ids; unknown ids and types are refused.
func TestAdminActionLinks(t *testing.T) {
	sb, base := startSandbox(t, sandbox.Options{})
	_, c := startShopService(t, base, Config{})
	one := createTask(t, c, "one", `{% log name: order.name, email: order.email %}`, "mechanic/user/order")
	batch := createTask(t, c, "batch", `{% assign names = orders | map: "name" %}{% log names: names %}`, "mechanic/user/orders")
	prod := createTask(t, c, "product", `{% log id: product.id, title: product.title %}`, "mechanic/user/product")
	orders := sb.IDs("Order")[:3]
	out := c.want(http.StatusCreated, "POST", "/v1/shop/send", map[string]any{"resource_type": "order", "ids": orders, "task_ids": []string{one}})
	if ids := out["event_ids"].([]any); len(ids) != 3 || out["topic"] != "mechanic/user/order" {
		t.Fatalf("individual: %v", out)
	}
	runs := waitFinal(t, c, "task_runs", one, 3)
	for _, r := range runs {
		if r["status"] != "success" || !strings.Contains(runLogs(r), `"name":"#10`) {
			t.Errorf("individual run: %v %s", r["status"], runLogs(r))
		}
	}
	nums := []any{}
	for _, g := range orders {
		n, _ := strconv.Atoi(g[strings.LastIndex(g, "/")+1:])
		nums = append(nums, n)
	}
	out = c.want(http.StatusCreated, "POST", "/v1/shop/send", map[string]any{"resource_type": "order", "ids": nums, "mode": "batch", "task_ids": []string{batch}})
	if ids := out["event_ids"].([]any); len(ids) != 1 || out["topic"] != "mechanic/user/orders" {
		t.Fatalf("batch: %v", out)
	}
	if r := waitFinal(t, c, "task_runs", batch, 1)[0]; r["status"] != "success" || strings.Count(runLogs(r), `#10`) != 3 {
		t.Errorf("batch run: %v %s", r["status"], runLogs(r))
	}
	product := sb.IDs("Product")[0]
	c.want(http.StatusCreated, "POST", "/v1/shop/send", map[string]any{"resource_type": "product", "ids": []any{product}, "task_ids": []string{prod}})
	if r := waitFinal(t, c, "task_runs", prod, 1)[0]; r["status"] != "success" || !strings.Contains(runLogs(r), `"title":null`) {
		t.Errorf("product run (ids only): %v %s", r["status"], runLogs(r))
	}
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"resource_type": "order", "ids": []any{999999}}, "ids"},
		{map[string]any{"resource_type": "widget", "ids": []any{1}}, "resource_type"},
		{map[string]any{"resource_type": "collection", "ids": []any{1}, "mode": "batch"}, "mode"},
		{map[string]any{"resource_type": "order", "ids": []any{"gid://shopify/Product/1"}}, "ids"},
	} {
		_, out := c.do("POST", "/v1/shop/send", bad.body)
		if _, f := errorField(t, out); f != bad.field {
			t.Errorf("%v: %v", bad.body, out)
		}
	}
}

// TestScriptTagsRegistered: with a public URL, an enabled task's storefront
// JavaScript is registered with the shop as a script tag, and removed when
// the task is disabled.
func TestScriptTagsRegistered(t *testing.T) {
	_, base := startSandbox(t, sandbox.Options{})
	_, c := startShopService(t, base, Config{})
	doc := map[string]any{"name": "js", "script": "", "subscriptions": []string{}, "options": map[string]any{},
		"online_store_javascript": `console.log({{ shop.name | json }});`}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	tags := func() []any {
		return shopREST(t, base, "script_tags.json")["script_tags"].([]any)
	}
	eventually(t, 10*time.Second, "a script tag", func() bool { return len(tags()) == 1 })
	src := tags()[0].(map[string]any)["src"].(string)
	if !strings.HasSuffix(src, "/shopify/storefront.js") {
		t.Errorf("script tag src %q", src)
	}
	resp, err := http.Get(src)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `console.log("Sandbox Shop")`) {
		t.Errorf("served script: %s", body)
	}
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/disable", nil)
	eventually(t, 10*time.Second, "the script tag removed", func() bool { return len(tags()) == 0 })
}

// shopREST reads a REST path of the sandbox with the test token.
func shopREST(t *testing.T, base, path string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/admin/api/2026-01/"+path, nil)
	req.Header.Set("X-Shopify-Access-Token", sandboxToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
