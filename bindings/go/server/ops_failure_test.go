package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

// logBuffer collects a server's JSON log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines are the log lines at level whose msg is msg.
func (l *logBuffer) lines(level, msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["level"] == level && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// logged is f with a server that logs into a buffer.
func logged(t *testing.T, f *fixture) (*fixture, *logBuffer) {
	t.Helper()
	lb := &logBuffer{}
	srv, err := New(f.srv.cfg, f.eng, slog.New(slog.NewJSONHandler(lb, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{t, f.eng, srv, ts}, lb
}

// fullStore is a fixture whose state store is a 2 MiB map: it fills up
// after about a thousand events, and the engine then takes no writes.
func fullStore(t *testing.T) (*fixture, *logBuffer) {
	cfg := testConfig(t, "")
	cfg.BodyLimit = 1 << 20
	path := filepath.Join(t.TempDir(), "engine.yml")
	os.WriteFile(path, []byte("settings:\n  store.map_size: 2M\n"), 0o644)
	return logged(t, newFixtureEngine(t, cfg, tnt.Config{ConfigPath: path}))
}

func commissions(prefix string, n int) []string {
	evs := make([]string, n)
	for i := range evs {
		evs[i] = simple(unitID(fmt.Sprint(prefix, i)), "commission", factory, t0)
	}
	return evs
}

// A report the engine stores in part before the store fails is 503 with
// the events it did not store; the failure is logged at error level;
// /readyz says the engine takes no writes while /healthz stays 200.
func TestStoreFailure(t *testing.T) {
	f, lb := fullStore(t)
	const n = 1200
	r := f.report(brandKey, commissions("F", n)...)
	if r.status != 503 {
		t.Fatalf("report into a full store: %d %s", r.status, r.body[:min(len(r.body), 400)])
	}
	p := r.problem(t)
	if p.Code != "TNT_E_IO" || len(p.Errors) == 0 || len(p.Errors) >= n {
		t.Fatalf("problem: %s %s, %d errors", p.Code, p.Detail, len(p.Errors))
	}
	stored := n - len(p.Errors)
	if !strings.Contains(p.Detail, fmt.Sprintf("%d of %d events were stored", stored, n)) {
		t.Fatalf("detail: %s", p.Detail)
	}
	for i, e := range p.Errors {
		if e.Index != stored+i || e.Code != "NOT_STORED" {
			t.Fatalf("errors[%d]: %+v", i, e)
		}
	}
	if _, err := f.eng.Track(context.Background(), unitID("F0")); err != nil {
		t.Fatalf("the first event is not stored: %v", err)
	}

	lines := lb.lines("ERROR", "request failed")
	if len(lines) != 1 || lines[0]["code"] != "TNT_E_IO" || lines[0]["route"] != "POST /api/v1/report" ||
		lines[0]["status"] != float64(503) || lines[0]["partner"] != "brand" ||
		!strings.Contains(lines[0]["error"].(string), "is full") {
		t.Fatalf("error log: %v", lines)
	}

	for i := 0; i < 2; i++ { // the probe does not clear it
		r = f.do("GET", "/readyz", "", "", nil)
		if r.status != 503 || r.problem(t).Code != "TNT_E_IO" || !strings.Contains(r.problem(t).Detail, "takes no writes") {
			t.Fatalf("readyz with writes stopped: %d %s", r.status, r.body)
		}
	}
	if r := f.do("GET", "/healthz", "", "", nil); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
	// A write the engine refuses before storing anything: 503, no errors.
	r = f.report(brandKey, commissions("G", 1)...)
	if p := r.problem(t); r.status != 503 || p.Code != "TNT_E_IO" || len(p.Errors) != 0 {
		t.Fatalf("report into a stopped engine: %d %s", r.status, r.body)
	}
	if n := len(lb.lines("ERROR", "request failed")); n != 2 {
		t.Fatalf("%d error lines, want 2 (readyz logs none)", n)
	}
	// Client errors stay out of the error log.
	if r := f.report(brandKey, `{"product_id":"nonsense"`); r.status != 400 {
		t.Fatalf("malformed: %d", r.status)
	}
	if n := len(lb.lines("ERROR", "request failed")); n != 2 {
		t.Fatalf("a 400 was logged as a failure")
	}
}

// A remembered failure is cleared by the next write that succeeds, or by
// the readiness probe once the engine takes writes.
func TestWriteFailureClears(t *testing.T) {
	f, lb := logged(t, newFixture(t, nil))
	fail := func() {
		err := error(&tnt.Error{Code: tnt.CodeIO, Name: "TNT_E_IO", Message: "disk full"})
		f.srv.writeErr.Store(&err)
	}
	fail()
	if r := f.do("GET", "/readyz", "", "", nil); r.status != 200 || f.srv.writeErr.Load() != nil {
		t.Fatalf("readyz after a failure the engine got over: %d %s", r.status, r.body)
	}
	fail()
	f.journey("C1")
	if f.srv.writeErr.Load() != nil {
		t.Fatal("a successful write did not clear the failure")
	}
	if n := len(lb.lines("INFO", "the engine takes writes again")); n != 2 {
		t.Fatalf("%d lines say writes resumed, want 2", n)
	}
	// A client's mistake is no failure of the engine.
	f.report(brandKey, `{"product_id":"nonsense"`)
	if f.srv.writeErr.Load() != nil {
		t.Fatal("a 400 was remembered")
	}
}
