package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sprocketrun/sprocket/ingress/webhook"
	"github.com/sprocketrun/sprocket/store"
)

const (
	// DefaultQuotaEvery is how long a reading of the store's size is
	// reused before the next request reads it again.
	DefaultQuotaEvery = 5 * time.Second
	// QuotaRetryAfter is the Retry-After of an ingest refused by the
	// stored-bytes quota: pruning runs every few minutes.
	QuotaRetryAfter = 5 * time.Minute
)

// errQuotaReached is the refusal of ingest while the store is full.
var errQuotaReached = errors.New("stored-bytes quota reached")

// storedQuota refuses event ingest while the store's size is at or above
// max bytes. The size is read at most once per every (a few pragmas or
// one catalog query), by the first request that finds the last reading
// stale, and again at once after pruning.
type storedQuota struct {
	max   int64
	sizer store.Sizer
	every time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	checked time.Time
	size    int64
	err     error
}

func newStoredQuota(max int64, sizer store.Sizer, every time.Duration, log *slog.Logger) *storedQuota {
	if max <= 0 {
		return nil
	}
	if every <= 0 {
		every = DefaultQuotaEvery
	}
	return &storedQuota{max: max, sizer: sizer, every: every, now: time.Now, log: log}
}

// status returns the store's size (as last read) and, when ingest must
// pause, an error wrapping errQuotaReached. A failure to read the size is
// returned as is (ingest is not refused for it: the insert itself will
// tell whether the database works).
func (q *storedQuota) status(ctx context.Context) (int64, error) {
	if q == nil {
		return -1, nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if now := q.now(); q.checked.IsZero() || now.Sub(q.checked) >= q.every {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		size, err := q.sizer.StoredBytes(ctx)
		cancel()
		q.checked = now
		if err != nil {
			q.err = fmt.Errorf("read the store's size: %w", err)
			q.log.Warn("stored-bytes quota: could not read the store's size", "error", err)
		} else {
			q.size, q.err = size, nil
		}
	}
	if q.err != nil {
		return q.size, q.err
	}
	if q.size >= q.max {
		return q.size, fmt.Errorf("%w: the store holds %s, at or above the quota of %s (--max-stored-bytes); new events are refused until pruning frees space",
			errQuotaReached, formatBytes(q.size), formatBytes(q.max))
	}
	return q.size, nil
}

// refresh makes the next status read the size again (after pruning).
func (q *storedQuota) refresh() {
	if q == nil {
		return
	}
	q.mu.Lock()
	q.checked = time.Time{}
	q.mu.Unlock()
}

// admitErr is nil when ingest may go on, else the quota's refusal.
func (q *storedQuota) admitErr(ctx context.Context) error {
	_, err := q.status(ctx)
	if errors.Is(err, errQuotaReached) {
		return err
	}
	return nil
}

// quotaError is the API form of a quota refusal: 429 with Retry-After.
func quotaError(err error) *apiError {
	e := errorf(http.StatusTooManyRequests, "max_stored_bytes", "%v", err)
	e.retryAfter = int(QuotaRetryAfter / time.Second)
	return e
}

// checkIngest refuses an API ingest request while the quota is reached.
func (s *Service) checkIngest(r *http.Request) error {
	if err := s.quota.admitErr(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "event refused", "path", r.URL.Path, "reason", err)
		return quotaError(err)
	}
	return nil
}

// gateIngest answers 429 for an ingest endpoint while the quota is
// reached, before h reads the request.
func (s *Service) gateIngest(h http.Handler) http.Handler {
	if s.quota == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkIngest(r); err != nil {
			var ae *apiError
			errors.As(err, &ae)
			writeError(w, ae)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// admitWebhook is the webhook handler's admission: the free-disk floor
// (503) then the stored-bytes quota (429).
func (s *Service) admitWebhook(r *http.Request) error {
	if err := s.disk.admit(r); err != nil {
		return err
	}
	if err := s.quota.admitErr(r.Context()); err != nil {
		return &webhook.AdmitError{Status: http.StatusTooManyRequests, RetryAfter: QuotaRetryAfter, Err: err}
	}
	return nil
}

// formatBytes renders a byte count in the largest binary unit it fills.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// ParseByteSize reads a size such as "10GiB", "512MiB", "2GB", "1.5TiB"
// or a plain number of bytes. Units: B, KB/MB/GB/TB (powers of 1000) and
// KiB/MiB/GiB/TiB (powers of 1024), case-insensitive; K, M, G, T alone are
// binary.
func ParseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	f, err := strconv.ParseFloat(num, 64)
	if num == "" || err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit, e.g. 10GiB", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, t[i:])
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(v), nil
}

// DefaultStoredBytes is the quota `sprocket serve` applies to a SQLite
// store unless told otherwise: half the size of the data directory's file
// system (so a full store still leaves room for its WAL, a VACUUM and the
// rest of the machine).
func DefaultStoredBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	// The directory may not exist before the first start: measure the
	// nearest one that does.
	d := dir
	for {
		err := syscall.Statfs(d, &st)
		if err == nil {
			break
		}
		if parent := filepath.Dir(d); parent != d {
			d = parent
			continue
		}
		return 0, fmt.Errorf("size of the file system of %s: %w", dir, err)
	}
	return int64(st.Blocks) * int64(st.Bsize) / 2, nil //nolint:gosec // block counts fit in int64
}
