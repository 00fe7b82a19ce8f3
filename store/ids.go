package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// NewID returns a random version-4 UUID string (122 random bits), suitable
// for unguessable webhook and cache endpoint ids.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// NewTimeID returns a random version-7 UUID string: a millisecond Unix
// timestamp followed by 74 random bits. Ids made this way sort roughly by
// creation time, which keeps index inserts local (events, runs, tasks).
func NewTimeID(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails on supported platforms
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// DerivedID returns a UUID-shaped id determined by parts (a SHA-256 based
// version-8 UUID). Runs derive their follow-up ids from their own id, so a
// repeated completion produces the same ids and inserts nothing twice.
func DerivedID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// EventRunID returns the id of the event run of an event: each event has
// exactly one event run, which shares the event's id.
func EventRunID(eventID string) string { return eventID }

func formatUUID(b [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// EncodeCursor builds an opaque page cursor from the last row's sort key.
func EncodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "|" + id))
}

// DecodeCursor parses a cursor made by EncodeCursor.
func DecodeCursor(c string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: bad cursor: %v", ErrInvalid, err)
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return time.Time{}, "", fmt.Errorf("%w: bad cursor", ErrInvalid)
	}
	us, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: bad cursor: %v", ErrInvalid, err)
	}
	return time.UnixMicro(us).UTC(), id, nil
}

// EffectiveLimit returns the page size p asks for, defaulted and capped.
func (p Page) EffectiveLimit() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}

// EncodeKeyCursor builds an opaque page cursor for listings ordered by a
// key (settings by key, task versions by number) rather than by time.
func EncodeKeyCursor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("k|" + key))
}

// DecodeKeyCursor parses a cursor made by EncodeKeyCursor.
func DecodeKeyCursor(c string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", fmt.Errorf("%w: bad cursor: %v", ErrInvalid, err)
	}
	key, ok := strings.CutPrefix(string(raw), "k|")
	if !ok {
		return "", fmt.Errorf("%w: bad cursor", ErrInvalid)
	}
	return key, nil
}

// DecodeVersionCursor parses a task-version cursor (EncodeKeyCursor of
// the last version number shown).
func DecodeVersionCursor(c string) (int, error) {
	k, err := DecodeKeyCursor(c)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(k)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("%w: bad cursor", ErrInvalid)
	}
	return v, nil
}
