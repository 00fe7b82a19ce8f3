package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/server"
)

const secretsUsage = `usage: sprocket secrets rotate-key [flags]

rotate-key re-seals every stored credential (task secrets, webhook signing
secrets, the Shopify connection, app integrations, OAuth providers and
accounts, the run link key) under a new key, in one transaction, and prints
how many values it re-sealed. Stop the server first: it refuses to run
while a server holds the data directory and, with --database, while any
node of that database is running (every node, on every machine, must be
stopped; a node killed without stopping counts for 10 seconds).

The current key is ` + seal.EnvKey + ` when set, else the key file
<data>/` + seal.KeyFile + `. The new key is ` + server.NewKeyEnv + ` (32 bytes,
base64 or hex) when set, else a random one.

With the key file, the new key is written to ` + seal.KeyFile + `.new first and
renamed over ` + seal.KeyFile + ` once the re-seal committed; if the command is
interrupted, the next start (or rotate-key) keeps whichever key opens the
stored credentials. With ` + seal.EnvKey + ` (required with --database), set it
to the new key before the next start; a generated new key is printed once.`

// runSecrets runs "sprocket secrets SUBCOMMAND".
func runSecrets(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "rotate-key" {
		return runRotateKey(ctx, args[1:], stdout, stderr)
	}
	if wantsHelp(args) || (len(args) > 0 && args[0] == "help") {
		fmt.Fprintln(stdout, secretsUsage)
		return 0
	}
	fmt.Fprintln(stderr, secretsUsage)
	return 2
}

func runRotateKey(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("secrets rotate-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("SPROCKET_DATA", server.DefaultDataDir), "data directory, as for serve (env SPROCKET_DATA)")
	database := fs.String("database", os.Getenv("SPROCKET_DATABASE_URL"), "postgres://… URL of a shared PostgreSQL database, as for serve; empty uses SQLite in --data (env SPROCKET_DATABASE_URL)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), secretsUsage+"\n\nflags:")
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
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	if *database != "" && !server.IsPostgresURL(*database) {
		fmt.Fprintln(stderr, "sprocket secrets rotate-key: --database must be a postgres:// URL (SQLite is the default and needs none)")
		return 2
	}
	res, err := server.RotateKey(ctx, server.RotateConfig{
		DataDir: *data, DatabaseURL: *database,
		SecretKey: os.Getenv(seal.EnvKey), NewKey: os.Getenv(server.NewKeyEnv),
		Logger: slog.New(slog.NewTextHandler(stderr, nil)),
	})
	if err != nil {
		fmt.Fprintf(stderr, "sprocket secrets rotate-key: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "re-sealed %d values under the new key\n", res.Resealed)
	switch {
	case res.KeyFile != "":
		fmt.Fprintf(stdout, "new key file: %s (back it up; the old key no longer opens the data)\n", res.KeyFile)
	case res.GeneratedKey != "":
		fmt.Fprintf(stdout, "new key (shown once): %s\nset %s to it before the next start\n", res.GeneratedKey, seal.EnvKey)
	default:
		fmt.Fprintf(stdout, "set %s to the value of %s before the next start\n", seal.EnvKey, server.NewKeyEnv)
	}
	return 0
}
