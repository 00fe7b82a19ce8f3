package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// CacheGet returns a live cache entry's value.
func (s *Store) CacheGet(ctx context.Context, key string) (json.RawMessage, bool, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM cache_entries WHERE key = ? AND expires_at > ?`, key, s.nowMicro()).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache get %q: %w", key, err)
	}
	return json.RawMessage(v), true, nil
}

// CacheApply performs one cache command atomically.
func (s *Store) CacheApply(ctx context.Context, op store.CacheOp) (json.RawMessage, error) {
	var out json.RawMessage
	err := s.inTx(ctx, "cache "+string(op.Kind), func(tx *txn) error {
		var err error
		out, err = s.cacheApply(ctx, tx, s.now(), op)
		return err
	})
	return out, err
}

func (s *Store) cacheApply(ctx context.Context, tx *txn, now time.Time, op store.CacheOp) (json.RawMessage, error) {
	if op.Key == "" {
		return nil, fmt.Errorf("cache %s: %w: empty key", op.Kind, store.ErrInvalid)
	}
	ttl := op.TTL
	if ttl <= 0 {
		ttl = store.DefaultCacheTTL
	}
	ttl = min(ttl, store.MaxCacheTTL)
	expires := micro(now.Add(ttl))
	var value json.RawMessage
	switch op.Kind {
	case store.CacheDel:
		if _, err := tx.ExecContext(ctx, `DELETE FROM cache_entries WHERE key = ?`, op.Key); err != nil {
			return nil, fmt.Errorf("cache del %q: %w", op.Key, err)
		}
		return nil, nil
	case store.CacheSet:
		if len(op.Value) == 0 || !json.Valid(op.Value) {
			return nil, fmt.Errorf("cache set %q: %w: value is not valid JSON", op.Key, store.ErrInvalid)
		}
		value = op.Value
	case store.CacheIncr:
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT value FROM cache_entries WHERE key = ? AND expires_at > ?`, op.Key, micro(now)).Scan(&cur)
		var n int64
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("cache incr %q: %w", op.Key, err)
		default:
			if n, err = parseCacheInt(cur); err != nil {
				return nil, fmt.Errorf("cache incr %q: %w", op.Key, err)
			}
		}
		sum := n + op.Delta
		if (op.Delta > 0 && sum < n) || (op.Delta < 0 && sum > n) {
			return nil, fmt.Errorf("cache incr %q: %w: overflow", op.Key, store.ErrNotInteger)
		}
		value = json.RawMessage(strconv.FormatInt(sum, 10))
	default:
		return nil, fmt.Errorf("cache: %w: command %q", store.ErrInvalid, op.Kind)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cache_entries (key, value, expires_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`, op.Key, string(value), expires); err != nil {
		return nil, fmt.Errorf("cache %s %q: %w", op.Kind, op.Key, err)
	}
	return value, nil
}

// parseCacheInt reads an integer cache value: a JSON integer or a JSON
// string holding one (Redis-style counters stored as text).
func parseCacheInt(v string) (int64, error) {
	b := bytes.TrimSpace([]byte(v))
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, store.ErrNotInteger
		}
		b = []byte(s)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, store.ErrNotInteger
	}
	return n, nil
}

// CacheList returns up to limit live cache entries in key order (the cache
// variable's iteration); limit must be positive.
func (s *Store) CacheList(ctx context.Context, limit int) ([]store.CacheEntry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("cache list: %w: limit %d", store.ErrInvalid, limit)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT key, value, expires_at FROM cache_entries WHERE expires_at > ? ORDER BY key LIMIT ?`, s.nowMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("cache list: %w", err)
	}
	defer rows.Close()
	var out []store.CacheEntry
	for rows.Next() {
		var (
			e   store.CacheEntry
			v   string
			exp int64
		)
		if err := rows.Scan(&e.Key, &v, &exp); err != nil {
			return nil, fmt.Errorf("cache list: %w", err)
		}
		e.Value = json.RawMessage(v)
		e.ExpiresAt = time.UnixMicro(exp).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache list: %w", err)
	}
	return out, nil
}
