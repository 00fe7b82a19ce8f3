package server

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sprocketrun/sprocket/store"
)

// Page sizes and the response budget of the API's list endpoints.
const (
	// DefaultListLimit is the page size of a list request without limit.
	DefaultListLimit = 100
	// MaxListLimit is the largest page size; a larger limit is lowered to it.
	MaxListLimit = store.MaxPageLimit
	// DefaultMaxListBytes bounds the JSON items of one list response: a
	// page whose items would pass it ends early, with next_cursor leading
	// on (a page always holds at least one item, however large).
	DefaultMaxListBytes = 8 << 20
)

// page reads the limit and cursor query parameters: without a limit a
// page holds DefaultListLimit items; a limit above MaxListLimit is lowered
// to it; a limit that is not a positive integer is refused (400).
func page(r *http.Request) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{Cursor: q.Get("cursor"), Limit: DefaultListLimit}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return p, errorf(http.StatusBadRequest, "limit", "limit must be a positive integer (at most %d), got %q", MaxListLimit, l)
		}
		p.Limit = min(n, MaxListLimit)
	}
	return p, nil
}

// pageError maps a store's refusal of a cursor to a 400 naming it.
func pageError(what string, err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return errorf(http.StatusBadRequest, "cursor", "cursor is not one this listing gave out")
	}
	return fmt.Errorf("%s: %w", what, err)
}

// listChunk is how many rows a list handler reads from the store first;
// later reads are sized by the rows' average size so far, so a page that
// ends early at the byte budget (runs with long logs) has not read the
// rest of its limit.
const listChunk = 100

// pageBody collects a list body's items up to the byte budget.
type pageBody struct {
	budget, total int
	raws          []json.RawMessage
}

func newPageBody(budget int) *pageBody {
	return &pageBody{budget: cmp.Or(budget, DefaultMaxListBytes), raws: []json.RawMessage{}}
}

// add encodes v and adds it unless it would pass the budget (the first
// item is always added); it reports whether it did.
func (b *pageBody) add(v any) (bool, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return false, fmt.Errorf("encode list item: %w", err)
	}
	raw := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b.raws) > 0 && b.total+len(raw)+1 > b.budget {
		return false, nil
	}
	b.total += len(raw) + 1
	b.raws = append(b.raws, raw)
	return true, nil
}

// addItem adds out(x) to b, reporting whether it fit the budget.
func addItem[T any](b *pageBody, x T, out func(T) (any, error)) (bool, error) {
	v, err := out(x)
	if err != nil {
		return false, err
	}
	return b.add(v)
}

// listOut encodes items as the list body {name: [...], next_cursor}. Items
// are added while their JSON stays within the byte budget; when the next
// item would pass it, the page ends there and next_cursor is the cursor
// of the last item shown (cursor(item)), so the client continues with the
// rest. Otherwise next_cursor is next, the store's.
func listOut[T any](budget int, name string, items []T, next string, cursor func(T) string, out func(T) (any, error)) (map[string]any, error) {
	b := newPageBody(budget)
	for i, x := range items {
		ok, err := addItem(b, x, out)
		if err != nil {
			return nil, err
		}
		if !ok {
			next = cursor(items[i-1])
			break
		}
	}
	return listBody(name, b.raws, next), nil
}

// listPaged answers one page of a store listing: it reads the page's rows
// listChunk at a time with fetch, encodes them within the byte budget and
// stops reading once the page is full (by count or by bytes), so a page
// never holds more than about the budget plus one chunk in memory.
// Store errors are returned as fetch gave them.
func listPaged[T any](budget int, name string, p store.Page, fetch func(store.Page) ([]T, string, error), cursor func(T) string, out func(T) (any, error)) (map[string]any, error) {
	b := newPageBody(budget)
	remaining, cur, chunk := p.EffectiveLimit(), p.Cursor, listChunk
	for {
		items, next, err := fetch(store.Page{Limit: min(chunk, remaining), Cursor: cur})
		if err != nil {
			return nil, err
		}
		for _, x := range items {
			ok, err := addItem(b, x, out)
			if err != nil {
				return nil, err
			}
			if !ok {
				return listBody(name, b.raws, cur), nil
			}
			cur = cursor(x)
		}
		remaining -= len(items)
		if next == "" || remaining <= 0 {
			return listBody(name, b.raws, next), nil
		}
		cur = next
		// Read next about as many rows as the budget still holds at the
		// items' average size so far (at least listChunk).
		chunk = max(listChunk, (b.budget-b.total)/max(1, b.total/len(b.raws))+1)
	}
}

// memPage is one page of a listing held in memory and sorted by key (OAuth
// providers and accounts): the items after the cursor's key.
func memPage[T any](items []T, p store.Page, key func(T) string) ([]T, string, error) {
	start := 0
	if p.Cursor != "" {
		after, err := store.DecodeKeyCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		for start < len(items) && strings.Compare(key(items[start]), after) <= 0 {
			start++
		}
	}
	items = items[start:]
	limit := p.EffectiveLimit()
	if len(items) <= limit {
		return items, "", nil
	}
	return items[:limit], store.EncodeKeyCursor(key(items[limit-1])), nil
}

// settingCursor is the cursor after a setting (listings by key).
func settingCursor(x store.Setting) string { return store.EncodeKeyCursor(x.Key) }
