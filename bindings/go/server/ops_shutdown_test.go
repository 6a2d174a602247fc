package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// During the drain delay /readyz answers 503 while requests are still
// served; then the listener closes.
func TestShutdownDrainDelay(t *testing.T) {
	const delay = 600 * time.Millisecond
	f := newFixture(t, testConfig(t, "  drain_delay: 600ms\n"))
	f.journey("D1")
	hs := f.srv.HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	base := "http://" + ln.Addr().String()
	get := func(path, key string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	if st, _, b := get("/readyz", ""); st != 200 {
		t.Fatalf("readyz before: %d %s", st, b)
	}

	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(context.Background(), hs) }()
	time.Sleep(50 * time.Millisecond)
	st, ct, b := get("/readyz", "")
	if st != 503 || ct != "application/problem+json" || !strings.Contains(b, `"detail":"shutting down"`) {
		t.Fatalf("readyz while draining: %d %s %s", st, ct, b)
	}
	if st, _, b := get("/healthz", ""); st != 200 {
		t.Fatalf("healthz while draining: %d %s", st, b)
	}
	if st, _, b := get("/api/v1/track/"+esc(unitID("D1")), brandKey); st != 200 {
		t.Fatalf("track while draining: %d %s", st, b)
	}
	if time.Since(start) >= delay {
		t.Fatal("the checks took longer than the delay")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < delay {
		t.Fatalf("the listener closed after %v, before the delay", d)
	}
	if _, err := http.Get(base + "/healthz"); err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("after the delay: %v", err)
	}
}

// drain_delay 0 closes the listener at once; ctx ends a delay early.
func TestShutdownNoDelay(t *testing.T) {
	for _, c := range []struct {
		extra  string
		cancel bool
	}{{"  drain_delay: 0\n", false}, {"", true}} {
		f := newFixture(t, testConfig(t, c.extra))
		hs := f.srv.HTTPServer()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go hs.Serve(ln)
		ctx, cancel := context.WithCancel(context.Background())
		if c.cancel {
			cancel()
		}
		start := time.Now()
		if err := f.srv.Shutdown(ctx, hs); err != nil && !c.cancel {
			t.Fatal(err)
		}
		cancel()
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%q: took %v", c.extra, d)
		}
	}
}

func TestDrainDelayConfig(t *testing.T) {
	dir := t.TempDir()
	load := func(yml string) (*Config, error) {
		p := filepath.Join(dir, "config.yml")
		os.WriteFile(p, []byte(yml), 0o644)
		return LoadConfig(p)
	}
	for yml, want := range map[string]time.Duration{
		"":                                5 * time.Second,
		"server:\n  drain_delay: 0\n":     0,
		"server:\n  drain_delay: 250ms\n": 250 * time.Millisecond,
		"server:\n  drain_delay: 2\n":     2 * time.Second,
	} {
		cfg, err := load(yml)
		if err != nil || time.Duration(*cfg.DrainDelay) != want {
			t.Errorf("%q: %v %v, want %v", yml, err, cfg, want)
		}
	}
	t.Setenv("TNT_DRAIN_DELAY", "0")
	if cfg, err := load("server:\n  drain_delay: 9s\n"); err != nil || *cfg.DrainDelay != 0 {
		t.Errorf("TNT_DRAIN_DELAY=0: %v %v", err, cfg)
	}
	t.Setenv("TNT_DRAIN_DELAY", "soon")
	if _, err := load(""); err == nil {
		t.Error("TNT_DRAIN_DELAY=soon accepted")
	}
	t.Setenv("TNT_DRAIN_DELAY", "")
	if _, err := load("server:\n  drain_delay: -1s\n"); err == nil {
		t.Error("a negative drain_delay accepted")
	}
}
