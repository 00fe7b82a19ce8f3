package storetest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// pageAll follows cursors through a listing with pages of limit items and
// returns every item's key in order; it fails on an endless listing.
func pageAll[T any](e *env, limit int, list func(store.Page) ([]T, string, error), key func(T) string) []string {
	e.t.Helper()
	var got []string
	cursor := ""
	for range 1000 {
		items, next, err := list(store.Page{Limit: limit, Cursor: cursor})
		e.must(err)
		if len(items) > limit {
			e.t.Fatalf("page of %d items, limit %d", len(items), limit)
		}
		for _, x := range items {
			got = append(got, key(x))
		}
		if next == "" {
			return got
		}
		cursor = next
	}
	e.t.Fatal("listing never ended")
	return nil
}

// testListPages pages through webhooks, cache endpoints, settings and task
// versions: every item exactly once, in the listing's order, whatever the
// page size; a malformed cursor is ErrInvalid.
func testListPages(e *env) {
	var hooks, endpoints, keys []string
	for i := range 7 {
		w, err := e.s.CreateWebhook(e.ctx, store.Webhook{Name: fmt.Sprint("w", i), Topic: "user/a/b"})
		e.must(err)
		hooks = append([]string{w.ID}, hooks...)
		c, err := e.s.CreateCacheEndpoint(e.ctx, store.CacheEndpoint{Key: fmt.Sprint("k", i)})
		e.must(err)
		endpoints = append([]string{c.ID}, endpoints...)
		k := fmt.Sprintf("key-%02d", 7-i) // stored out of key order
		_, err = e.s.PutSetting(e.ctx, store.SettingGlobal, k, json.RawMessage(`1`))
		e.must(err)
		keys = append(keys, k)
		if i%2 == 0 {
			e.clock.Advance(time.Millisecond) // mix equal and distinct timestamps
		}
	}
	_, err := e.s.PutSetting(e.ctx, store.SettingSecret, "other-kind", json.RawMessage(`1`))
	e.must(err)
	slices.Sort(keys)
	tk, _, err := e.s.CreateTask(e.ctx, store.NewTask{Name: "v", Definition: json.RawMessage(`{"script":"0"}`)})
	e.must(err)
	for i := 1; i < 6; i++ {
		tk.Definition, tk.UpdatedAt = json.RawMessage(fmt.Sprintf(`{"script":"%d"}`, i)), time.Time{}
		_, err = e.s.UpdateTask(e.ctx, tk)
		e.must(err)
	}
	versions := []string{"6", "5", "4", "3", "2", "1"}
	sortedCopy := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	for _, limit := range []int{1, 2, 3, 50} {
		gotHooks := pageAll(e, limit, func(p store.Page) ([]store.Webhook, string, error) { return e.s.ListWebhooksPage(e.ctx, p) },
			func(w store.Webhook) string { return w.ID })
		// Rows made in the same microsecond are ordered by id, so compare sets.
		if !slices.Equal(sortedCopy(gotHooks), sortedCopy(hooks)) {
			e.t.Fatalf("limit %d: webhooks %v, want %v", limit, gotHooks, hooks)
		}
		gotEPs := pageAll(e, limit, func(p store.Page) ([]store.CacheEndpoint, string, error) {
			return e.s.ListCacheEndpointsPage(e.ctx, p)
		}, func(c store.CacheEndpoint) string { return c.ID })
		if !slices.Equal(sortedCopy(gotEPs), sortedCopy(endpoints)) {
			e.t.Fatalf("limit %d: cache endpoints %v, want %v", limit, gotEPs, endpoints)
		}
		gotKeys := pageAll(e, limit, func(p store.Page) ([]store.Setting, string, error) {
			return e.s.ListSettingsPage(e.ctx, store.SettingGlobal, p)
		}, func(s store.Setting) string { return s.Key })
		if !slices.Equal(gotKeys, keys) {
			e.t.Fatalf("limit %d: settings %v, want %v (by key)", limit, gotKeys, keys)
		}
		gotVersions := pageAll(e, limit, func(p store.Page) ([]store.TaskVersion, string, error) {
			return e.s.ListTaskVersionsPage(e.ctx, tk.ID, p)
		}, func(v store.TaskVersion) string { return strconv.Itoa(v.Version) })
		if !slices.Equal(gotVersions, versions) {
			e.t.Fatalf("limit %d: task versions %v, want %v", limit, gotVersions, versions)
		}
	}
	// Without a limit a page holds DefaultPageLimit items at most.
	for i := range store.DefaultPageLimit + 1 {
		_, err := e.s.PutSetting(e.ctx, store.SettingEventFilter, fmt.Sprintf("f%03d", i), json.RawMessage(`1`))
		e.must(err)
	}
	page, next, err := e.s.ListSettingsPage(e.ctx, store.SettingEventFilter, store.Page{})
	e.must(err)
	if len(page) != store.DefaultPageLimit || next == "" {
		e.t.Fatalf("default page: %d items, next %q; want %d and a cursor", len(page), next, store.DefaultPageLimit)
	}
	for name, err := range map[string]error{
		"webhooks": func() error { _, _, err := e.s.ListWebhooksPage(e.ctx, store.Page{Cursor: "%%%"}); return err }(),
		"endpoints": func() error {
			_, _, err := e.s.ListCacheEndpointsPage(e.ctx, store.Page{Cursor: "%%%"})
			return err
		}(),
		"settings": func() error {
			_, _, err := e.s.ListSettingsPage(e.ctx, store.SettingGlobal, store.Page{Cursor: store.EncodeCursor(start(), "x")})
			return err
		}(),
		"versions": func() error {
			_, _, err := e.s.ListTaskVersionsPage(e.ctx, tk.ID, store.Page{Cursor: store.EncodeKeyCursor("x")})
			return err
		}(),
	} {
		if err == nil {
			e.t.Fatalf("%s: bad cursor accepted", name)
		}
		e.wantErr(err, store.ErrInvalid)
	}
	_, _, err = e.s.ListTaskVersionsPage(e.ctx, store.NewID(), store.Page{})
	e.wantErr(err, store.ErrNotFound)
}

// testStoredBytes checks StoredBytes grows with what is stored: events
// carrying 2 MiB of incompressible payload add at least 1 MiB.
func testStoredBytes(e *env) {
	before, err := e.s.StoredBytes(e.ctx)
	e.must(err)
	if before <= 0 {
		e.t.Fatalf("StoredBytes of an empty store = %d, want > 0 (its schema takes space)", before)
	}
	const events, each = 32, 64 << 10
	var evs []store.NewEvent
	for range events {
		raw := make([]byte, each*3/4)
		_, _ = rand.Read(raw)
		data, err := json.Marshal(map[string]string{"blob": base64.StdEncoding.EncodeToString(raw)})
		e.must(err)
		evs = append(evs, store.NewEvent{Topic: "user/big/blob", Data: data})
	}
	e.insert(evs...)
	after, err := e.s.StoredBytes(e.ctx)
	e.must(err)
	if grew := after - before; grew < events*each/2 {
		e.t.Fatalf("StoredBytes grew by %d bytes after storing %d bytes of payload", grew, events*each)
	}
}
