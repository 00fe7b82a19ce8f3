// Package leader elects one node of a cluster to run maintenance (retention
// pruning) through a lease kept in the shared database: the holder renews
// it each time it works, and when it stops (crash, kill -9, network loss)
// another node takes over once the lease has expired.
package leader

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sprocketrun/sprocket/store"
)

// Leases is the storage a lease lives in (store/postgres implements it).
type Leases interface {
	// TryLease takes or renews the named lease for holder for ttl and
	// reports whether holder has it.
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Elector decides whether this node leads a named duty.
type Elector struct {
	leases Leases
	name   string
	holder string
	ttl    time.Duration
	log    *slog.Logger
}

// New returns an elector for duty name; holder identifies this node
// (HolderID gives a default) and ttl is how long a lease lasts without
// renewal. With nil leases (a single-process store such as SQLite, whose
// data directory is locked to one process) this node always leads.
func New(leases Leases, name, holder string, ttl time.Duration, log *slog.Logger) *Elector {
	if log == nil {
		log = slog.Default()
	}
	return &Elector{leases: leases, name: name, holder: holder, ttl: ttl, log: log}
}

// HolderID returns an identifier for this process: host name, pid and a
// random suffix (so a restarted process is a new holder).
func HolderID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), store.NewID()[:8])
}

// Leading takes or renews the lease and reports whether this node leads;
// an error counts as not leading (another node may lead meanwhile).
func (e *Elector) Leading(ctx context.Context) bool {
	if e.leases == nil {
		return true
	}
	ok, err := e.leases.TryLease(ctx, e.name, e.holder, e.ttl)
	if err != nil {
		e.log.Warn("leader lease", "duty", e.name, "error", err)
		return false
	}
	return ok
}

// Resign releases the lease if held, so another node can lead at once.
func (e *Elector) Resign(ctx context.Context) error {
	if e.leases == nil {
		return nil
	}
	if err := e.leases.ReleaseLease(ctx, e.name, e.holder); err != nil {
		return fmt.Errorf("resign %s: %w", e.name, err)
	}
	return nil
}
