package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sprocketrun/sprocket/store"
)

// cacheLockID is the first key of the advisory locks taken per cache key.
const cacheLockID = 0x53434348 // "SCCH"

// CacheGet returns a live cache entry's value.
func (s *Store) CacheGet(ctx context.Context, key string) (json.RawMessage, bool, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM cache_entries WHERE key = $1 AND expires_at > $2`, key, s.nowMicro()).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
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
	err := s.inTx(ctx, "cache "+string(op.Kind), func(tx pgx.Tx) error {
		var err error
		out, err = s.cacheApply(ctx, tx, s.now(), op)
		return err
	})
	return out, err
}

func (s *Store) cacheApply(ctx context.Context, tx pgx.Tx, now time.Time, op store.CacheOp) (json.RawMessage, error) {
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
		if _, err := tx.Exec(ctx, `DELETE FROM cache_entries WHERE key = $1`, op.Key); err != nil {
			return nil, fmt.Errorf("cache del %q: %w", op.Key, err)
		}
		return nil, nil
	case store.CacheSet:
		if len(op.Value) == 0 || !json.Valid(op.Value) {
			return nil, fmt.Errorf("cache set %q: %w: value is not valid JSON", op.Key, store.ErrInvalid)
		}
		value = op.Value
	case store.CacheIncr:
		// Serialise increments of one key across connections and nodes
		// (the row may not exist yet, so a row lock is not enough).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, cacheLockID, op.Key); err != nil {
			return nil, fmt.Errorf("cache incr %q: lock: %w", op.Key, err)
		}
		var cur string
		err := tx.QueryRow(ctx, `SELECT value FROM cache_entries WHERE key = $1 AND expires_at > $2`, op.Key, micro(now)).Scan(&cur)
		var n int64
		switch {
		case errors.Is(err, pgx.ErrNoRows):
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
	if _, err := tx.Exec(ctx, `INSERT INTO cache_entries (key, value, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`, op.Key, string(value), expires); err != nil {
		return nil, fmt.Errorf("cache %s %q: %w", op.Kind, op.Key, err)
	}
	return value, nil
}

// CacheList returns up to limit live cache entries in key order (the cache
// variable's iteration); limit must be positive.
func (s *Store) CacheList(ctx context.Context, limit int) ([]store.CacheEntry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("cache list: %w: limit %d", store.ErrInvalid, limit)
	}
	// COLLATE "C" orders keys by bytes, as SQLite's default BINARY collation
	// does, whatever the database's locale.
	rows, err := s.pool.Query(ctx, `SELECT key, value, expires_at FROM cache_entries WHERE expires_at > $1 ORDER BY key COLLATE "C" LIMIT $2`, s.nowMicro(), limit)
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
