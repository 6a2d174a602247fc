// Command tnt-server is libtnt's reference REST API server.
//
//	tnt-server [serve] [-config config.yml] [-data DIR] [-listen ADDR] [-public-url URL] [-drain-delay D]
//	tnt-server migrate [-config config.yml] [-data DIR]
//	tnt-server version
//
// serve (the default) answers on the configured address until SIGINT or
// SIGTERM; then /readyz answers 503 for the drain delay while requests are
// still served, the listener closes, the requests in flight finish and the
// engine is closed. A second signal ends the process at once.
// migrate creates what the configured backends need (for the embedded
// store: its directories) and exits. The configuration is config.yml's
// server: section (docs/server.md), the TNT_* environment variables, and
// these flags, each overriding the one before.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	tnt "github.com/libtnt/libtnt/bindings/go"
	"github.com/libtnt/libtnt/bindings/go/server"
)

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("tnt-server "+cmd, flag.ExitOnError)
	configPath := fs.String("config", os.Getenv("TNT_CONFIG"), "config.yml: backends (database:) and server settings (server:); $TNT_CONFIG")
	dataDir := fs.String("data", "", "embedded data directory (default $TNT_DATA or ./tnt-data)")
	listen := fs.String("listen", "", "address to listen on (default 127.0.0.1:8080; $TNT_LISTEN)")
	publicURL := fs.String("public-url", "", "URL clients reach the server at, for Digital Links ($TNT_PUBLIC_URL)")
	drainDelay := fs.String("drain-delay", "", "how long /readyz answers 503 at shutdown before the listener closes (default 5s; $TNT_DRAIN_DELAY)")
	fs.Parse(args)

	var err error
	switch cmd {
	case "serve":
		err = serve(*configPath, *dataDir, *listen, *publicURL, *drainDelay)
	case "migrate":
		err = migrate(*configPath, *dataDir)
	case "version":
		fmt.Printf("tnt-server with libtnt %s (built against %s)\n", tnt.LibraryVersion(), tnt.Version)
	default:
		err = fmt.Errorf("unknown command %q (serve, migrate, version)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tnt-server:", err)
		os.Exit(1)
	}
}

func loadConfig(path, listen, publicURL, drainDelay string) (*server.Config, error) {
	cfg, err := server.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	if drainDelay != "" {
		cfg.DrainDelay = new(server.Duration)
		if err := cfg.DrainDelay.UnmarshalText([]byte(drainDelay)); err != nil {
			return nil, fmt.Errorf("-drain-delay: %w", err)
		}
	}
	if listen != "" {
		cfg.SetListen(listen)
	}
	if publicURL != "" {
		cfg.PublicURL = publicURL
	}
	return cfg, server.Finish(cfg)
}

func logger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func serve(configPath, dataDir, listen, publicURL, drainDelay string) error {
	cfg, err := loadConfig(configPath, listen, publicURL, drainDelay)
	if err != nil {
		return err
	}
	log := logger(cfg.LogLevel)
	eng, err := tnt.Open(tnt.Config{DataDir: dataDir, ConfigPath: configPath})
	if err != nil {
		return err
	}
	if cfg.JobsDir == "" { // beside the embedded store
		dir := dataDir
		if dir == "" {
			if dir = os.Getenv("TNT_DATA"); dir == "" {
				dir = "tnt-data"
			}
		}
		cfg.JobsDir = filepath.Join(dir, "capture-jobs")
	}
	defer func() {
		eng.Close()
		log.Info("engine closed")
	}()
	srv, err := server.New(cfg, eng, log)
	if err != nil {
		return err
	}
	hs := srv.HTTPServer()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	srv.SetReady(true)
	log.Info("listening", "address", ln.Addr().String(), "url", cfg.PublicURL, "libtnt", tnt.LibraryVersion(),
		"partners", len(cfg.Partners))
	fmt.Fprintf(os.Stderr, "tnt-server: serving on %s\n", cfg.PublicURL)

	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal ends the process at once
	if err := srv.Shutdown(context.Background(), hs); err != nil {
		log.Warn("requests still running at the shutdown deadline", "error", err.Error())
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// migrate opens the engine, which creates what each backend needs, and
// reports where the data lives.
func migrate(configPath, dataDir string) error {
	if _, err := loadConfig(configPath, "", "", ""); err != nil {
		return err
	}
	eng, err := tnt.Open(tnt.Config{DataDir: dataDir, ConfigPath: configPath})
	if err != nil {
		return err
	}
	defer eng.Close()
	raw, err := eng.Stats(context.Background())
	if err != nil {
		return err
	}
	var stats struct {
		Backends map[string]string `json:"backends"`
	}
	json.Unmarshal(raw, &stats)
	out, _ := json.Marshal(map[string]any{"migrated": true, "backends": stats.Backends})
	fmt.Println(string(out))
	return nil
}
