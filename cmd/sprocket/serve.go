package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sprocketrun/sprocket/server"
	"github.com/sprocketrun/sprocket/web"
)

// envOr returns the environment variable name, or def when it is unset or empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
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
	logJSON := fs.Bool("log-json", false, "write logs as JSON lines")
	workers := fs.Int("workers", 0, "runs performed at once (0: the pipeline default)")
	lease := fs.Duration("run-lease", 0, "how long a run stays claimed without a heartbeat; after a crash, runs in progress are retaken when it expires (0: the pipeline default)")
	blockPrivate := fs.Bool("block-private-networks", false, "refuse http actions to loopback, private and link-local addresses")
	errorEvents := fs.Bool("error-events", false, "emit mechanic/errors/* events for failed runs")
	library := fs.String("library", os.Getenv(web.LibraryDirEnv), "Mechanic task library directory for the web UI (env "+web.LibraryDirEnv+"; default ../shared/corpus/mechanic-tasks/tasks when it exists)")
	noUI := fs.Bool("no-ui", false, "do not serve the web UI at /")
	uiPlainHTTP := fs.Bool("ui-plain-http", false, "let the web UI sign in over plain HTTP from other machines (session cookie without the Secure flag; trusted networks only)")
	sync := fs.String("sqlite-synchronous", "NORMAL", "SQLite synchronous mode: NORMAL survives process crashes, FULL also power loss")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sprocket serve [flags]\n\nStarts the Sprocket service. The admin API token is SPROCKET_API_TOKEN when set;\notherwise one is generated on first start and printed once.\n\nflags:")
		fs.PrintDefaults()
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
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "sprocket serve: bad --log-level %q\n", *logLevel)
		return 2
	}
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stderr, hopts)
	if *logJSON {
		h = slog.NewJSONHandler(stderr, hopts)
	}
	log := slog.New(h)
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket serve: bad --timezone %q: %v\n", *tz, err)
		return 2
	}
	if *retention == 0 {
		*retention = -1
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, restore the default handling so that a
		// second one ends the process at once.
		<-ctx.Done()
		stop()
	}()
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
		Location:    loc,
		Retention:   *retention,
		Synchronous: strings.ToUpper(*sync),
		NewPipeline: server.StandardPipeline(server.PipelineOptions{
			Workers: *workers, Lease: *lease, Location: loc,
			BlockPrivateNetworks: *blockPrivate, ErrorEvents: *errorEvents,
		}),
		Previewer: server.NewPreviewer(),
		Logger:    log,
		UI:        ui,
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
	fmt.Fprintf(stdout, "sprocket: listening on http://%s (data in %s)\n", ln.Addr(), *data)
	if ui != nil {
		fmt.Fprintf(stdout, "sprocket: web UI at http://%s/ (sign in with the API token)\n", ln.Addr())
	}
	log.Info("serving", "addr", ln.Addr().String(), "data", *data, "timezone", loc.String())
	if err := svc.Serve(ctx, ln); err != nil {
		log.Error("serve", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
