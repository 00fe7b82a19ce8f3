// Package server composes Sprocket's service: the store (SQLite in the data
// directory, or PostgreSQL shared by several nodes with Config.DatabaseURL), the event
// batcher behind the webhook endpoints, the scheduler, the run pipeline,
// pruning, and the JSON API under /v1 guarded by a bearer token.
//
// With Config.SMTPListen set, an SMTP server (package ingress/smtp) also
// receives email for Config.EmailDomains as mechanic/emails/received events.
//
// Routes:
//
//   - /webhooks/{id}: Mechanic-style incoming webhooks (package
//     ingress/webhook), answered only after the event is committed.
//   - /cache/{id}: public cache endpoints serving a cached value with the
//     endpoint's content type.
//   - /healthz: an unauthenticated liveness check; /readyz: readiness (the
//     database answers; migrations are applied before the service starts);
//   - /metrics: Prometheus metrics (package internal/metrics), unauthenticated.
//   - /v1/...: the API, JSON in and out, bearer token required, errors as
//     {"error": {"message": ..., "field": ...}}. Lists answer
//     {"<things>": [...], "next_cursor": ...} and take limit and cursor.
//
// API endpoints:
//
//   - tasks: GET/POST /v1/tasks, GET/PUT/DELETE /v1/tasks/{id}, POST
//     /v1/tasks/{id}/enable and /disable, POST /v1/tasks/preview and
//     /v1/tasks/{id}/preview, GET /v1/tasks/{id}/versions, POST
//     /v1/tasks/{id}/versions/{version}/restore;
//   - shop: GET /v1/shop/status, GET /v1/shop/deprecations, GET /v1/auth/verify;
//   - API tokens: GET/POST /v1/api_tokens (a new token is shown once),
//     DELETE /v1/api_tokens/{id};
//   - webhooks: GET/POST /v1/webhooks, GET/PUT/DELETE /v1/webhooks/{id};
//   - events: GET/POST /v1/events (GET filters by topic, task_id,
//     parent_id), GET /v1/events/{id};
//   - runs: GET /v1/runs, /v1/event_runs, /v1/task_runs, /v1/action_runs
//     (filtered by task_id, event_id, parent_run_id, status), GET
//     /v1/runs/{id}, POST /v1/runs/{id}/retry;
//   - cache endpoints: GET/POST /v1/cache_endpoints, GET/DELETE
//     /v1/cache_endpoints/{id};
//   - globals and secrets, as in Mechanic's v1 API: GET /v1/globals,
//     PUT/DELETE /v1/globals/{key}, GET /v1/secrets, PUT/DELETE
//     /v1/secrets/{key};
//   - event filters: GET /v1/event_filters, PUT/DELETE /v1/event_filters/{name};
//   - email templates: GET /v1/email_templates, GET/PUT/DELETE
//     /v1/email_templates/{name} (PUT takes {"body": "<Liquid>"}).
//   - OAuth connections and app integrations (oauth_api.go, appevents.go):
//     /v1/oauth/providers[/{name}], POST /v1/oauth/{provider}/connect,
//     /v1/oauth/accounts[/{provider}/{account}], GET /oauth/callback,
//     /v1/integrations[/{app}] and POST /integrations/{app}[/…].
//
// GET /v1/openapi.json (no token) documents every route; docs/api.md is a guide.
package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/action/files"
	"github.com/sprocketrun/sprocket/dialect"
	smtpingress "github.com/sprocketrun/sprocket/ingress/smtp"
	"github.com/sprocketrun/sprocket/ingress/webhook"
	"github.com/sprocketrun/sprocket/integrations/oauth"
	"github.com/sprocketrun/sprocket/internal/connlimit"
	"github.com/sprocketrun/sprocket/internal/dirlock"
	"github.com/sprocketrun/sprocket/internal/metrics"
	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/internal/tracing"
	"github.com/sprocketrun/sprocket/pipeline"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/scheduler"
	gqllint "github.com/sprocketrun/sprocket/shopify/lint"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/leader"
	"github.com/sprocketrun/sprocket/store/postgres"
	"github.com/sprocketrun/sprocket/task"
)

// Defaults of Config.
const (
	// DefaultAddr is the listen address of `sprocket serve`.
	DefaultAddr = "127.0.0.1:8080"
	// DefaultDataDir is the data directory of `sprocket serve`.
	DefaultDataDir = "sprocket-data"
	// DefaultRetention is how long runs and events are kept (15 days, as Mechanic).
	DefaultRetention = 15 * 24 * time.Hour
	// DefaultPruneEvery is how often old records are pruned.
	DefaultPruneEvery = time.Hour
)

// Pipeline performs queued runs (event runs, task runs, action runs).
type Pipeline interface {
	// Run works the queue until ctx ends.
	Run(ctx context.Context) error
	// Wake tells idle workers that new work may be due.
	Wake()
}

// PipelineDeps are the service parts a pipeline is built on.
type PipelineDeps struct {
	// Store is the service's store.
	Store store.Store
	// Vault serves globals and secrets.
	Vault *Vault
	// Logger receives the pipeline's logs.
	Logger *slog.Logger
	// Shopify is the connection to the shop (nil: none can be made).
	Shopify ShopifyAPI
	// OAuth holds the connected OAuth accounts the integration actions use.
	OAuth *oauth.Manager
	// bulk tracks the bulk operations shopify actions start (nil: none).
	bulk *bulkOps
	// share is the state shared with other nodes on the database (nil: one node).
	share *sharedThrottle
	// Files keeps the files of files actions; the service serves them at
	// files.PathPrefix.
	Files *files.Store
	// apps holds the app integrations' settings (nil: none).
	apps *appSettings
	// Node names this process; runs' attempts record it.
	Node string
	// Tracer records a trace span per run attempt (nil: tracing is off).
	Tracer pipeline.Tracer
}

// PipelineFactory builds the pipeline on the service's parts.
type PipelineFactory func(d PipelineDeps) (Pipeline, error)

// Previewer renders a task against its preview events without saving or
// performing anything; its result is answered as JSON.
type Previewer interface {
	// Preview previews t and returns a JSON-encodable result.
	Preview(ctx context.Context, t *task.Task) (any, error)
}

// Config configures a Service.
type Config struct {
	// DataDir holds the database and the API token hash; "" means DefaultDataDir.
	DataDir string
	// APIToken, when set, is the admin token (SPROCKET_API_TOKEN); otherwise
	// a token is generated on first start, printed once through
	// Config.TokenCreated, and only its hash is kept in DataDir.
	APIToken string
	// TokenCreated is called once with a newly generated admin token.
	TokenCreated func(token string)
	// Location is the shop's time zone for the scheduler; nil means UTC.
	Location *time.Location
	// Clock drives the scheduler; nil means the system clock.
	Clock scheduler.Clock
	// StoreClock stamps stored records; nil means the system clock.
	StoreClock store.Clock
	// DisableScheduler turns the scheduler off.
	DisableScheduler bool
	// NewPipeline builds the run pipeline; nil means runs stay queued
	// (useful only for tests of the API and ingestion).
	NewPipeline PipelineFactory
	// Previewer serves POST /v1/tasks/preview; nil answers 501.
	Previewer Previewer
	// UI, when set, builds the web interface served at "/".
	UI UIFactory
	// Retention is how old finished events and runs get before they are
	// pruned; zero means DefaultRetention, negative disables pruning.
	Retention time.Duration
	// PruneEvery is the pruning interval; zero means DefaultPruneEvery.
	PruneEvery time.Duration
	// MaxBodyBytes limits webhook request bodies; zero means the webhook default.
	MaxBodyBytes int64
	// WebhookLimits rate-limits webhook requests per webhook and per
	// client address (429 with Retry-After); zero fields do not limit.
	WebhookLimits webhook.Limits
	// MinFreeDisk is the free-space floor of the data directory's file
	// system: below it webhooks answer 503 and /readyz reports not ready.
	// Zero disables the check (`sprocket serve` uses DefaultMinFreeDisk).
	MinFreeDisk int64
	// AuthFailuresPerMinute bounds the API requests with a missing or wrong
	// token one client address may make per minute before it is answered
	// 429 (zero: DefaultAuthFailuresPerMinute; negative: no bound).
	AuthFailuresPerMinute int
	// MaxConns and MaxConnsPerIP cap the HTTP connections Serve keeps open
	// in total and per client address (zero: no cap); connections over a
	// cap are closed at once.
	MaxConns, MaxConnsPerIP int
	// MaxStoredBytes is the stored-bytes quota: while the store's size
	// (store.Sizer) is at or above it, event ingest answers 429 with
	// Retry-After and /readyz reports the quota reached; queued runs and
	// the scheduler go on and pruning frees space. Zero: no quota.
	MaxStoredBytes int64
	// MaxQueueAge bounds how long the oldest due run may have waited
	// before /readyz reports the node not ready (zero or negative: no
	// bound; the age is reported either way). The queue is the store's, so
	// nodes sharing a database report a backlog together.
	MaxQueueAge time.Duration
	// QuotaEvery is how long a reading of the store's size is reused;
	// zero means DefaultQuotaEvery.
	QuotaEvery time.Duration
	// MaxListBytes bounds the items of one list response; zero means
	// DefaultMaxListBytes.
	MaxListBytes int
	// FreeDisk reports free bytes for MinFreeDisk; nil reads the file
	// system (tests inject a small or failing disk).
	FreeDisk func(dir string) (int64, error)
	// DatabaseURL, when set, is a postgres:// URL: the store is PostgreSQL,
	// shared by every node given the same URL; empty means SQLite in DataDir.
	DatabaseURL string
	// DatabaseMaxConns is the PostgreSQL connection pool size; zero means the driver default.
	DatabaseMaxConns int
	// StatementTimeout bounds each PostgreSQL statement; zero means the driver default.
	StatementTimeout time.Duration
	// Synchronous is SQLite's synchronous mode ("" means NORMAL, which
	// survives process crashes; FULL also survives power loss).
	Synchronous string
	// Logger receives the service's logs; nil means slog.Default().
	Logger *slog.Logger
	// Shopify connects the service to a shop from its environment; without
	// a shop there, the connection is managed through the API.
	Shopify ShopifyConfig
	// SecretKey is SPROCKET_SECRET_KEY, the key that seals stored
	// credentials; "" means a key file in DataDir, created on first start.
	SecretKey string
	// RateLimits limits API requests (429 with Retry-After); nil means
	// no limits. MechanicRateLimits are Mechanic's numbers.
	RateLimits *RateLimits
	// SMTPListen, when set, is the address of the inbound SMTP server
	// (SPROCKET_SMTP_LISTEN, e.g. "127.0.0.1:2525"); it is bound by Open.
	SMTPListen string
	// EmailDomains are the domains inbound mail is accepted for, any
	// local part (SPROCKET_EMAIL_DOMAIN); required with SMTPListen.
	EmailDomains []string
	// SMTPTLSConfig, when set, offers STARTTLS on the inbound SMTP server.
	SMTPTLSConfig *tls.Config
	// SMTPMaxMessageBytes bounds inbound messages; zero means 35 MB.
	SMTPMaxMessageBytes int64
	// FilesTTL is how long files made by files actions stay available;
	// zero means files.DefaultTTL.
	FilesTTL time.Duration
	// Tracing configures OpenTelemetry traces of events and runs
	// (tracing.ConfigFromEnv reads the OTEL_* variables); the zero value
	// is off. Close flushes the spans still queued.
	Tracing tracing.Config
}

// Service is a running Sprocket instance; create it with Open, run it
// with Serve, release it with Close.
type Service struct {
	managed   managedTasks // tasks of serve --tasks-dir
	cfg       Config
	log       *slog.Logger
	st        serviceStore
	lock      *dirlock.Lock
	waker     *postgres.Waker
	elector   *leader.Elector
	metrics   *metrics.Metrics
	storeKind string
	batcher   *store.EventBatcher
	tracing   *tracing.Tracing
	auth      *authenticator
	ui        http.Handler // the web interface at "/", or nil
	hooks     *registry
	vault     *Vault
	box       *seal.Box
	shop      *shopConn
	oauth     *oauth.Manager
	scopes    *taskScopes
	schemas   gqllint.Schemas // Admin schemas by API version, loaded on first use
	hookSync  *webhookSync
	disk      *diskFloor   // nil without a free-space floor
	ready     *readiness   // /readyz write probe and queue age
	quota     *storedQuota // nil without a stored-bytes quota
	authFails *authFailures
	bulk      *bulkOps
	share     *sharedThrottle // the shop's rate limit shared with other nodes, or nil
	scripts   *scripts
	files     *files.Store
	sched     *scheduler.Scheduler
	pipe      Pipeline
	handler   http.Handler
	limits    *limiter // nil: no API rate limits
	patterns  []string // the mux's registered route patterns
	smtp      *smtpingress.Server
	smtpLn    net.Listener
	closeErr  error
	once      sync.Once
}

// Open opens (creating on first start) the data directory and builds the
// service's parts; nothing runs until Serve.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = DefaultPruneEvery
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	log := cfg.Logger
	if cfg.DatabaseURL != "" && cfg.SecretKey == "" {
		// Each node would seal credentials with its own key file, unreadable
		// to the other nodes sharing the database.
		return nil, fmt.Errorf("with a shared database (--database) every node needs the same SPROCKET_SECRET_KEY")
	}
	// One process per data directory (a second serve on it would run a
	// second scheduler and pruner on the same SQLite file).
	lock, err := dirlock.Acquire(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	auth, err := newAuthenticator(cfg.DataDir, cfg.APIToken, cfg.TokenCreated)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	be, err := openBackend(ctx, cfg, log)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	m := metrics.New(be.st)
	st := m.Store(be.st)
	if err := auth.loadTokens(ctx, st); err != nil {
		_ = st.Close()
		_ = lock.Release()
		return nil, err
	}
	s := &Service{cfg: cfg, log: log, st: st, lock: lock, waker: be.waker, metrics: m, storeKind: be.kind,
		elector: leader.New(be.leases, "maintenance", leader.HolderID(), cfg.PruneEvery+cfg.PruneEvery/2, log),
		auth:    auth, hooks: newRegistry(st), vault: NewVault(st, nil), limits: newLimiter(cfg.RateLimits),
		disk: newDiskFloor(cfg.DataDir, cfg.MinFreeDisk, cfg.FreeDisk), ready: newReadiness(st, cfg.MaxQueueAge),
		quota: newStoredQuota(cfg.MaxStoredBytes, st, cfg.QuotaEvery, log), authFails: newAuthFailures(cmp.Or(cfg.AuthFailuresPerMinute, DefaultAuthFailuresPerMinute))}
	// fail releases what Open has taken so far.
	fail := func(err error) (*Service, error) {
		if s.batcher != nil {
			_ = s.batcher.Close()
		}
		_ = s.tracing.Shutdown(context.WithoutCancel(ctx))
		_ = st.Close()
		_ = lock.Release()
		return nil, err
	}
	if s.tracing, err = tracing.New(cfg.Tracing, tracing.Options{Logger: log}); err != nil {
		return fail(err)
	}
	cr, err := rewriterOf(be.st)
	if err != nil {
		return fail(err)
	}
	if cfg.SecretKey == "" {
		if err := resolvePendingKey(ctx, cr, cfg.DataDir, log); err != nil {
			return fail(fmt.Errorf("secret key: %w", err))
		}
	}
	if s.box, err = seal.Load(cfg.DataDir, cfg.SecretKey); err != nil {
		return fail(fmt.Errorf("secret key: %w", err))
	}
	s.vault.box = s.box
	s.hooks.box = s.box
	if _, err := sealPlaintext(ctx, cr, s.box, log); err != nil {
		return fail(err)
	}
	s.shop = newShopConn(st, s.box, cfg.Shopify, log)
	m.Registry().MustRegister(newShopCollector(s.shop))
	if s.oauth, err = oauth.New(oauth.Config{Store: st, Box: s.box, Logger: log}); err != nil {
		return fail(err)
	}
	if err := s.shop.load(ctx); err != nil {
		return fail(err)
	}
	scopeRenderer := run.Renderer{Engine: dialect.NewEngine(dialect.Options{})}
	s.hookSync = newWebhookSync(s)
	s.scripts = newScripts(s)
	s.scopes = &taskScopes{st: st, preview: func(ctx context.Context, t *task.Task) (*run.Preview, error) {
		return scopeRenderer.Preview(ctx, run.PreviewInput{Task: t})
	}}
	if p, ok := cfg.Previewer.(interface{ attach(*Vault, *time.Location) }); ok {
		p.attach(s.vault, cfg.Location)
	}
	s.batcher = store.NewEventBatcher(st, store.BatcherOptions{Logger: log})
	s.files, err = files.NewStore(files.StoreConfig{Dir: filepath.Join(cfg.DataDir, "files"), TTL: cfg.FilesTTL, Logger: log})
	if err != nil {
		return fail(err)
	}
	if cfg.NewPipeline != nil {
		s.bulk = newBulkOps(s)
		var shopAPI ShopifyAPI = s.shop
		if cfg.DatabaseURL != "" { // several nodes may share the shop's rate limit
			s.share = &sharedThrottle{st: st, shop: s.shop, nodeID: leader.HolderID()}
			shopAPI = clusterShop{shopConn: s.shop, share: s.share}
		}
		deps := PipelineDeps{Node: leader.HolderID(), Store: st, Vault: s.vault, Logger: log, Shopify: shopAPI, share: s.share, OAuth: s.oauth, bulk: s.bulk, Files: s.files, apps: s.appSettings()}
		if s.tracing.Enabled() {
			deps.Tracer = s.tracing
		}
		p, err := cfg.NewPipeline(deps)
		if err != nil {
			return fail(fmt.Errorf("build pipeline: %w", err))
		}
		s.pipe = p
	}
	if !cfg.DisableScheduler {
		sched, err := scheduler.New(scheduler.Config{
			Store:    schedStore{st: st, wake: s.wake},
			Emitter:  schedEmitter{},
			Location: cfg.Location,
			Clock:    cfg.Clock,
			Logger:   log,
		})
		if err != nil {
			return fail(fmt.Errorf("build scheduler: %w", err))
		}
		s.sched = sched
	}
	hooks, err := webhook.NewHandler(webhook.Options{
		Registry:     s.hooks,
		Sink:         newSink(s.batcher, s.wake, s.tracing),
		MaxBodyBytes: cfg.MaxBodyBytes,
		Limits:       cfg.WebhookLimits,
		Admit:        s.admitWebhook,
		// Per-request info logs would dominate the ack path; keep warnings.
		Logger: slog.New(minLevel{Handler: log.Handler(), level: slog.LevelWarn}),
	})
	if err != nil {
		return fail(fmt.Errorf("build webhook handler: %w", err))
	}
	if cfg.UI != nil {
		if s.ui, err = cfg.UI(s); err != nil {
			return fail(fmt.Errorf("build web UI: %w", err))
		}
	}
	s.handler = s.withOps(s.routes(m.Webhooks(hooks)))
	if err := s.openSMTP(); err != nil {
		return fail(err)
	}
	return s, nil
}

// Store returns the service's store.
func (s *Service) Store() store.Store { return s.st }

// Handler returns the service's HTTP handler (webhooks, cache endpoints, API).
func (s *Service) Handler() http.Handler { return s.handler }

func (s *Service) wake() {
	if s.pipe != nil {
		s.pipe.Wake()
	}
	if s.waker != nil {
		s.waker.Poke() // the other nodes
	}
}

// Serve serves HTTP on ln and runs the scheduler, the pipeline and pruning
// until ctx ends; then it stops accepting requests, lets in-flight requests
// finish (up to 10 seconds) and returns. It does not close the store.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	ln = connlimit.Wrap(ln, connlimit.Limits{Total: s.cfg.MaxConns, PerIP: s.cfg.MaxConnsPerIP})
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	bg, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	if s.pipe != nil {
		wg.Go(func() {
			if err := s.pipe.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("pipeline: %w", err)
			}
		})
	}
	if s.sched != nil {
		wg.Go(func() {
			if err := s.sched.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("scheduler: %w", err)
			}
		})
	}
	if s.cfg.Retention > 0 {
		wg.Go(func() { s.pruneLoop(bg) })
	}
	wg.Go(func() { s.hookSync.run(bg) })
	if s.share != nil {
		wg.Go(func() { s.share.run(bg) })
	}
	if s.bulk != nil {
		wg.Go(func() { s.bulk.run(bg) })
	}
	if s.smtp != nil {
		wg.Go(func() {
			if err := s.smtp.Serve(bg, s.smtpLn); err != nil {
				errc <- fmt.Errorf("smtp: %w", err)
			}
		})
	}
	if s.waker != nil && s.pipe != nil {
		wg.Go(func() { _ = s.waker.Run(bg, s.pipe.Wake) })
	}
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
		stop()
	})
	var err error
	select {
	case <-bg.Done():
	case err = <-errc:
		stop()
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutCtx); serr != nil {
		s.log.Warn("http shutdown", "error", serr)
	}
	wg.Wait()
	if s.share != nil {
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		s.share.forgetSelf(fctx)
		fcancel()
	}
	return err
}

// pruneLoop deletes old events and runs now and then at every PruneEvery.
func (s *Service) pruneLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.PruneEvery)
	defer t.Stop()
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := s.elector.Resign(rctx); err != nil {
			s.log.Warn("resign maintenance lease", "error", err)
		}
	}()
	for {
		// On PostgreSQL only the node holding the maintenance lease prunes.
		if s.elector.Leading(ctx) {
			if _, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("prune failed", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Prune deletes events and runs older than the retention period.
func (s *Service) Prune(ctx context.Context) (store.PruneStats, error) {
	now := time.Now()
	if s.cfg.StoreClock != nil {
		now = s.cfg.StoreClock.Now()
	}
	stats, err := s.st.Prune(ctx, now.Add(-s.cfg.Retention))
	s.quota.refresh()
	if err != nil {
		return stats, fmt.Errorf("prune: %w", err)
	}
	if stats.Events+stats.Runs+stats.CacheEntries > 0 {
		s.log.Info("pruned", "events", stats.Events, "runs", stats.Runs, "cache_entries", stats.CacheEntries)
	}
	return stats, nil
}

// Close flushes the event batcher and the queued trace spans and closes
// the store; call it after Serve returned.
func (s *Service) Close() error {
	s.once.Do(func() {
		if s.smtpLn != nil {
			_ = s.smtpLn.Close() // already closed when Serve ran
		}
		err1 := s.batcher.Close()
		err2 := s.st.Close()
		err3 := s.lock.Release()
		// Bounded by the tracing configuration's ShutdownTimeout.
		err4 := s.tracing.Shutdown(context.Background())
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			s.closeErr = fmt.Errorf("close service: %w", err)
		}
	})
	return s.closeErr
}

// minLevel drops records below level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

// Enabled reports whether the record level is at least the minimum.
func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.level && m.Handler.Enabled(ctx, l)
}

// WithAttrs keeps the minimum level on derived handlers.
func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{Handler: m.Handler.WithAttrs(a), level: m.level}
}

// WithGroup keeps the minimum level on derived handlers.
func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: m.Handler.WithGroup(name), level: m.level}
}
