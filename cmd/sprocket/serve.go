package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sprocketrun/sprocket/action/filegen/chromium"
	"github.com/sprocketrun/sprocket/action/files"
	"github.com/sprocketrun/sprocket/ingress/webhook"
	"github.com/sprocketrun/sprocket/internal/memlimit"
	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/internal/tracing"
	"github.com/sprocketrun/sprocket/logging"
	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/tasksync"
	"github.com/sprocketrun/sprocket/web"
)

// parseMaxQueueAge parses --max-queue-age into server.Config.MaxQueueAge
// (0: no bound).
func parseMaxQueueAge(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--max-queue-age (SPROCKET_MAX_QUEUE_AGE): want a duration such as 10m, or 0 for no bound; got %q", v)
	}
	return d, nil
}

// envOr returns the environment variable name, or def when it is unset or empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// parseTaskConcurrency reads --task-concurrency (SPROCKET_TASK_CONCURRENCY)
// as server.PipelineOptions.TaskConcurrency: empty is the default (0), "0"
// no limit (-1), N > 0 at most N runs of one task at once.
func parseTaskConcurrency(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--task-concurrency (SPROCKET_TASK_CONCURRENCY): %q is not a whole number of runs, 0 or more", v)
	}
	if n == 0 {
		return -1, nil
	}
	return n, nil
}

// runServe implements "sprocket serve": the HTTP service with its store,
// webhooks, scheduler, pipeline and API, until SIGINT or SIGTERM.
func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("SPROCKET_ADDR", server.DefaultAddr), "listen address (env SPROCKET_ADDR)")
	data := fs.String("data", envOr("SPROCKET_DATA", server.DefaultDataDir), "data directory, created on first start (env SPROCKET_DATA)")
	tz := fs.String("timezone", envOr("SPROCKET_TIMEZONE", "UTC"), "shop time zone for the scheduler, e.g. America/New_York (env SPROCKET_TIMEZONE)")
	retention := fs.Duration("retention", server.DefaultRetention, "prune events and runs older than this (0 keeps everything)")
	logLevel := fs.String("log-level", envOr("SPROCKET_LOG_LEVEL", "info"), "log level: debug, info, warn or error")
	logFormat := fs.String("log-format", envOr("SPROCKET_LOG_FORMAT", logging.FormatText), "log format: text or json (env SPROCKET_LOG_FORMAT)")
	logJSON := fs.Bool("log-json", false, "write logs as JSON lines (same as --log-format json)")
	workers := fs.Int("workers", 0, "runs performed at once (0: the pipeline default)")
	memLimit := fs.String("memory-limit", os.Getenv("SPROCKET_MEMORY_LIMIT"), "the process's memory ceiling, e.g. 4GiB, 512MiB or plain bytes (env SPROCKET_MEMORY_LIMIT; default 90% of the cgroup memory limit, else 75% of the machine's memory): 90% of it is the Go runtime's soft memory limit (debug.SetMemoryLimit), and half of it is what task runs rendering at once may hold, each reserving its memory budget (256 MiB, bulk operation results 1 GiB) and waiting while it is taken")
	shopConcurrency := fs.Int("shop-concurrency", 0, "the shop's run queue size: the most runs performed at once, divided among the nodes sharing a --database (0: --workers per node)")
	taskConcurrency := fs.String("task-concurrency", os.Getenv("SPROCKET_TASK_CONCURRENCY"), "the most runs of one task (its task runs and the action runs it emitted) performed at once on this node, so that one busy task cannot take every worker; its other runs wait while other tasks' runs go ahead (env SPROCKET_TASK_CONCURRENCY; default a quarter of the node's concurrency, at least 1; 0: unlimited)")
	lease := fs.Duration("run-lease", 0, "how long a run stays claimed without a heartbeat; after a crash, runs in progress are retaken when it expires (0: the pipeline default)")
	blockPrivate := fs.Bool("block-private-networks", true, "deprecated, now always on: task connections to loopback, private and other internal addresses are refused unless --allow-network opens them")
	allowNetwork := fs.String("allow-network", os.Getenv(netpolicy.EnvAllowNetwork), "comma-separated CIDR prefixes that task connections (http and ftp actions, url file generator) may reach although internal, e.g. 10.0.0.0/8,127.0.0.1/32 (env "+netpolicy.EnvAllowNetwork+"); operator-configured endpoints (Shopify base URL, SMTP relay) are not restricted")
	errorEvents := fs.Bool("error-events", false, "emit mechanic/errors/* events for failed runs")
	shopDomain := fs.String("shopify-shop", os.Getenv("SPROCKET_SHOPIFY_SHOP"), "connect this shop, name.myshopify.com (env SPROCKET_SHOPIFY_SHOP); without it, connect through the API")
	shopBase := fs.String("shopify-base-url", os.Getenv("SPROCKET_SHOPIFY_BASE_URL"), "where the shop's Admin API is served (env SPROCKET_SHOPIFY_BASE_URL; default https://<shop>, e.g. http://127.0.0.1:8788 for `sprocket sandbox`)")
	shopVersion := fs.String("shopify-api-version", os.Getenv("SPROCKET_SHOPIFY_API_VERSION"), "default Admin API version (env SPROCKET_SHOPIFY_API_VERSION; default "+shopify.DefaultAPIVersion+")")
	shopClientID := fs.String("shopify-client-id", os.Getenv("SPROCKET_SHOPIFY_CLIENT_ID"), "the app's client id: without an access token, exchanged with the secret for one (client-credentials grant) (env SPROCKET_SHOPIFY_CLIENT_ID)")
	publicURL := fs.String("public-url", os.Getenv("SPROCKET_PUBLIC_URL"), "the service's public base URL, e.g. https://sprocket.example.com: OAuth redirects, Shopify webhooks and script tags, and the URLs of files made by files actions (env SPROCKET_PUBLIC_URL)")
	shopCalls := fs.Int("shopify-call-limit", 0, "Shopify API calls one task run may make (0: 500)")
	hookPerIP := fs.Int("webhook-rate-per-ip", 6000, "webhook requests per minute one client address may send (429 with Retry-After beyond; 0: unlimited)")
	hookPerHook := fs.Int("webhook-rate-per-webhook", 0, "requests per minute one webhook accepts (429 with Retry-After beyond; 0: unlimited)")
	minFreeMiB := fs.Int64("min-free-disk-mib", server.DefaultMinFreeDisk>>20, "free space (MiB) the data directory's file system keeps: below it webhooks answer 503 and /readyz is not ready (0: no floor)")
	maxStored := fs.String("max-stored-bytes", envOr("SPROCKET_MAX_STORED_BYTES", "auto"), "stored-bytes quota, e.g. 10GiB or 500MB: while the database holds this much, event ingest (webhooks, POST /v1/events, Shopify webhooks, inbound email) answers 429 with Retry-After until pruning frees space; queued runs and the scheduler go on (0: unlimited; auto: half the data directory's file system with SQLite, unlimited with --database) (env SPROCKET_MAX_STORED_BYTES)")
	maxQueueAge := fs.String("max-queue-age", envOr("SPROCKET_MAX_QUEUE_AGE", "0"), "/readyz reports not ready while the oldest due run has waited longer than this, e.g. 10m; on a shared database every node sees the same queue (0: no bound, the age is only reported) (env SPROCKET_MAX_QUEUE_AGE)")
	maxConns := fs.Int("max-conns", 4096, "HTTP connections open at once (0: no cap); more are closed at once")
	maxConnsPerIP := fs.Int("max-conns-per-ip", 1024, "HTTP connections open at once from one client address (0: no cap)")
	authFails := fs.Int("auth-failures-per-minute", server.DefaultAuthFailuresPerMinute, "API requests with a missing or wrong token one address may make per minute before being answered 429 (0: no bound)")
	rateLimits := fs.Bool("rate-limits", true, "apply Mechanic's task sync API rate limits (120 requests/min per IP, 300/min per token, 120 task writes/min, 60 shop status/min, 30 previews/min; 429 with Retry-After)")
	smtpURL := fs.String("smtp-url", "", "outgoing mail relay for the email action: smtp://user:pass@host:port (STARTTLS when offered), smtps://… (implicit TLS) or smtp://host:port?tls=none (plain, for a loopback relay) (env SPROCKET_SMTP_URL, preferred: it keeps the password out of the process list)")
	emailFrom := fs.String("email-from", envOr("SPROCKET_EMAIL_FROM", ""), "sender address of the email action, e.g. shop@example.com; from_display_name sets only the name (env SPROCKET_EMAIL_FROM)")
	smtpListen := fs.String("smtp-listen", envOr("SPROCKET_SMTP_LISTEN", ""), "receive email on this address, e.g. 127.0.0.1:2525, as mechanic/emails/received events; off when empty (env SPROCKET_SMTP_LISTEN)")
	emailDomain := fs.String("email-domain", envOr("SPROCKET_EMAIL_DOMAIN", ""), "comma-separated domains whose addresses (any local part) receive email; others are refused with 550 (env SPROCKET_EMAIL_DOMAIN)")
	smtpCert := fs.String("smtp-tls-cert", envOr("SPROCKET_SMTP_TLS_CERT", ""), "PEM certificate file; with --smtp-tls-key, the SMTP server offers STARTTLS (env SPROCKET_SMTP_TLS_CERT)")
	smtpKey := fs.String("smtp-tls-key", envOr("SPROCKET_SMTP_TLS_KEY", ""), "PEM private key file for --smtp-tls-cert (env SPROCKET_SMTP_TLS_KEY)")
	filesTTL := fs.Duration("files-ttl", files.DefaultTTL, "how long files made by files actions stay available")
	chromiumPath := fs.String("chromium", os.Getenv(chromium.EnvPath), "Chromium executable for the pdf file generator; empty looks for chromium-headless-shell, chromium or google-chrome on PATH (env "+chromium.EnvPath+")")
	pdfBrowsers := fs.Int("pdf-browsers", chromium.DefaultBrowsers, "Chromium processes kept for rendering PDFs (each renders two documents at once)")
	pdfNetwork := fs.Bool("pdf-allow-network", envOr("SPROCKET_PDF_ALLOW_NETWORK", "") == "true", "let PDF documents load http(s) resources such as web fonts, images and scripts; off, every request of the page is refused (env SPROCKET_PDF_ALLOW_NETWORK=true)")
	database := fs.String("database", os.Getenv("SPROCKET_DATABASE_URL"), "postgres://user:pass@host:5432/db to share one PostgreSQL database between several nodes; empty uses SQLite in --data (env SPROCKET_DATABASE_URL)")
	dbConns := fs.Int("database-max-conns", 0, "PostgreSQL connection pool size per node (0: 4×CPUs, at least 8)")
	dbTimeout := fs.Duration("database-statement-timeout", 0, "PostgreSQL statement_timeout for every query (0: 30s)")
	library := fs.String("library", os.Getenv(web.LibraryDirEnv), "Mechanic task library directory for the web UI (env "+web.LibraryDirEnv+"; default ../shared/corpus/mechanic-tasks/tasks when it exists)")
	noUI := fs.Bool("no-ui", false, "do not serve the web UI at /")
	uiPlainHTTP := fs.Bool("ui-plain-http", false, "let the web UI sign in over plain HTTP from other machines (session cookie without the Secure flag; trusted networks only)")
	tasksDir := fs.String("tasks-dir", os.Getenv("SPROCKET_TASKS_DIR"), "load every task under this folder (NAME.json exports or NAME/ task folders), enabled, and reload them when their files change; such tasks are read-only in the API (env SPROCKET_TASKS_DIR)")
	sync := fs.String("sqlite-synchronous", "NORMAL", "SQLite synchronous mode: NORMAL survives process crashes, FULL also power loss")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sprocket serve [flags]\n\nStarts the Sprocket service. The admin API token is SPROCKET_API_TOKEN when set;\notherwise one is generated on first start and printed once.\n\nSecrets are read from the environment only: SPROCKET_SHOPIFY_ACCESS_TOKEN (an\nAdmin API access token), SPROCKET_SHOPIFY_API_SECRET (the app's client secret:\nwebhook and OAuth HMAC key, and with --shopify-client-id the client-credentials\ngrant), SPROCKET_SECRET_KEY (32 bytes, base64 or hex: seals stored credentials;\ndefault a key file in the data directory).\n\nEmail: --smtp-url and --email-from configure the relay of the email action\n(SPROCKET_SMTP_URL, SPROCKET_EMAIL_FROM); --smtp-listen and --email-domain\nreceive mail as mechanic/emails/received events (SPROCKET_SMTP_LISTEN,\nSPROCKET_EMAIL_DOMAIN).\n\nTraces (OpenTelemetry, off by default): OTEL_EXPORTER_OTLP_ENDPOINT (or\nOTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_TRACES_EXPORTER=otlp for\nhttp://localhost:4318) turns on OTLP/HTTP export of a span per event, webhook\nrequest and run attempt; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none\nturns it off. Also read: OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION,\n_PROTOCOL (http/protobuf only), OTEL_SERVICE_NAME (default sprocket),\nOTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and _ARG, OTEL_BSP_*.\n\nflags:")
		fs.PrintDefaults()
	}
	if wantsHelp(args) {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	level, err := logging.ParseLevel(*logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: --log-level: %v\n", err)
		return 2
	}
	if *logJSON {
		*logFormat = logging.FormatJSON
	}
	h, err := logging.NewHandler(stderr, level, *logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: --log-format: %v\n", err)
		return 2
	}
	// Warnings and errors are rate-limited per message.
	log := slog.New(logging.RateLimit(h, 0, 0))
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: bad --timezone %q: %v\n", *tz, err)
		return 2
	}
	if *retention == 0 {
		*retention = -1
	}
	network, err := netpolicy.Parse(*allowNetwork)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: --allow-network: %v\n", err)
		return 2
	}
	if !*blockPrivate {
		log.Warn("--block-private-networks=false is ignored: internal addresses are refused unless --allow-network lists them")
	}
	emailCfg, inbound, err := emailConfig(*smtpURL, *emailFrom, *smtpListen, *emailDomain, *smtpCert, *smtpKey)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: %v\n", err)
		return 2
	}
	traceCfg, err := tracing.ConfigFromEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: tracing: %v\n", err)
		return 2
	}
	if *database != "" && !server.IsPostgresURL(*database) {
		fmt.Fprintln(stderr, "sprocket serve: --database (SPROCKET_DATABASE_URL) must be a postgres:// or postgresql:// URL")
		return 2
	}
	taskLimit, err := parseTaskConcurrency(*taskConcurrency)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: %v\n", err)
		return 2
	}
	var storedQuota int64
	switch q := strings.TrimSpace(*maxStored); {
	case strings.EqualFold(q, "auto") && *database == "":
		if storedQuota, err = server.DefaultStoredBytes(*data); err != nil {
			fmt.Fprintf(stderr, "sprocket serve: --max-stored-bytes auto: %v\n", err)
			return 1
		}
	case strings.EqualFold(q, "auto"):
		// PostgreSQL's disk is not ours to measure: no default quota.
	default:
		if storedQuota, err = server.ParseByteSize(q); err != nil {
			fmt.Fprintf(stderr, "sprocket serve: --max-stored-bytes (SPROCKET_MAX_STORED_BYTES): %v\n", err)
			return 2
		}
	}
	queueAge, err := parseMaxQueueAge(*maxQueueAge)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: %v\n", err)
		return 2
	}
	ceiling, ceilingFrom, err := memoryCeiling(*memLimit, memlimit.Host())
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: --memory-limit (SPROCKET_MEMORY_LIMIT): %v\n", err)
		return 2
	}
	// The runtime's soft limit leaves a tenth of the ceiling for what
	// the process maps outside the Go heap (its code, thread stacks).
	debug.SetMemoryLimit(int64(float64(ceiling) * memlimit.RuntimeFraction))
	log.Info("memory ceiling", "bytes", ceiling, "from", ceilingFrom, "go_memory_limit", int64(float64(ceiling)*memlimit.RuntimeFraction))
	if *dbConns < 0 || *dbTimeout < 0 {
		fmt.Fprintln(stderr, "sprocket serve: --database-max-conns and --database-statement-timeout must not be negative")
		return 2
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, restore the default handling so that a
		// second one ends the process at once.
		<-ctx.Done()
		stop()
	}()
	pdfCfg := chromium.Config{Path: *chromiumPath, Browsers: *pdfBrowsers, Logger: log}
	if *pdfNetwork {
		pdfCfg.AllowRequest = chromium.AllowPublicHTTP
	}
	pdf := chromium.New(pdfCfg)
	defer pdf.Close()
	if _, err := chromium.FindBrowser(*chromiumPath); err != nil {
		log.Warn("pdf file generator: no browser; pdf generators will fail until one is installed", "error", err)
	}
	var ui server.UIFactory
	if !*noUI {
		ui = web.Factory(web.Options{LibraryDir: *library, PlainHTTPCookies: *uiPlainHTTP, Logger: log})
	}
	svc, err := server.Open(ctx, server.Config{
		DataDir:  *data,
		APIToken: os.Getenv("SPROCKET_API_TOKEN"),
		TokenCreated: func(tok string) {
			fmt.Fprintf(stdout, "sprocket: created the admin API token; it is shown only this once:\n\n    %s\n\nsend it as \"Authorization: Bearer <token>\" (or set SPROCKET_API_TOKEN)\n", tok)
		},
		Location:         loc,
		Retention:        *retention,
		Synchronous:      strings.ToUpper(*sync),
		DatabaseURL:      *database,
		DatabaseMaxConns: *dbConns,
		StatementTimeout: *dbTimeout,
		NewPipeline: server.StandardPipeline(server.PipelineOptions{
			Workers: *workers, Lease: *lease, ShopConcurrency: *shopConcurrency, TaskConcurrency: taskLimit, Location: loc,
			Network: network, ErrorEvents: *errorEvents,
			ShopifyCallLimit: *shopCalls,
			Email:            emailCfg,
			PublicURL:        *publicURL,
			PDF:              pdf,
			MemoryLimit:      ceiling,
		}),
		FilesTTL:      *filesTTL,
		SMTPListen:    inbound.listen,
		EmailDomains:  inbound.domains,
		SMTPTLSConfig: inbound.tls,
		Previewer:     server.NewPreviewer(),
		Logger:        log,

		RateLimits:     limitsIf(*rateLimits),
		WebhookLimits:  webhook.Limits{PerIP: *hookPerIP, PerWebhook: *hookPerHook},
		MinFreeDisk:    *minFreeMiB << 20,
		MaxStoredBytes: storedQuota,
		MaxQueueAge:    queueAge,
		MaxConns:       *maxConns, MaxConnsPerIP: *maxConnsPerIP,
		AuthFailuresPerMinute: cmp.Or(*authFails, -1),
		Shopify: server.ShopifyConfig{
			Shop: *shopDomain, AccessToken: os.Getenv("SPROCKET_SHOPIFY_ACCESS_TOKEN"),
			ClientID: *shopClientID, APISecret: os.Getenv("SPROCKET_SHOPIFY_API_SECRET"),
			BaseURL: *shopBase, APIVersion: *shopVersion, PublicURL: *publicURL,
		},
		SecretKey: os.Getenv("SPROCKET_SECRET_KEY"),
		UI:        ui,
		Tracing:   traceCfg,
	})
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: %v\n", err)
		return 1
	}
	defer func() {
		if err := svc.Close(); err != nil {
			log.Error("close", "error", err)
		}
	}()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: %v\n", err)
		return 1
	}
	if a := svc.SMTPAddr(); a != nil {
		fmt.Fprintf(stdout, "sprocket: receiving email on smtp://%s for %s\n", a, strings.Join(inbound.domains, ", "))
	}
	where := "data in " + *data
	if *database != "" {
		where = "database PostgreSQL, node data in " + *data
	}
	fmt.Fprintf(stdout, "sprocket: listening on http://%s (%s)\n", ln.Addr(), where)
	if ui != nil {
		fmt.Fprintf(stdout, "sprocket: web UI at http://%s/ (sign in with the API token)\n", ln.Addr())
	}
	if *tasksDir != "" {
		syncer := tasksync.New(*tasksDir, svc, log, 0)
		if _, err := syncer.Sync(ctx); err != nil {
			fmt.Fprintf(stderr, "sprocket serve: --tasks-dir: %v\n", err)
			return 1
		}
		go func() { _ = syncer.Run(ctx) }()
	}
	log.Info("serving", "addr", ln.Addr().String(), "data", *data, "timezone", loc.String())
	if err := svc.Serve(ctx, ln); err != nil {
		log.Error("serve", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// memoryCeiling returns the process's memory ceiling: flag (a size such as
// 4GiB) when given, else the machine's default; and where it came from.
func memoryCeiling(flag string, m memlimit.Machine) (int64, string, error) {
	if strings.TrimSpace(flag) != "" {
		n, err := memlimit.ParseSize(flag)
		if err != nil {
			return 0, "", err
		}
		return n, "--memory-limit", nil
	}
	n, from, err := m.Default()
	if err != nil {
		return 0, "", fmt.Errorf("no default from the machine (%w); set one", err)
	}
	return n, from, nil
}

// limitsIf returns Mechanic's API rate limits, or nil (no limits) when off.
func limitsIf(on bool) *server.RateLimits {
	if !on {
		return nil
	}
	return server.MechanicRateLimits()
}
