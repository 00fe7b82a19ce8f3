package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/store"
)

func micro(t time.Time) int64 { return t.UnixMicro() }

func fromMicro(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicro(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromMicro(*v)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func jsonOrNull(b json.RawMessage) string {
	if len(b) == 0 {
		return "null"
	}
	return string(b)
}

func rawJSON(v *string) json.RawMessage {
	if v == nil {
		return nil
	}
	return json.RawMessage(*v)
}

func encodeStrings(v []string) (string, error) {
	if v == nil {
		v = []string{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode list: %w", err)
	}
	return string(b), nil
}

func decodeStrings(s *string) ([]string, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	var v []string
	if err := json.Unmarshal([]byte(*s), &v); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

func validJSON(what string, b json.RawMessage) error {
	if len(b) > 0 && !json.Valid(b) {
		return fmt.Errorf("%w: %s is not valid JSON", store.ErrInvalid, what)
	}
	return nil
}

func notFound(what, id string) error {
	return fmt.Errorf("%s %q: %w", what, id, store.ErrNotFound)
}

// conds collects the WHERE conditions of a dynamic query with numbered
// placeholders.
type conds struct {
	parts []string
	args  []any
}

// add appends a condition whose single "?" becomes the next $n placeholder.
func (c *conds) add(cond string, v any) {
	c.args = append(c.args, v)
	c.parts = append(c.parts, strings.Replace(cond, "?", "$"+strconv.Itoa(len(c.args)), 1))
}

// next returns the placeholder of one more argument.
func (c *conds) next(v any) string {
	c.args = append(c.args, v)
	return "$" + strconv.Itoa(len(c.args))
}

func (c *conds) where() string {
	if len(c.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.parts, " AND ")
}

// listPage runs a newest-first (created_at, id) page query: selectFrom is
// "SELECT … FROM table", c its filters. It returns the rows scanned by scan
// and the cursor of the next page ("" on the last page).
func listPage[T any](ctx context.Context, db querier, what, selectFrom string, c conds, page store.Page,
	scan func(pgx.Row) (T, error), key func(T) (time.Time, string)) ([]T, string, error) {
	if page.Cursor != "" {
		t, id, err := store.DecodeCursor(page.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		c.args = append(c.args, micro(t), id)
		n := len(c.args)
		c.parts = append(c.parts, fmt.Sprintf("(created_at, id) < ($%d, $%d)", n-1, n))
	}
	limit := page.EffectiveLimit()
	q := selectFrom + c.where() + ` ORDER BY created_at DESC, id DESC LIMIT ` + c.next(limit+1)
	rows, err := db.Query(ctx, q, c.args...)
	if err != nil {
		return nil, "", ctxErr(ctx, err, what)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, "", ctxErr(ctx, err, what)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, "", ctxErr(ctx, err, what)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		t, id := key(out[limit-1])
		next = store.EncodeCursor(t, id)
	}
	return out, next, nil
}

// collect scans every row with scan.
func collect[T any](ctx context.Context, rows pgx.Rows, what string, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, ctxErr(ctx, err, what)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, ctxErr(ctx, err, what)
	}
	return out, nil
}
