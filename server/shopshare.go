package server

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// Several nodes on one database share one shop's rate limit: each node's
// client keeps its own model of the shop's cost bucket, which only sees
// that node's calls. So every node publishes its model's reading to the
// store (a setting per node) about once a second, reads the others', and
// holds back runs that call Shopify while any node's recent reading says
// the bucket is low. A reading older than shareStale is ignored (a node
// that stopped). A single node has nothing to share and skips the store.

const (
	settingShopThrottle store.SettingKind = "shopify_throttle"
	shareEvery                            = time.Second
	shareStale                            = 10 * time.Second
)

// throttleReading is one node's published model of the shop's bucket.
type throttleReading struct {
	At        time.Time `json:"at"`
	Available float64   `json:"available"`
	Maximum   float64   `json:"maximum"`
	Restore   float64   `json:"restore_rate"`
	Hold      bool      `json:"hold"`
}

// sharedThrottle holds back Shopify work when any node reports a low bucket.
type sharedThrottle struct {
	st     store.Settings
	shop   *shopConn
	nodeID string

	mu     sync.Mutex
	others []throttleReading
}

// run publishes and reads the readings until ctx ends.
func (t *sharedThrottle) run(ctx context.Context) {
	tick := time.NewTicker(shareEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t.exchange(ctx)
	}
}

// exchange publishes this node's reading and reads the other nodes'.
func (t *sharedThrottle) exchange(ctx context.Context) {
	// Every node publishes a reading each round, also a heartbeat: the
	// live nodes divide the shop's run queue size among themselves.
	reading := throttleReading{At: time.Now().UTC()}
	if conn := t.shop.current(); conn != nil {
		if snap := conn.client.ThrottleState(); snap.GraphQLKnown {
			reading = throttleReading{At: snap.At.UTC(), Available: snap.GraphQLAvailable,
				Maximum: snap.GraphQLMaximum, Restore: snap.GraphQLRestoreRate, Hold: snap.Hold}
		}
	}
	raw, _ := json.Marshal(reading)
	if _, err := t.st.PutSetting(ctx, settingShopThrottle, t.nodeID, raw); err != nil {
		t.shop.log.Warn("shopify rate limit not shared with the other nodes", "error", err)
	}
	list, err := t.st.ListSettings(ctx, settingShopThrottle)
	if err != nil {
		t.shop.log.Warn("shopify rate limit of the other nodes not read", "error", err)
		return
	}
	var others []throttleReading
	for _, s := range list {
		if s.Key == t.nodeID {
			continue
		}
		var r throttleReading
		if json.Unmarshal(s.Value, &r) == nil {
			others = append(others, r)
		}
	}
	t.mu.Lock()
	t.others = others
	t.mu.Unlock()
}

// othersHold reports whether another node's recent reading, projected to
// now with the restore rate, is below the low-water mark its client uses.
func (t *sharedThrottle) othersHold(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.others {
		age := now.Sub(r.At)
		if age > shareStale || !r.Hold {
			continue
		}
		if r.Maximum <= 0 {
			return true
		}
		projected := min(r.Maximum, r.Available+r.Restore*age.Seconds())
		if projected < 0.1*r.Maximum { // the client's default low-water mark
			return true
		}
	}
	return false
}

// liveNodes counts the nodes with a recent reading, this one included.
func (t *sharedThrottle) liveNodes(now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 1
	for _, r := range t.others {
		if now.Sub(r.At) <= shareStale {
			n++
		}
	}
	return n
}

// concurrencyShare divides total runs in progress among the live nodes,
// rounding up so that every node can make progress.
func (t *sharedThrottle) concurrencyShare(total int) func() int {
	return func() int {
		n := t.liveNodes(time.Now())
		return (total + n - 1) / n
	}
}

// clusterShop is the service's ShopifyAPI whose Hold also listens to the
// other nodes.
type clusterShop struct {
	*shopConn
	share *sharedThrottle
}

// Hold implements ShopifyAPI.
func (c clusterShop) Hold() bool {
	return c.shopConn.Hold() || c.share.othersHold(time.Now())
}
