package server

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/internal/shared"
)

const (
	e2eShopToken  = "shpat_e2e_sandbox"
	e2eShopSecret = "e2e-app-secret"
)

// startSandboxBinary runs `sprocket sandbox` on a free loopback port and
// returns its base URL.
func startSandboxBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"sandbox", "--addr", addr, "--token", e2eShopToken, "--api-secret", e2eShopSecret, "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), "SPROCKET_SHOPIFY_SCHEMA_DIR="+shared.For(t, "corpus", "shopify", "admin-schema"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "SPROCKET_SHOPIFY_BASE_URL="); ok {
				ready <- v
			}
		}
	}()
	select {
	case base := <-ready:
		return base
	case <-time.After(30 * time.Second):
		t.Fatalf("sprocket sandbox did not start: %s", stderr.String())
	}
	return ""
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// shopCall calls the sandbox's control or Admin API with its token.
func shopCall(t *testing.T, method, url string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("X-Shopify-Access-Token", e2eShopToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v %v", method, url, resp.StatusCode, out, err)
	}
	return out
}

// importLibraryTask creates a library task with options and enables it.
func importLibraryTask(t *testing.T, c *client, name string, options map[string]any) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(shared.For(t, "corpus", "mechanic-tasks", "tasks"), name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	opts, _ := doc["options"].(map[string]any)
	for k, v := range options {
		opts[k] = v
	}
	id := c.want(http.StatusCreated, "POST", "/v1/tasks", doc)["id"].(string)
	c.want(http.StatusOK, "POST", "/v1/tasks/"+id+"/enable", nil)
	return id
}

// TestShopifyEventsEndToEnd runs the binaries: `sprocket sandbox` and
// `sprocket serve` pointed at it. Enabling the library's auto-tag-new-orders
// makes Sprocket subscribe the shop to orders/create at its public URL; an
// order created in the shop arrives as a signed webhook, the task runs, and
// the shop's order carries the tag. A bulk-operation task goes the whole
// way too: trigger → bulk query → finish webhook → its
// mechanic/shopify/bulk_operation run → the writes it makes.
func TestShopifyEventsEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	shopBase := startSandboxBinary(t, bin, "--bulk-delay", "300ms")
	addr := freeAddr(t)
	p := startServeEnv(t, bin, t.TempDir(), []string{
		"SPROCKET_API_TOKEN=" + testToken,
		"SPROCKET_SHOPIFY_SHOP=sandbox.myshopify.com",
		"SPROCKET_SHOPIFY_ACCESS_TOKEN=" + e2eShopToken,
		"SPROCKET_SHOPIFY_API_SECRET=" + e2eShopSecret,
		"SPROCKET_SHOPIFY_BASE_URL=" + shopBase,
		"SPROCKET_PUBLIC_URL=http://" + addr,
	}, "--addr", addr, "--rate-limits=false")
	c := &client{t: t, base: p.base, token: testToken}

	tagger := importLibraryTask(t, c, "auto-tag-new-orders", map[string]any{"order_tags_to_add__array_required": []string{"sprocket-e2e"}})
	// The subscription appears at the shop.
	deadline := time.Now().Add(20 * time.Second)
	for {
		hooks := shopCall(t, "GET", shopBase+"/sandbox/webhooks", nil)
		b, _ := json.Marshal(hooks)
		if strings.Contains(string(b), "orders/create") && strings.Contains(string(b), "http://"+addr+"/shopify/webhooks") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no orders/create subscription at the shop: %s\n%s", b, p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	variants := shopCall(t, "GET", shopBase+"/sandbox/objects?type=ProductVariant", nil)["ids"].([]any)
	order := shopCall(t, "POST", shopBase+"/sandbox/orders", map[string]any{"lineItems": []map[string]any{{"variantId": variants[0], "quantity": 2}}})["order"].(map[string]any)
	gid := order["id"].(string)
	for {
		o := shopCall(t, "GET", shopBase+"/sandbox/objects?id="+gid, nil)
		b, _ := json.Marshal(o["tags"])
		if strings.Contains(string(b), "sprocket-e2e") {
			break
		}
		if time.Now().After(deadline.Add(10 * time.Second)) {
			runs, _ := json.Marshal(c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+tagger, nil))
			t.Fatalf("order %s not tagged: tags %s; runs %s\n%s", gid, b, runs, p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	evs := c.want(http.StatusOK, "GET", "/v1/events?topic=shopify/orders/create", nil)["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["source"] != "shopify" {
		t.Errorf("events for orders/create: %v", evs)
	}

	// A bulk operation: the trigger starts a bulk query; the finish webhook
	// brings the results back to the same task, whose writes reach the shop.
	bulk := importLibraryTask(t, c, "tag-products-with-no-images", map[string]any{"product_tag_to_add__required": "no-images"})
	c.want(http.StatusCreated, "POST", "/v1/events", map[string]any{"topic": "mechanic/user/trigger", "task_id": bulk})
	deadline = time.Now().Add(30 * time.Second)
	for {
		evs := c.want(http.StatusOK, "GET", "/v1/events?topic=mechanic/shopify/bulk_operation", nil)["events"].([]any)
		if len(evs) == 1 {
			runs := c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+bulk, nil)["task_runs"].([]any)
			done := 0
			for _, r := range runs {
				if st := r.(map[string]any)["status"]; st == "success" || st == "failed" {
					done++
				}
			}
			if done == 2 {
				break
			}
		}
		if time.Now().After(deadline) {
			all, _ := json.Marshal(c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+bulk, nil))
			t.Fatalf("no bulk_operation run: %s\n%s", all, p.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, r := range c.want(http.StatusOK, "GET", "/v1/task_runs?task_id="+bulk, nil)["task_runs"].([]any) {
		if r.(map[string]any)["status"] != "success" {
			t.Errorf("bulk task run: %v", r)
		}
	}
	tagged := shopCall(t, "POST", shopBase+"/admin/api/2026-01/graphql.json", map[string]any{"query": `{ products(first: 100, query: "tag:no-images") { nodes { id } } }`})
	nodes := tagged["data"].(map[string]any)["products"].(map[string]any)["nodes"].([]any)
	if len(nodes) == 0 {
		t.Errorf("the bulk task tagged no product: %v", tagged)
	}
	hooks := shopCall(t, "GET", shopBase+"/sandbox/stats", nil)["webhooks"].(map[string]any)
	t.Logf("%d products tagged by the bulk task; sandbox webhooks: %v", len(nodes), hooks)
	if hooks["delivered"].(float64) < 2 || hooks["failed"].(float64) != 0 {
		t.Errorf("the finish webhook was not delivered: %v", hooks)
	}
}

// TestShopifyWebhookDurability sends 1,000 signed Shopify webhooks from 16
// senders to `sprocket serve`, kills it with SIGKILL midway, restarts it and
// redelivers every delivery (as Shopify retries those it got no 200 for,
// and sometimes those it did): every delivery acknowledged with 200 before
// the kill is exactly one event, and after the redelivery every delivery
// is exactly one event — none lost, none twice.
func TestShopifyWebhookDurability(t *testing.T) {
	bin := buildBinary(t)
	const total, killAt, senders = 1000, 400, 16
	dir := t.TempDir()
	env := []string{
		"SPROCKET_API_TOKEN=" + testToken,
		"SPROCKET_SHOPIFY_SHOP=sandbox.myshopify.com",
		"SPROCKET_SHOPIFY_ACCESS_TOKEN=" + e2eShopToken,
		"SPROCKET_SHOPIFY_API_SECRET=" + e2eShopSecret,
		"SPROCKET_SHOPIFY_BASE_URL=http://" + freeAddr(t), // never called: no task subscribes
	}
	p := startServeEnv(t, bin, dir, env, "--rate-limits=false")
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	deliver := func(base string, i int) bool {
		body := []byte(fmt.Sprintf(`{"id": %d, "admin_graphql_api_id": "gid://shopify/Order/%d", "name": "#%d"}`, 5000+i, 5000+i, 5000+i))
		mac := hmac.New(sha256.New, []byte(e2eShopSecret))
		mac.Write(body)
		req, _ := http.NewRequest(http.MethodPost, base+"/shopify/webhooks", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Shopify-Topic", "orders/create")
		req.Header.Set("X-Shopify-Shop-Domain", "sandbox.myshopify.com")
		req.Header.Set("X-Shopify-Event-Id", fmt.Sprintf("evt-%d", i))
		req.Header.Set("X-Shopify-Webhook-Id", fmt.Sprintf("wh-%d", i))
		req.Header.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	var (
		acked  = make([]bool, total)
		nAcked atomic.Int64
		next   atomic.Int64
		once   sync.Once
		wg     sync.WaitGroup
	)
	for range senders {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				if deliver(p.base, i) {
					acked[i] = true
					if nAcked.Add(1) >= killAt {
						once.Do(p.kill)
					}
				}
			}
		})
	}
	wg.Wait()
	if nAcked.Load() < killAt || nAcked.Load() == total {
		t.Fatalf("acked %d of %d: the kill did not land mid-way", nAcked.Load(), total)
	}
	ackedBefore := nAcked.Load()

	// After the restart: the acknowledged deliveries are there, once each.
	p2 := startServeEnv(t, bin, dir, env, "--rate-limits=false")
	count := func(base string) map[string]int {
		c := &client{t: t, base: base, token: testToken}
		per := map[string]int{}
		cursor := ""
		for {
			out := c.want(http.StatusOK, "GET", "/v1/events?topic=shopify/orders/create&limit=1000&cursor="+cursor, nil)
			for _, e := range out["events"].([]any) {
				var d struct{ Name string }
				raw, _ := json.Marshal(e.(map[string]any)["data"])
				_ = json.Unmarshal(raw, &d)
				per[d.Name]++
			}
			nc, _ := out["next_cursor"].(string)
			if nc == "" {
				return per
			}
			cursor = nc
		}
	}
	per := count(p2.base)
	lost, dup := 0, 0
	for i, ok := range acked {
		n := per[fmt.Sprintf("#%d", 5000+i)]
		if ok && n == 0 {
			lost++
		}
		if n > 1 {
			dup++
		}
	}
	if lost > 0 || dup > 0 {
		t.Fatalf("after the kill: %d acknowledged deliveries lost, %d events twice", lost, dup)
	}
	// Shopify redelivers: every delivery again, acknowledged or not.
	for i := range total {
		if !deliver(p2.base, i) {
			t.Fatalf("redelivery %d refused", i)
		}
	}
	per = count(p2.base)
	for i := range total {
		if n := per[fmt.Sprintf("#%d", 5000+i)]; n != 1 {
			t.Fatalf("delivery %d is %d events after the redelivery", i, n)
		}
	}
	t.Logf("%d of %d deliveries acknowledged before SIGKILL, all of them stored once; after restart and redelivery of all %d: %d events, none twice",
		ackedBefore, total, total, len(per))
	p2.stop()
}
