package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// Several nodes on one database share one shop's rate limit: each node's
// client keeps its own model of the shop's cost bucket, which only sees
// that node's calls. So every node publishes its model's reading to the
// store (a setting per node) about once a second, reads the others', and
// holds back runs that call Shopify while any node's recent reading says
// the bucket is low. The reading is also the node's heartbeat: a node
// whose last one is older than shareStale has stopped (a node that stops
// cleanly deletes its own), and one older than shareForget is deleted by
// the others. A single node has nothing to share and skips the store.

const (
	settingShopThrottle store.SettingKind = "shopify_throttle"
	shareEvery                            = time.Second
	shareStale                            = 10 * time.Second
	shareForget                           = time.Hour
)

// throttleReading is one node's published model of the shop's bucket.
type throttleReading struct {
	// Seen is when the node published the reading (its heartbeat).
	Seen time.Time `json:"seen"`
	// At is when the node's client last learned the bucket's state.
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
	now := time.Now().UTC()
	reading := throttleReading{Seen: now, At: now}
	if conn := t.shop.current(); conn != nil {
		if snap := conn.client.ThrottleState(); snap.GraphQLKnown {
			reading = throttleReading{Seen: now, At: snap.At.UTC(), Available: snap.GraphQLAvailable,
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
		if json.Unmarshal(s.Value, &r) != nil {
			continue
		}
		if now.Sub(r.seen()) > shareForget { // a node long gone: its row would stay forever
			if err := t.st.DeleteSetting(ctx, settingShopThrottle, s.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
				t.shop.log.Warn("forget a stopped node's shopify reading", "node", s.Key, "error", err)
			}
			continue
		}
		others = append(others, r)
	}
	t.mu.Lock()
	t.others = others
	t.mu.Unlock()
}

// seen returns when the reading was published (At for readings of
// versions that published no Seen).
func (r throttleReading) seen() time.Time {
	if r.Seen.IsZero() {
		return r.At
	}
	return r.Seen
}

// forgetSelf deletes this node's reading when it stops, so the others
// stop counting it at once.
func (t *sharedThrottle) forgetSelf(ctx context.Context) {
	if err := t.st.DeleteSetting(ctx, settingShopThrottle, t.nodeID); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.shop.log.Warn("delete this node's shopify reading", "error", err)
	}
}

// liveNodeCount counts the nodes of st's database whose heartbeat is
// recent, and the latest of them.
func liveNodeCount(ctx context.Context, st store.Settings, now time.Time) (int, time.Time, error) {
	list, err := st.ListSettings(ctx, settingShopThrottle)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read node heartbeats: %w", err)
	}
	var n int
	var latest time.Time
	for _, s := range list {
		var r throttleReading
		if json.Unmarshal(s.Value, &r) != nil {
			continue
		}
		if seen := r.seen(); now.Sub(seen) <= shareStale {
			n++
			if seen.After(latest) {
				latest = seen
			}
		}
	}
	return n, latest, nil
}

// othersHold reports whether another node's recent reading, projected to
// now with the restore rate, is below the low-water mark its client uses.
func (t *sharedThrottle) othersHold(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.others {
		if now.Sub(r.seen()) > shareStale || !r.Hold {
			continue // a stopped node, or a bucket not low
		}
		age := max(0, now.Sub(r.At))
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
		if now.Sub(r.seen()) <= shareStale {
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
