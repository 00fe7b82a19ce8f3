package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/shopify/sandbox"
	"github.com/sprocketrun/sprocket/shopify/schema"
)

// runSandbox implements "sprocket sandbox": a stand-in Shopify shop serving
// the Admin API from the real schema, until SIGINT or SIGTERM.
func runSandbox(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8788", "listen address")
	schemaFile := fs.String("schema", "", "Admin schema introspection JSON (gzip or plain); default: the file for --api-version found by "+schema.EnvDir+" or ../shared")
	version := fs.String("api-version", shopify.DefaultAPIVersion, "Admin API version whose schema is served")
	shop := fs.String("shop", sandbox.DefaultShop, "the shop's myshopify domain")
	token := fs.String("token", os.Getenv("SPROCKET_SANDBOX_TOKEN"), "access token clients must send (env SPROCKET_SANDBOX_TOKEN; default: a random one)")
	seed := fs.Int64("seed", 1, "seed of the generated shop data")
	bucket := fs.Float64("bucket-size", sandbox.DefaultBucketSize, "GraphQL cost bucket size in points")
	restore := fs.Float64("restore-rate", sandbox.DefaultRestoreRate, "GraphQL points restored per second")
	maxCost := fs.Int("max-query-cost", 0, "largest requested cost of one query (0: Shopify's 1000; -1: no limit)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	apiSecret := fs.String("api-secret", os.Getenv("SPROCKET_SHOPIFY_API_SECRET"), "app secret that signs webhook deliveries (env SPROCKET_SHOPIFY_API_SECRET; default: a random one)")
	bulkDelay := fs.Duration("bulk-delay", 0, "how long bulk operations stay RUNNING before they complete (0: at once)")
	webhookAttempts := fs.Int("webhook-attempts", sandbox.DefaultWebhookAttempts, "attempts of one webhook delivery before it is given up")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sprocket sandbox [flags]\n\nServes a sandbox Shopify shop: the Admin GraphQL API validated against the real schema,\nthe REST paths the task library uses, and /sandbox/ control endpoints, from a seeded\nin-memory shop. Point `sprocket serve` at it with the printed environment.\n\nflags:")
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
		fmt.Fprintf(stderr, "sprocket sandbox: bad --log-level %q\n", *logLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	path := *schemaFile
	located := path == ""
	if located {
		p, err := schema.Locate(*version)
		if err != nil {
			fmt.Fprintf(stderr, "sprocket sandbox: %v (give --schema FILE)\n", err)
			return 1
		}
		path = p
	}
	s, err := schema.LoadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket sandbox: %v\n", err)
		return 1
	}
	// Beside a located schema, serve the other versions found with it.
	others := map[string]*schema.Schema{}
	if located {
		matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "admin_*.json.gz"))
		for _, m := range matches {
			v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "admin_"), ".json.gz")
			if v == *version {
				continue
			}
			o, err := schema.LoadFile(m)
			if err != nil {
				fmt.Fprintf(stderr, "sprocket sandbox: %v\n", err)
				return 1
			}
			others[v] = o
		}
	}
	if *token == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			fmt.Fprintf(stderr, "sprocket sandbox: generate token: %v\n", err)
			return 1
		}
		*token = "shpat_sandbox_" + hex.EncodeToString(b)
	}
	if *apiSecret == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			fmt.Fprintf(stderr, "sprocket sandbox: generate API secret: %v\n", err)
			return 1
		}
		*apiSecret = "shpss_sandbox_" + hex.EncodeToString(b)
	}
	sb, err := sandbox.New(sandbox.Options{
		Schema: s, Schemas: others, Shop: *shop, AccessToken: *token, Seed: *seed,
		BucketSize: *bucket, RestoreRate: *restore, MaxQueryCost: *maxCost, Logger: log,
		APIVersion: *version, APISecret: *apiSecret, BulkDelay: *bulkDelay, WebhookAttempts: *webhookAttempts,
	})
	if err != nil {
		fmt.Fprintf(stderr, "sprocket sandbox: %v\n", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "sprocket sandbox: %v\n", err)
		return 1
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "sprocket sandbox: serving %s (schema %s) on %s\n\npoint `sprocket serve` at it with:\n\n", *shop, path, base)
	if len(others) > 0 {
		var vs []string
		for v := range others {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		fmt.Fprintf(stdout, "(API versions %s are served with their own schemas too)\n\n", strings.Join(vs, ", "))
	}
	fmt.Fprintf(stdout, "SPROCKET_SHOPIFY_SHOP=%s\nSPROCKET_SHOPIFY_ACCESS_TOKEN=%s\nSPROCKET_SHOPIFY_API_SECRET=%s\nSPROCKET_SHOPIFY_BASE_URL=%s\nSPROCKET_SHOPIFY_API_VERSION=%s\n\n", *shop, *token, *apiSecret, base, *version)

	srv := &http.Server{
		Handler:           sb.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("sandbox serving", "addr", base, "shop", *shop, "schema", path)
	select {
	case err := <-done:
		log.Error("sandbox serve", "error", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Error("sandbox shutdown", "error", err)
		return 1
	}
	sb.Close()
	log.Info("sandbox stopped", "stats", fmt.Sprintf("%+v", sb.Stats()))
	return 0
}
