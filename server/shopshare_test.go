package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/shopify/sandbox"
	"github.com/sprocketrun/sprocket/store"
)

// TestSharedThrottle: a node holds back Shopify work while another node
// sharing the database reports the shop's bucket low, and stops once that
// reading is old or restored; its own reading is published for the others.
func TestSharedThrottle(t *testing.T) {
	_, base := startSandbox(t, sandbox.Options{BucketSize: 100, RestoreRate: 10})
	svc, c := startShopService(t, base, Config{})
	share := &sharedThrottle{st: svc.st, shop: svc.shop, nodeID: "node-a"}
	ctx := context.Background()
	now := time.Now().UTC()
	put := func(node string, r throttleReading) {
		raw, _ := json.Marshal(r)
		if _, err := svc.st.PutSetting(ctx, settingShopThrottle, node, raw); err != nil {
			t.Fatal(err)
		}
	}
	put("node-b", throttleReading{At: now, Available: 2, Maximum: 100, Restore: 10, Hold: true})
	share.exchange(ctx)
	cs := clusterShop{shopConn: svc.shop, share: share}
	if !cs.Hold() {
		t.Error("no hold while another node's bucket is low")
	}
	if cs.share.othersHold(now.Add(2 * time.Second)) {
		t.Error("still holding once the other node's bucket restored (2 + 2s × 10/s = 22 of 100)")
	}
	put("node-b", throttleReading{At: now.Add(-time.Minute), Available: 0, Maximum: 100, Restore: 0, Hold: true})
	share.exchange(ctx)
	if cs.Hold() {
		t.Error("holding for a stale reading")
	}
	// The shop's run queue size is divided among the live nodes.
	put("node-b", throttleReading{At: time.Now().UTC()})
	put("node-c", throttleReading{At: time.Now().UTC()})
	put("node-d", throttleReading{At: time.Now().Add(-time.Minute).UTC()}) // gone
	share.exchange(ctx)
	if n := share.liveNodes(time.Now()); n != 3 {
		t.Errorf("live nodes = %d, want 3", n)
	}
	if got := share.concurrencyShare(10)(); got != 4 {
		t.Errorf("share of 10 among 3 nodes = %d, want 4", got)
	}
	// Liveness is the heartbeat (Seen), not the age of what the node knows
	// of the bucket: an idle node whose last Shopify call was long ago is
	// alive. A node silent for over shareForget is deleted.
	put("node-b", throttleReading{Seen: time.Now().UTC(), At: time.Now().Add(-10 * time.Minute).UTC(), Available: 0, Maximum: 100, Restore: 50, Hold: true})
	put("node-e", throttleReading{Seen: time.Now().Add(-2 * time.Hour).UTC(), At: time.Now().Add(-2 * time.Hour).UTC()})
	share.exchange(ctx)
	if n := share.liveNodes(time.Now()); n != 3 {
		t.Errorf("live nodes with an idle node-b = %d, want 3", n)
	}
	if share.othersHold(time.Now()) {
		t.Error("holding for node-b's bucket, restored long since")
	}
	if _, err := svc.st.GetSetting(ctx, settingShopThrottle, "node-e"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a node silent for 2h is still listed: %v", err)
	}
	if _, err := svc.st.GetSetting(ctx, settingShopThrottle, "node-d"); err != nil {
		t.Errorf("a node silent for a minute was deleted: %v", err)
	}
	// After a call, this node's reading is in the store for the others.
	_ = c
	if _, err := svc.shop.GraphQL(ctx, shopify.GraphQLRequest{Query: `{ shop { name } }`}); err != nil {
		t.Fatal(err)
	}
	share.exchange(ctx)
	got, err := svc.st.GetSetting(ctx, settingShopThrottle, "node-a")
	if err != nil {
		t.Fatalf("this node's reading was not published: %v", err)
	}
	var r throttleReading
	if err := json.Unmarshal(got.Value, &r); err != nil || r.Maximum != 100 || time.Since(r.Seen) > time.Minute {
		t.Errorf("published reading %s", got.Value)
	}
	// A node that stops deletes its reading: the others stop counting it.
	share.forgetSelf(ctx)
	if _, err := svc.st.GetSetting(ctx, settingShopThrottle, "node-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reading after forgetSelf: %v", err)
	}
}

// TestShopifyMetrics: /metrics reports the shop's bucket and call counters.
func TestShopifyMetrics(t *testing.T) {
	_, base := startSandbox(t, sandbox.Options{})
	svc, c := startShopService(t, base, Config{})
	if _, err := svc.shop.GraphQL(context.Background(), shopify.GraphQLRequest{Query: `{ shop { name } }`}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"sprocket_shopify_connected 1", "sprocket_shopify_bucket_maximum_points 2000", "sprocket_shopify_calls_total "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
