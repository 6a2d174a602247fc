package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

// The world of these tests: a brand (company prefix 9506000, its factory
// 9506000000015), a distribution centre and a shop of other companies.
var (
	factory = withCheck("950600000001")
	dc      = withCheck("401234500001")
	shop    = withCheck("409876500001")
	other   = withCheck("501234500001")
)

func withCheck(s string) string { return s + fmt.Sprint(tnt.CheckDigit(s)) }

func unitID(serial string) string { return "(01)09506000134352(21)" + serial }

const (
	brandKey = "brand-key-0123456789"
	dcKey    = "dc-key-0123456789abc"
	shopKey  = "shop-token-0123456789"
	opKey    = "operator-key-0123456789"
)

type fixture struct {
	t   testing.TB
	eng *tnt.Engine
	srv *Server
	ts  *httptest.Server
}

func testConfig(t testing.TB, extra string) *Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yml")
	yml := fmt.Sprintf(`
server:
  access_log: false
  body_limit: 64K
  rate_limit:
    partner: {per_second: 100000, burst: 100000}
  partners:
    - {id: brand, name: Dairy Co, api_keys: [%q], company_prefixes: ["9506000"]}
    - {id: dc, name: DC North, api_keys: ["sha256:%x"], locations: [%q]}
    - {id: shop, name: Shop Mitte, tokens: [%q], locations: [%q]}
    - {id: operator, api_keys: [%q], all: true}
%s`, brandKey, sha256sum(dcKey), dc, shopKey, shop, opKey, extra)
	os.WriteFile(path, []byte(yml), 0o644)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// restart starts a second server with cfg on the fixture's engine (a
// restart of the process on the same store), logging to log; it returns a
// GET of that server with a partner's key: the status and the body.
func (f *fixture) restart(t *testing.T, cfg *Config, log io.Writer) func(path, key string) (int, []byte) {
	t.Helper()
	srv, err := New(cfg, f.eng, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return func(path, key string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("X-API-Key", key)
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
}

func newFixture(t testing.TB, cfg *Config) *fixture {
	t.Helper()
	return newFixtureEngine(t, cfg, tnt.Config{})
}

// newFixtureEngine is newFixture with an engine configured as ec (its data
// directory is the test's).
func newFixtureEngine(t testing.TB, cfg *Config, ec tnt.Config) *fixture {
	t.Helper()
	if cfg == nil {
		cfg = testConfig(t, "")
	}
	ec.DataDir = filepath.Join(t.TempDir(), "data")
	eng, err := tnt.Open(ec)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, eng, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); eng.Close() })
	return &fixture{t, eng, srv, ts}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) problem(t *testing.T) Problem {
	t.Helper()
	var p Problem
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, body %s", ct, r.body)
	}
	if err := json.Unmarshal(r.body, &p); err != nil || p.Status != r.status || p.Type == "" || p.Title == "" {
		t.Fatalf("not a problem document (%v): %s", err, r.body)
	}
	return p
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
}

// do sends a request; key is an API key ("" for none, "bearer:<token>" for a token).
func (f *fixture) do(method, path, key, ctype string, body []byte, hdr ...string) resp {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.ts.URL+path, bytes.NewReader(body))
	if body == nil {
		req.Body = nil
	}
	if strings.HasPrefix(key, "bearer:") {
		req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(key, "bearer:"))
	} else if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func simple(id, step, loc string, at time.Time) string {
	return fmt.Sprintf(`{"product_id":%q,"event_type":%q,"location":%q,"timestamp":%q}`, id, step, loc, at.UTC().Format(time.RFC3339))
}

func (f *fixture) report(key string, reports ...string) resp {
	return f.do("POST", "/api/v1/report", key, "application/json", []byte("["+strings.Join(reports, ",")+"]"))
}

var t0 = time.Now().Add(-48 * time.Hour).Truncate(time.Second)

// journey: made at the factory, received at the DC.
func (f *fixture) journey(serial string) {
	f.t.Helper()
	if r := f.report(brandKey, simple(unitID(serial), "commission", factory, t0), simple(unitID(serial), "ship", factory, t0.Add(time.Hour))); r.status != 200 {
		f.t.Fatalf("brand report: %d %s", r.status, r.body)
	}
	if r := f.report(dcKey, simple(unitID(serial), "receive", dc, t0.Add(5*time.Hour))); r.status != 200 {
		f.t.Fatalf("dc report: %d %s", r.status, r.body)
	}
}

func esc(id string) string { return url.PathEscape(id) }

func TestAuthentication(t *testing.T) {
	f := newFixture(t, nil)
	path := "/api/v1/track/" + esc(unitID("A1"))
	r := f.do("GET", path, "", "", nil)
	if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no credentials: %d %v", r.status, r.header)
	}
	r.problem(t)
	for _, key := range []string{"wrong-key-0123456789", "bearer:wrong", dcKey + "x"} {
		if r := f.do("GET", path, key, "", nil); r.status != 401 || !strings.Contains(r.problem(t).Detail, "not valid") {
			t.Fatalf("bad credential %q: %d %s", key, r.status, r.body)
		}
	}
	req, _ := http.NewRequest("GET", f.ts.URL+path, nil)
	req.Header.Set("Authorization", "Basic "+shopKey)
	res, _ := http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("basic scheme: %d", res.StatusCode)
	}
	// Every partner's credential works (the DC's is configured hashed, the shop's is a bearer token).
	for _, key := range []string{brandKey, dcKey, "bearer:" + shopKey, opKey} {
		if r := f.do("GET", path, key, "", nil); r.status != 404 {
			t.Fatalf("credential %q: %d %s", key, r.status, r.body)
		}
	}
}

func TestReportTrackAuthorisation(t *testing.T) {
	f := newFixture(t, nil)
	f.journey("A1")
	id := esc(unitID("A1"))

	var tr map[string]any
	r := f.do("GET", "/api/v1/track/"+id, brandKey, "", nil)
	if r.status != 200 {
		t.Fatalf("brand track: %d %s", r.status, r.body)
	}
	r.json(t, &tr)
	if tr["biz_step"] != "receiving" || tr["event_count"].(float64) != 3 {
		t.Fatalf("track %s", r.body)
	}
	// The DC handled it; the shop has not yet, and must not learn that it exists.
	if r := f.do("GET", "/api/v1/track/"+id, dcKey, "", nil); r.status != 200 {
		t.Fatalf("dc track: %d %s", r.status, r.body)
	}
	unknown := f.do("GET", "/api/v1/track/"+esc(unitID("NOPE")), "bearer:"+shopKey, "", nil)
	hidden := f.do("GET", "/api/v1/track/"+id, "bearer:"+shopKey, "", nil)
	if hidden.status != 404 || unknown.status != 404 || hidden.problem(t).Title != unknown.problem(t).Title {
		t.Fatalf("shop before handling: %d %s / %d %s", hidden.status, hidden.body, unknown.status, unknown.body)
	}
	if r := f.do("GET", "/api/v1/track/"+id+"/history", "bearer:"+shopKey, "", nil); r.status != 404 {
		t.Fatalf("shop history before handling: %d", r.status)
	}

	// A partner reporting for someone else's location: 403, per event, nothing stored.
	r = f.report("bearer:"+shopKey, simple(unitID("A1"), "receive", shop, t0.Add(8*time.Hour)), simple(unitID("A1"), "stock", dc, t0.Add(9*time.Hour)))
	p := r.problem(t)
	if r.status != 403 || len(p.Errors) != 1 || p.Errors[0].Index != 1 || !strings.Contains(p.Errors[0].Message, dc) {
		t.Fatalf("someone else's location: %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/api/v1/track/"+id, brandKey, "", nil); !bytes.Contains(r.body, []byte(`"event_count":3`)) {
		t.Fatalf("something was stored: %s", r.body)
	}
	// In transit (a geo: point) is allowed only for products one has handled.
	transit := fmt.Sprintf(`{"product_id":%q,"event_type":"transport","location":"52.1,13.2","timestamp":%q}`, unitID("A1"), t0.Add(6*time.Hour).Format(time.RFC3339))
	if r := f.report("bearer:"+shopKey, transit); r.status != 403 {
		t.Fatalf("shop in transit: %d %s", r.status, r.body)
	}
	if r := f.report(dcKey, transit); r.status != 200 {
		t.Fatalf("dc in transit: %d %s", r.status, r.body)
	}
	// The shop receives it, and now sees it with its whole journey.
	if r := f.report("bearer:"+shopKey, simple(unitID("A1"), "receive", shop, t0.Add(8*time.Hour))); r.status != 200 {
		t.Fatalf("shop receive: %d %s", r.status, r.body)
	}
	var page struct {
		ID     string
		Events []map[string]any
		Next   *string
	}
	r = f.do("GET", "/api/v1/track/"+id+"/history", "bearer:"+shopKey, "", nil)
	r.json(t, &page)
	if r.status != 200 || len(page.Events) != 5 || page.Next != nil || page.Events[0]["bizStep"] != "commissioning" {
		t.Fatalf("shop history: %d %s", r.status, r.body)
	}
	// Another DC that never handled it does not see it; the operator sees everything.
	if r := f.do("GET", "/api/v1/track/"+id, opKey, "", nil); r.status != 200 {
		t.Fatalf("operator: %d", r.status)
	}
}

func TestHistoryPages(t *testing.T) {
	f := newFixture(t, nil)
	f.journey("P1")
	base := "/api/v1/track/" + esc(unitID("P1")) + "/history"
	var steps []string
	next := base + "?limit=1"
	for i := 0; next != "" && i < 10; i++ {
		r := f.do("GET", next, brandKey, "", nil)
		var page struct {
			Events []map[string]any
			Next   *string
		}
		r.json(t, &page)
		if r.status != 200 || len(page.Events) != 1 {
			t.Fatalf("page %d: %d %s", i, r.status, r.body)
		}
		steps = append(steps, page.Events[0]["bizStep"].(string))
		next = ""
		if link := r.header.Get("Link"); link != "" {
			next = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		}
	}
	if strings.Join(steps, ",") != "commissioning,shipping,receiving" {
		t.Fatalf("steps %v", steps)
	}
	for _, q := range []string{"?limit=0", "?limit=x", "?limit=5000", "?page=garbage"} {
		if r := f.do("GET", base+q, brandKey, "", nil); r.status != 400 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		} else {
			r.problem(t)
		}
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, nil)
	good := []byte("[" + simple(unitID("B1"), "commission", factory, t0) + "]")
	cases := []struct {
		name, ctype string
		body        []byte
		status      int
		kind        string
	}{
		{"malformed JSON", "application/json", []byte(`[{"product_id": "x",`), 400, "malformed"},
		{"not JSON", "application/json", []byte(`hello`), 400, "malformed"},
		{"no content type", "", good, 415, "unsupported-media"},
		{"wrong content type", "text/plain", good, 415, "unsupported-media"},
		{"form", "application/x-www-form-urlencoded", []byte("a=b"), 415, "unsupported-media"},
		{"JSON sent as protobuf", "application/x-protobuf", good, 400, "malformed"},
		{"garbage protobuf", "application/x-protobuf", []byte{0xff, 0xff, 0xff, 0x01}, 400, "malformed"},
		{"empty", "application/json", nil, 400, "bad-request"},
		{"oversized", "application/json", bytes.Repeat([]byte(" "), 65*1024), 413, "too-large"},
		{"not a report", "application/json", []byte(`{"hello":"world"}`), 400, ""},
		{"unknown member", "application/json", []byte(`{"product_id":"(01)09506000134352(21)Z","event_type":"ship","timestamp":"2024-01-01T00:00:00Z","colour":"red"}`), 400, "invalid-events"},
	}
	for _, c := range cases {
		r := f.do("POST", "/api/v1/report", brandKey, c.ctype, c.body)
		if r.status != c.status {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
			continue
		}
		p := r.problem(t)
		if c.kind != "" && p.Type != problemBase+c.kind {
			t.Errorf("%s: type %s", c.name, p.Type)
		}
	}
	// Invalid events: 400 with each event's errors, and nothing stored …
	mixed := []byte("[" + simple(unitID("B2"), "commission", factory, t0) + "," + simple(unitID("B2"), "ship", factory, time.Now().Add(72*time.Hour)) + "]")
	r := f.do("POST", "/api/v1/report", brandKey, "application/json", mixed)
	p := r.problem(t)
	if r.status != 400 || len(p.Errors) == 0 || p.Errors[0].Index != 1 || p.Errors[0].Path == "" {
		t.Fatalf("invalid event: %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/api/v1/track/"+esc(unitID("B2")), brandKey, "", nil); r.status != 404 {
		t.Fatalf("rolled back event was stored: %d", r.status)
	}
	// … unless the client asks to proceed (the invalid event, in the future,
	// is at the brand's factory: one that names nothing readable of the
	// partner's would be refused).
	r = f.do("POST", "/api/v1/report", brandKey, "application/json", mixed, "GS1-Capture-Error-Behaviour", "proceed")
	var rep tnt.IngestReport
	r.json(t, &rep)
	if r.status != 200 || rep.Accepted != 1 || rep.Rejected != 1 || rep.Results[1].Errors[0].Code == "" {
		t.Fatalf("proceed: %d %s", r.status, r.body)
	}
	if r := f.do("POST", "/api/v1/report", brandKey, "application/json", good, "GS1-Capture-Error-Behaviour", "maybe"); r.status != 400 {
		t.Fatalf("bad behaviour header: %d", r.status)
	}
	// Identifiers that try to walk the file system are identifiers that are not valid.
	for _, id := range []string{"..%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "..", "%00", "a%2F..%2F..%2Fb"} {
		r := f.do("GET", "/api/v1/track/"+id, brandKey, "", nil)
		if r.status != 400 && r.status != 404 {
			t.Errorf("id %s: %d %s", id, r.status, r.body)
		} else if r.status == 400 && r.problem(t).Type != problemBase+"invalid-id" {
			t.Errorf("id %s: %s", id, r.body)
		}
		if bytes.Contains(r.body, []byte("root:")) {
			t.Fatalf("id %s leaked a file", id)
		}
	}
	raw, _ := net.Dial("tcp", f.ts.Listener.Addr().String())
	fmt.Fprintf(raw, "GET /api/v1/track/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nConnection: close\r\n\r\n", brandKey)
	out, _ := io.ReadAll(raw)
	raw.Close()
	if bytes.Contains(out, []byte("root:")) || bytes.HasPrefix(out, []byte("HTTP/1.1 200")) {
		t.Fatalf("raw traversal: %s", out)
	}
	// The server is still up, and what was stored is intact.
	if r := f.do("POST", "/api/v1/report", brandKey, "application/json", good); r.status != 200 {
		t.Fatalf("after the bad input: %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/api/v1/track/"+esc(unitID("B2")), brandKey, "", nil); r.status != 200 {
		t.Fatalf("stored event lost: %d", r.status)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, testConfig(t, "  timeouts: {read: 5s}\n"))
	// 10,000 requests from one client as fast as it can: the first burst
	// passes, the rest get 429 with Retry-After, and the server stays up.
	var ok, limited, other atomic.Int64
	var retry atomic.Value
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	start := time.Now()
	work := make(chan int)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				res, err := client.Get(f.ts.URL + "/nothing-here")
				if err != nil {
					other.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				switch res.StatusCode {
				case 404:
					ok.Add(1)
				case 429:
					limited.Add(1)
					retry.Store(res.Header.Get("Retry-After"))
				default:
					other.Add(1)
				}
			}
		}()
	}

	for i := 0; i < 10000; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	t.Logf("10000 requests for unknown paths in %v: %d answered, %d limited", time.Since(start), ok.Load(), limited.Load())
	if limited.Load() < 9000 || other.Load() != 0 {
		t.Fatalf("unknown paths: limited %d, other %d", limited.Load(), other.Load())
	}
	time.Sleep(2 * time.Second) // the bucket fills up again
	ok.Store(0)
	limited.Store(0)
	work = make(chan int)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				res, err := client.Get(f.ts.URL + "/api/v1/authenticate/" + esc(unitID("R1")))
				if err != nil {
					other.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == 429 {
					limited.Add(1)
					retry.Store(res.Header.Get("Retry-After"))
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	start = time.Now()
	for i := 0; i < 10000; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	t.Logf("10000 public requests in %v: %d answered, %d limited (Retry-After %v)", time.Since(start), ok.Load(), limited.Load(), retry.Load())
	if limited.Load() < 9000 || other.Load() != 0 || retry.Load() == nil || retry.Load().(string) < "1" {
		t.Fatalf("limited %d, other %d, retry %v", limited.Load(), other.Load(), retry.Load())
	}
	// Still limited: of 40 more at once, at most the few the bucket refilled
	// since (20 a second) pass, however slow the machine was just now.
	var after sync.WaitGroup
	answers := make([]*http.Response, 40)
	for i := range answers {
		after.Add(1)
		go func() {
			defer after.Done()
			if res, err := client.Get(f.ts.URL + "/api/v1/authenticate/" + esc(unitID("R1"))); err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				answers[i] = res
			}
		}()
	}
	after.Wait()
	stillLimited := 0
	for _, res := range answers {
		if res != nil && res.StatusCode == 429 && res.Header.Get("Content-Type") == "application/problem+json" {
			stillLimited++
		}
	}
	if stillLimited < 20 {
		t.Fatalf("still limited: %d of 40", stillLimited)
	}
	if r := f.do("GET", "/api/v1/authenticate/"+esc(unitID("R1")), "", "", nil); r.status == 429 &&
		r.problem(t).Type != problemBase+"rate-limited" {
		t.Fatalf("a 429 of another type: %s", r.body)
	}
	if r := f.do("GET", "/healthz", "", "", nil); r.status != 200 {
		t.Fatalf("health after the flood: %d", r.status)
	}
	// A partner has its own allowance.
	if r := f.do("GET", "/api/v1/track/"+esc(unitID("R1")), brandKey, "", nil); r.status != 404 {
		t.Fatalf("partner after the flood: %d", r.status)
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(Rate{PerSecond: 10, Burst: 2})
	now := time.Unix(1000, 0)
	if ok, _ := l.allow("a", now); !ok {
		t.Fatal("first")
	}
	l.allow("a", now)
	ok, wait := l.allow("a", now)
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("third: %v %v", ok, wait)
	}
	if ok, _ := l.allow("b", now); !ok {
		t.Fatal("other client")
	}
	if ok, _ := l.allow("a", now.Add(100*time.Millisecond)); !ok {
		t.Fatal("refilled")
	}
	off := newLimiter(Rate{PerSecond: -1})
	for i := 0; i < 100; i++ {
		if ok, _ := off.allow("a", now); !ok {
			t.Fatal("off")
		}
	}
}

// Slow clients: headers or bodies that do not arrive in time close the
// connection or get 408; other clients are served meanwhile.
func TestSlowClients(t *testing.T) {
	cfg := testConfig(t, "  timeouts: {read_header: 300ms, read: 600ms, write: 2s}\n")
	f := newFixture(t, cfg)
	f.ts.Close()
	hs := f.srv.HTTPServer()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go hs.Serve(ln)
	defer hs.Close()
	addr := ln.Addr().String()

	c1, _ := net.Dial("tcp", addr)
	defer c1.Close()
	fmt.Fprint(c1, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // never finishes its headers
	start := time.Now()
	c1.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(c1)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("slow headers kept for %v", d)
	}

	c2, _ := net.Dial("tcp", addr)
	defer c2.Close()
	fmt.Fprintf(c2, "POST /api/v1/report HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[", brandKey)
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c2), nil)
	if err == nil {
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 408 || !bytes.Contains(b, []byte("did not arrive in time")) {
			t.Fatalf("slow body: %d %s", res.StatusCode, b)
		}
	} // else: the connection was closed, which is as good

	res, err = http.Get("http://" + addr + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("server after slow clients: %v", err)
	}
	res.Body.Close()
}

func TestEPCIS(t *testing.T) {
	f := newFixture(t, nil)
	ev := func(serial, step, loc string, at time.Time) string {
		return fmt.Sprintf(`{"type":"ObjectEvent","eventTime":%q,"eventTimeZoneOffset":"+00:00","epcList":[%q],"action":"OBSERVE","bizStep":%q,"readPoint":{"id":"urn:epc:id:sgln:9506000.00001.0"},"bizLocation":{"id":%q}}`,
			at.UTC().Format(time.RFC3339), "https://id.gs1.org/01/09506000134352/21/"+serial, step, "https://id.gs1.org/414/"+loc)
	}
	doc := `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z","epcisBody":{"eventList":[` +
		ev("E1", "commissioning", factory, t0) + "," + ev("E2", "commissioning", factory, t0) + `]}}`
	r := f.do("POST", "/capture", brandKey, "application/ld+json", []byte(doc))
	loc := r.header.Get("Location")
	if r.status != 202 || !strings.HasPrefix(loc, "/capture/") || r.header.Get("GS1-EPCIS-Version") != "2.0.0" || r.header.Get("GS1-EPCIS-Capture-Limit") == "" {
		t.Fatalf("capture: %d %v %s", r.status, r.header, r.body)
	}
	var job captureJob
	f.do("GET", loc, brandKey, "", nil).json(t, &job)
	if !job.Success || job.Running || job.Report.Accepted != 2 || job.CaptureErrorBehaviour != "rollback" {
		t.Fatalf("job %+v", job)
	}
	if r := f.do("GET", loc, dcKey, "", nil); r.status != 404 {
		t.Fatalf("another partner's job: %d", r.status)
	}
	var jobs []captureJob
	f.do("GET", "/capture", brandKey, "", nil).json(t, &jobs)
	if len(jobs) != 1 {
		t.Fatalf("jobs %+v", jobs)
	}
	if r := f.do("POST", "/capture", brandKey, "application/json", []byte(ev("E3", "commissioning", factory, t0))); r.status != 400 {
		t.Fatalf("capture of a single event: %d %s", r.status, r.body)
	}
	if r := f.do("POST", "/capture", dcKey, "application/json", []byte(doc)); r.status != 403 {
		t.Fatalf("capture at someone else's location: %d %s", r.status, r.body)
	}

	one := []byte(ev("E4", "commissioning", factory, t0))
	r = f.do("POST", "/events", brandKey, "application/json", one)
	evLoc := r.header.Get("Location")
	if r.status != 201 || !strings.HasPrefix(evLoc, "/events/ni:") {
		t.Fatalf("POST /events: %d %v %s", r.status, r.header, r.body)
	}
	r = f.do("POST", "/events", brandKey, "application/json", one)
	if r.status != 409 || r.header.Get("Location") != evLoc || r.problem(t).Type != problemBase+"duplicate" {
		t.Fatalf("duplicate: %d %s", r.status, r.body)
	}
	r = f.do("GET", evLoc, brandKey, "", nil)
	var single struct { // EPCIS 2.0: an EPCISQueryDocument of one event
		Type      string
		EPCISBody struct {
			QueryResults struct {
				ResultsBody struct{ EventList []map[string]any }
			}
		}
	}
	r.json(t, &single)
	if list := single.EPCISBody.QueryResults.ResultsBody.EventList; r.status != 200 || single.Type != "EPCISQueryDocument" ||
		len(list) != 1 || list[0]["bizStep"] != "commissioning" || !strings.HasPrefix(list[0]["eventID"].(string), "ni:///") {
		t.Fatalf("GET event: %d %s", r.status, r.body)
	}
	if r := f.do("GET", evLoc, "bearer:"+shopKey, "", nil); r.status != 404 {
		t.Fatalf("event of a product the shop never handled: %d", r.status)
	}
	for _, id := range []string{"nothing", esc("ni:///sha-256;" + strings.Repeat("ab", 32) + "?ver=CBV2.0")} {
		if r := f.do("GET", "/events/"+id, brandKey, "", nil); r.status != 404 {
			t.Fatalf("unknown event %s: %d", id, r.status)
		}
	}
	if r := f.do("POST", "/events", brandKey, "application/json", []byte("["+string(one)+","+ev("E5", "commissioning", factory, t0)+"]")); r.status != 400 {
		t.Fatalf("two events to POST /events: %d", r.status)
	}
	// Queries: each partner sees the events it may see.
	var qd struct {
		Type      string
		EpcisBody struct {
			QueryResults struct {
				ResultsBody struct{ EventList []map[string]any }
			}
		}
	}
	r = f.do("GET", "/events?eventType=ObjectEvent&EQ_bizStep=commissioning&perPage=2", brandKey, "", nil)
	r.json(t, &qd)
	if r.status != 200 || qd.Type != "EPCISQueryDocument" || len(qd.EpcisBody.QueryResults.ResultsBody.EventList) != 2 ||
		!strings.Contains(r.header.Get("Link"), "nextPageToken=") {
		t.Fatalf("query: %d %v %s", r.status, r.header, r.body)
	}
	next := strings.TrimSuffix(strings.TrimPrefix(r.header.Get("Link"), "<"), `>; rel="next"`)
	r = f.do("GET", next, brandKey, "", nil)
	r.json(t, &qd)
	if r.status != 200 || len(qd.EpcisBody.QueryResults.ResultsBody.EventList) != 1 {
		t.Fatalf("query page 2: %d %s", r.status, r.body)
	}
	r = f.do("GET", "/events?MATCH_epc="+url.QueryEscape("https://id.gs1.org/01/09506000134352/21/E1"), "bearer:"+shopKey, "", nil)
	r.json(t, &qd)
	if r.status != 200 || len(qd.EpcisBody.QueryResults.ResultsBody.EventList) != 0 {
		t.Fatalf("the shop sees events of products it never handled: %s", r.body)
	}
	for _, q := range []string{"?foo=1", "?eventType=Nope", "?GE_eventTime=yesterday", "?perPage=0", "?EQ_readPoint=notanid", "?nextPageToken=zzz"} {
		if r := f.do("GET", "/events"+q, brandKey, "", nil); r.status != 400 {
			t.Fatalf("query %s: %d %s", q, r.status, r.body)
		}
	}
}

func TestMasterData(t *testing.T) {
	f := newFixture(t, nil)
	world := `{"products":[{"gtin":"09506000134352","name":"Greek yoghurt 500 g","min_temp":2,"max_temp":8}],
	           "locations":[{"gln":"` + factory + `","name":"Dairy Co plant","city":"Hamburg","country":"DE","latitude":53.55,"longitude":9.99}]}`
	r := f.do("POST", "/api/v1/master", brandKey, "application/json", []byte(world))
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"loaded":2`)) {
		t.Fatalf("master upload: %d %s", r.status, r.body)
	}
	r = f.do("GET", "/api/v1/master/products/09506000134352", dcKey, "", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte("Greek yoghurt")) {
		t.Fatalf("master get: %d %s", r.status, r.body)
	}
	if r := f.do("POST", "/api/v1/master", dcKey, "application/json", []byte(world)); r.status != 403 || len(r.problem(t).Errors) != 2 {
		t.Fatalf("dc writing the brand's master data: %d %s", r.status, r.body)
	}
	csv := "gln,name,city,country,latitude,longitude\n" + dc + ",DC North,Hannover,DE,52.37,9.73\n"
	if r := f.do("POST", "/api/v1/master", dcKey, "text/csv", []byte(csv)); r.status != 200 {
		t.Fatalf("csv: %d %s", r.status, r.body)
	}
	bad := `{"products":[{"gtin":"09506000134353","name":"wrong check digit"}]}`
	if r := f.do("POST", "/api/v1/master", brandKey, "application/json", []byte(bad)); r.status != 400 || strings.Contains(r.problem(t).Detail, os.TempDir()) {
		t.Fatalf("bad record: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/api/v1/master/things/1", "/api/v1/master/products/" + withCheck("0950600000000")} {
		if r := f.do("GET", p, brandKey, "", nil); r.status != 404 {
			t.Fatalf("%s: %d", p, r.status)
		}
	}
	if r := f.do("POST", "/api/v1/master", brandKey, "application/json", []byte(`{"widgets":[]}`)); r.status != 400 {
		t.Fatalf("unknown list: %d", r.status)
	}
}

func TestOperations(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.SetReady(false)
	if r := f.do("GET", "/readyz", "", "", nil); r.status != 503 {
		t.Fatalf("readyz while not ready: %d", r.status)
	}
	f.srv.SetReady(true)
	if r := f.do("GET", "/readyz", "", "", nil); r.status != 200 {
		t.Fatalf("readyz: %d", r.status)
	}
	f.journey("M1")
	r := f.do("GET", "/metrics", "", "", nil)
	for _, want := range []string{`tnt_http_requests_total{code="200",method="POST",route="POST /api/v1/report"} 2`,
		`tnt_ingested_events_total{status="accepted"} 3`, "tnt_engine_ingest_accepted 3", "go_goroutines"} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}
	r = f.do("GET", "/openapi.json", "", "", nil)
	docs, err := os.ReadFile("../../../docs/openapi.json")
	if err != nil || !bytes.Equal(r.body, docs) {
		t.Fatalf("/openapi.json is not docs/openapi.json (run go generate ./server): %v", err)
	}
	if r := f.do("DELETE", "/healthz", "", "", nil); r.status != 405 || r.problem(t).Type != problemBase+"method" {
		t.Fatalf("405: %d %s", r.status, r.body)
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, fmt.Sprint(time.Now().UnixNano(), ".yml"))
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	t.Setenv("TNT_RATE_PUBLIC", "50/100")
	cfg, err := LoadConfig(write("database:\n  event_store: file:///x\nserver:\n  listen: ':9000'\n  body_limit: 2M\n  timeouts: {read: 1m, idle: 2d, shutdown: 15}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":9000" || cfg.PublicURL != "http://localhost:9000" || cfg.BodyLimit != 2<<20 ||
		time.Duration(cfg.Timeouts.Read) != time.Minute || time.Duration(cfg.Timeouts.Idle) != 48*time.Hour ||
		time.Duration(cfg.Timeouts.Shutdown) != 15*time.Second || cfg.RateLimit.Public != (Rate{50, 100}) {
		t.Fatalf("%+v", cfg)
	}
	cfg.SetListen("127.0.0.1:7000")
	Finish(cfg)
	if cfg.PublicURL != "http://127.0.0.1:7000" {
		t.Fatal(cfg.PublicURL)
	}
	for _, bad := range []string{
		"server:\n  lisen: x\n",
		"server:\n  body_limit: lots\n",
		"server:\n  timeouts: {read: forever}\n",
		"server:\n  partners: [{id: a, api_keys: [short]}]\n",
		"server:\n  partners: [{id: a, api_keys: [0123456789abcdefgh], locations: ['123']}]\n",
		"server:\n  partners: [{id: a}]\n",
		"server:\n  trusted_proxies: [nonsense]\n",
	} {
		if _, err := LoadConfig(write(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestEntitlements(t *testing.T) {
	p := &Partner{ID: "x", locations: map[string]bool{dc: true}, prefixes: []string{"9506000"}}
	cases := map[string][2]bool{ // id: owns location, owns object
		"https://id.gs1.org/414/" + dc:              {true, false},
		"https://id.gs1.org/414/" + dc + "/254/7":   {true, false},
		"https://id.gs1.org/414/9506000000015":      {true, true},
		"https://id.gs1.org/414/" + other:           {false, false},
		"https://id.gs1.org/01/09506000134352/21/A": {false, true},
		"https://id.gs1.org/01/19506000134359":      {false, true},
		"https://id.gs1.org/01/04012345000009":      {false, false},
		"https://id.gs1.org/00/395060001234567891":  {false, true},
		"geo:52.1,13.2":                         {false, false},
		"https://example.com/414/9506000000015": {false, false},
	}
	for id, want := range cases {
		if got := [2]bool{p.OwnsLocation(id), p.OwnsObject(id)}; got != want {
			t.Errorf("%s: %v, want %v", id, got, want)
		}
	}
	if !mayPut(p, tnt.MasterProduct, "9506000134352") || mayPut(p, tnt.MasterProduct, "4012345000009") ||
		!mayPut(p, tnt.MasterLocation, dc) || !mayPut(p, tnt.MasterParty, "9506000") || mayPut(p, tnt.MasterParty, "950") {
		t.Fatal("mayPut")
	}
	_ = context.Background
}

func sha256sum(s string) []byte {
	d := sha256Sum([]byte(s))
	return d[:]
}

func TestDigitalLinkResolver(t *testing.T) {
	f := newFixture(t, nil)
	f.journey("L1")
	dl := "/01/09506000134352/21/L1"
	code := f.srv.cfg.PublicURL + dl

	// linkType=all, or asking for a linkset: the links of the code, no verification
	for _, r := range []resp{
		f.do("GET", dl+"?linkType=all", "", "", nil),
		f.do("GET", dl, "", "", nil, "Accept", "application/linkset+json"),
	} {
		if r.status != 200 || r.header.Get("Content-Type") != "application/linkset+json" {
			t.Fatalf("linkset: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		var ls struct {
			Linkset []map[string]json.RawMessage `json:"linkset"`
		}
		r.json(t, &ls)
		if len(ls.Linkset) != 1 {
			t.Fatalf("linkset: %s", r.body)
		}
		var anchor string
		json.Unmarshal(ls.Linkset[0]["anchor"], &anchor)
		if anchor != code {
			t.Fatalf("anchor %q, want %q", anchor, code)
		}
		var vs []link
		json.Unmarshal(ls.Linkset[0]["https://gs1.org/voc/verificationService"], &vs)
		if len(vs) != 1 || vs[0].Href != f.srv.cfg.PublicURL+"/api/v1/authenticate/"+url.PathEscape(code) || vs[0].Type != "application/json" {
			t.Fatalf("verificationService: %s", r.body)
		}
		for _, k := range []string{"defaultLink", "traceability", "epcis"} {
			if _, ok := ls.Linkset[0]["https://gs1.org/voc/"+k]; !ok {
				t.Fatalf("no %s in %s", k, r.body)
			}
		}
	}

	// one link type: a redirect to it (the code's attributes kept, linkType dropped)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(f.ts.URL + dl + "?17=270630&linkType=gs1:verificationService")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	want := f.srv.cfg.PublicURL + "/api/v1/authenticate/" + url.PathEscape(code+"?17=270630")
	if res.StatusCode != http.StatusTemporaryRedirect || res.Header.Get("Location") != want {
		t.Fatalf("redirect: %d %q, want %q", res.StatusCode, res.Header.Get("Location"), want)
	}

	// none of that was a verification: the first one has seen no scan before it
	var v struct {
		Verdict string `json:"verdict"`
		Scans   struct {
			Before int `json:"before"`
		} `json:"scans"`
	}
	r := f.do("GET", dl+"?linkType=gs1:pip", "", "", nil) // a type this server has not: the default, a verification
	r.json(t, &v)
	if r.status != 200 || v.Verdict == "" || v.Scans.Before != 0 {
		t.Fatalf("default link: %d %s", r.status, r.body)
	}
	if l := r.header.Get("Link"); !strings.Contains(l, `rel="linkset"`) || !strings.Contains(l, "linkType=all") {
		t.Fatalf("Link header %q", l)
	}

	// an invalid code: a problem, not a linkset
	if r := f.do("GET", "/01/123/21/X?linkType=all", "", "", nil); r.status != 400 {
		t.Fatalf("invalid code: %d %s", r.status, r.body)
	}
}

// Capture jobs outlive the server: a new one on the same directory answers
// GET /capture/{id} as the old one did, for the same partner only, and keeps
// at most capture_jobs of them.
func TestCaptureJobsPersist(t *testing.T) {
	cfg := testConfig(t, "  capture_jobs: 2\n")
	cfg.JobsDir = filepath.Join(t.TempDir(), "jobs")
	f := newFixture(t, cfg)
	doc := func(serial string) []byte {
		return []byte(`{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z","epcisBody":{"eventList":[` +
			fmt.Sprintf(`{"type":"ObjectEvent","eventTime":%q,"eventTimeZoneOffset":"+00:00","epcList":["https://id.gs1.org/01/09506000134352/21/%s"],"action":"ADD","bizStep":"commissioning","bizLocation":{"id":"https://id.gs1.org/414/%s"}}`,
				t0.UTC().Format(time.RFC3339), serial, factory) + `]}}`)
	}
	var locs []string
	var first []byte
	for _, serial := range []string{"J1", "J2", "J3"} {
		r := f.do("POST", "/capture", brandKey, "application/ld+json", doc(serial))
		if r.status != 202 {
			t.Fatalf("capture: %d %s", r.status, r.body)
		}
		locs = append(locs, r.header.Get("Location"))
		if serial == "J2" {
			first = f.do("GET", r.header.Get("Location"), brandKey, "", nil).body
		}
	}
	files, _ := filepath.Glob(filepath.Join(cfg.JobsDir, "*.json"))
	if len(files) != 2 {
		t.Fatalf("%d job files, want 2 (capture_jobs)", len(files))
	}

	// a new server on the same directory (the engine is the same store)
	get := f.restart(t, cfg, io.Discard)
	if st, b := get(locs[1], brandKey); st != 200 || !bytes.Equal(b, first) {
		t.Fatalf("job after restart: %d %s, want %s", st, b, first)
	}
	if st, _ := get(locs[0], brandKey); st != 404 {
		t.Fatalf("the oldest job was forgotten: %d", st)
	}
	if st, _ := get(locs[2], dcKey); st != 404 {
		t.Fatalf("another partner's job: %d", st)
	}
	var jobs []captureJob
	if st, b := get("/capture", brandKey); st != 200 || json.Unmarshal(b, &jobs) != nil || len(jobs) != 2 ||
		"/capture/"+jobs[0].CaptureID != locs[2] || jobs[0].Report == nil || jobs[0].Report.Accepted != 1 {
		t.Fatalf("jobs after restart: %d %s", st, b)
	}

	// an unreadable file is skipped, not fatal
	os.WriteFile(filepath.Join(cfg.JobsDir, "garbage.json"), []byte("{"), 0o640)
	if _, err := New(cfg, f.eng, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
}

// More events than capture_max: 413 as soon as the reader passes the limit,
// and nothing stored.
func TestCaptureMax(t *testing.T) {
	f := newFixture(t, testConfig(t, "  capture_max: 3\n"))
	var parts []string
	for i := 0; i < 5; i++ {
		parts = append(parts, simple(unitID(fmt.Sprintf("M%d", i)), "commission", factory, t0))
	}
	r := f.do("POST", "/api/v1/report", brandKey, "application/json", []byte("["+strings.Join(parts, ",")+"]"))
	if p := r.problem(t); r.status != 413 || p.Type != problemBase+"too-large" || !strings.Contains(p.Detail, "at most 3") {
		t.Fatalf("5 events over capture_max 3: %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/api/v1/track/"+esc(unitID("M0")), brandKey, "", nil); r.status != 404 {
		t.Fatalf("an event of a refused request was stored: %d", r.status)
	}
	r = f.do("POST", "/api/v1/report", brandKey, "application/json", []byte("["+strings.Join(parts[:3], ",")+"]"))
	if r.status != 200 {
		t.Fatalf("3 events: %d %s", r.status, r.body)
	}
}

// With GS1-Capture-Error-Behaviour: proceed the engine validates the
// events again when it stores them, under its own settings and clock, and
// may then accept one the server found invalid: every event is checked for
// the partner's entitlement, valid or not.
func TestProceedChecksInvalidEvents(t *testing.T) {
	f := newFixtureEngine(t, nil, tnt.Config{FutureSkew: 48 * time.Hour}) // later than the server's reader allows
	f.journey("I1")
	soon := time.Now().Add(3 * time.Hour)
	own := simple(unitID("I1"), "receive", shop, t0.Add(8*time.Hour))
	theirs := simple(unitID("I1"), "destroy", dc, soon) // invalid to the server (in the future), valid to the engine
	r := f.do("POST", "/api/v1/report", "bearer:"+shopKey, "application/json", []byte("["+own+","+theirs+"]"),
		"GS1-Capture-Error-Behaviour", "proceed")
	if p := r.problem(t); r.status != 403 || len(p.Errors) == 0 || p.Errors[0].Index != 1 || p.Errors[0].Code != "FORBIDDEN" {
		t.Fatalf("an invalid event at someone else's location: %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/api/v1/track/"+esc(unitID("I1")), opKey, "", nil); !bytes.Contains(r.body, []byte(`"event_count":3`)) {
		t.Fatalf("something was stored: %s", r.body)
	}
	// An invalid event whose location cannot be read is not provably the
	// partner's, even about its own product.
	unreadable := `{"product_id":"(01)09506000134352(21)I1","event_type":"ship","location":{"x":1},"timestamp":"2024-01-01T00:00:00Z"}`
	r = f.do("POST", "/api/v1/report", brandKey, "application/json",
		[]byte("["+simple(unitID("I2"), "commission", factory, t0)+","+unreadable+"]"), "GS1-Capture-Error-Behaviour", "proceed")
	if p := r.problem(t); r.status != 403 || len(p.Errors) != 1 || !strings.Contains(p.Errors[0].Message, "location cannot be read") {
		t.Fatalf("an invalid event with an unreadable location: %d %s", r.status, r.body)
	}
	// The partner's own invalid events are reported as before.
	r = f.do("POST", "/api/v1/report", "bearer:"+shopKey, "application/json",
		[]byte("["+own+","+simple(unitID("I1"), "stock", shop, time.Now().Add(72*time.Hour))+"]"), "GS1-Capture-Error-Behaviour", "proceed")
	var rep tnt.IngestReport
	r.json(t, &rep)
	if r.status != 200 || rep.Accepted != 1 || rep.Rejected != 1 {
		t.Fatalf("the partner's own invalid event: %d %s", r.status, r.body)
	}
}

// Commissioning a unit and recalling a class speak for the brand: another
// partner may not, even at its own site.
func TestBrandOwnersActs(t *testing.T) {
	f := newFixture(t, nil)
	for _, c := range []struct{ name, body string }{
		{"a serial brought into existence", simple(unitID("B9"), "commission", shop, t0)},
		{"a lot recalled", `{"product_id":"(01)09506000134352(10)L9","event_type":"recall","location":"` + shop + `","timestamp":"2024-01-02T00:00:00Z"}`},
	} {
		r := f.do("POST", "/api/v1/report", "bearer:"+shopKey, "application/json", []byte(c.body))
		if p := r.problem(t); r.status != 403 || len(p.Errors) != 1 || !strings.Contains(p.Errors[0].Message, "brand owner") {
			t.Fatalf("%s by a shop: %d %s", c.name, r.status, r.body)
		}
	}
	if r := f.do("POST", "/api/v1/report", brandKey, "application/json", []byte(simple(unitID("B9"), "commission", factory, t0))); r.status != 200 {
		t.Fatalf("the brand commissions: %d %s", r.status, r.body)
	}
}

// An eventID names one event: another event sent with it is a conflict.
func TestEventIDTaken(t *testing.T) {
	f := newFixture(t, nil)
	withID := func(serial, step string) []byte {
		return []byte(`{"type":"ObjectEvent","eventID":"urn:uuid:11111111-2222-4333-8444-555555555555","eventTime":"` +
			t0.Format(time.RFC3339) + `","eventTimeZoneOffset":"+00:00","action":"OBSERVE","bizStep":"` + step +
			`","epcList":["https://id.gs1.org/01/09506000134352/21/` + serial + `"],"readPoint":{"id":"https://id.gs1.org/414/` + factory + `"}}`)
	}
	r := f.do("POST", "/events", brandKey, "application/json", withID("ID1", "commissioning"))
	if r.status != 201 {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	first := r.header.Get("Location")
	r = f.do("POST", "/events", brandKey, "application/json", withID("ID2", "shipping"))
	if r.status != 409 || r.header.Get("Location") != first || r.problem(t).Type != problemBase+"duplicate" {
		t.Fatalf("another event, the same eventID: %d %v %s", r.status, r.header, r.body)
	}
}

// The query parameters as the EPCIS 2.0 OpenAPI writes them: lists
// delimited by |, times in any RFC 3339 form, a server cap on perPage.
func TestQueryParameterForms(t *testing.T) {
	f := newFixture(t, nil)
	f.journey("QF")
	count := func(query string) int {
		t.Helper()
		r := f.do("GET", "/events?"+query, opKey, "", nil)
		var doc struct {
			EPCISBody struct {
				QueryResults struct {
					ResultsBody struct{ EventList []json.RawMessage }
				}
			}
		}
		if r.status != 200 {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		r.json(t, &doc)
		return len(doc.EPCISBody.QueryResults.ResultsBody.EventList)
	}
	all := count("MATCH_epc=" + url.QueryEscape(unitID("QF")))
	if all != 3 {
		t.Fatalf("the journey: %d events", all)
	}
	if n := count("MATCH_epc=" + url.QueryEscape(unitID("QF")) + "&EQ_bizStep=" + url.QueryEscape("commissioning|receiving")); n != 2 {
		t.Fatalf("two bizSteps delimited by |: %d", n)
	}
	if n := count("LT_eventTime=1970-01-01T00:00:00Z"); n != 0 {
		t.Fatalf("before 1970: %d", n)
	}
	if n := count("MATCH_epc=" + url.QueryEscape(unitID("QF")) + "&GE_eventTime=" + url.QueryEscape(strings.ToLower(t0.Format(time.RFC3339)))); n != all {
		t.Fatalf("a lower-case t and z: %d", n)
	}
	if n := count("MATCH_epc=" + url.QueryEscape(unitID("QF")) + "&perPage=5000"); n != all {
		t.Fatalf("perPage over the cap: %d", n)
	}
	if n := count("EQ_readPoint=" + url.QueryEscape("geo:52.52,13.405")); n != 0 { // one value, its comma its own
		t.Fatalf("a geo: read point: %d", n)
	}
	if r := f.do("GET", "/events", opKey, "", nil, "Accept", "application/xml"); r.status != 406 {
		t.Fatalf("Accept: application/xml: %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/events", opKey, "", nil, "Accept", "application/xml, application/json;q=0.5"); r.status != 200 {
		t.Fatalf("JSON among the acceptable: %d %s", r.status, r.body)
	}
	r := f.do("GET", "/events?MATCH_epc="+url.QueryEscape("urn:epc:idpat:sgtin:9506000.013435.*"), opKey, "", nil)
	if r.status != 400 || !strings.Contains(string(r.body), "pattern") {
		t.Fatalf("an EPC pattern: %d %s", r.status, r.body)
	}
}

// A partner gets the partner answer (sites, event hashes) only for a
// product it may see, as track decides; otherwise the consumer's.
func TestAuthenticatePartnerAnswer(t *testing.T) {
	f := newFixture(t, nil)
	f.journey("V1")
	path := "/api/v1/authenticate/" + esc(unitID("V1"))
	partnerAnswer := func(b []byte) bool { return bytes.Contains(b, []byte("ni:///")) && bytes.Contains(b, []byte(factory)) }
	for _, q := range []string{"?dry_run=true", "", "?intent=status"} {
		r := f.do("GET", path+q, "bearer:"+shopKey, "", nil)
		if r.status != 200 || partnerAnswer(r.body) || !bytes.Contains(r.body, []byte(`"verdict"`)) {
			t.Fatalf("the shop, which has not handled it (%s): %d %s", q, r.status, r.body)
		}
		if r := f.do("GET", "/api/v1/track/"+esc(unitID("V1")), "bearer:"+shopKey, "", nil); r.status != 404 {
			t.Fatalf("the shop's track: %d", r.status)
		}
	}
	for _, key := range []string{dcKey, brandKey, opKey} {
		if r := f.do("GET", path+"?dry_run=true", key, "", nil); r.status != 200 || !partnerAnswer(r.body) {
			t.Fatalf("%s, which may see it: %d %s", key, r.status, r.body)
		}
	}
	// The scan was recorded as a partner's all the same: the next one sees it.
	var v struct {
		Scans struct{ Before int } `json:"scans"`
	}
	f.do("GET", path, "", "", nil).json(t, &v)
	if v.Scans.Before != 2 {
		t.Fatalf("scans before: %d, want the shop's two", v.Scans.Before)
	}
}

// location= on authenticate names the partner's site: a 13-digit GLN (as
// the docs say), an element string, an SGLN or a Digital Link.
func TestAuthenticateLocation(t *testing.T) {
	f := newFixture(t, nil)
	f.journey("G1")
	path := "/api/v1/authenticate/" + esc(unitID("G1")) + "?dry_run=true&location="
	for _, loc := range []string{dc, "(414)" + dc, "urn:epc:id:sgln:4012345.00001.0", "https://id.gs1.org/414/" + dc} {
		if r := f.do("GET", path+url.QueryEscape(loc), dcKey, "", nil); r.status != 200 {
			t.Errorf("location %s: %d %s", loc, r.status, r.body)
		}
	}
	for loc, want := range map[string]int{shop: 403, "4012345000017": 400, "notagln": 400} {
		if r := f.do("GET", path+url.QueryEscape(loc), dcKey, "", nil); r.status != want {
			t.Errorf("location %s: %d %s, want %d", loc, r.status, r.body, want)
		} else {
			r.problem(t)
		}
	}
}

// POST /events answers for the event the engine stored: one it rejected
// (under its own limits) is 413 when too big, else 400, with its errors.
func TestCaptureEventRejected(t *testing.T) {
	f := newFixtureEngine(t, nil, tnt.Config{MaxEventBytes: 4000, FutureSkew: time.Millisecond})
	event := func(serial string, at time.Time, epcs int) []byte {
		list := make([]string, epcs)
		for i := range list {
			list[i] = fmt.Sprintf("%q", fmt.Sprintf("https://id.gs1.org/01/09506000134352/21/%s-%d", serial, i))
		}
		return []byte(fmt.Sprintf(`{"type":"ObjectEvent","eventTime":%q,"eventTimeZoneOffset":"+00:00","epcList":[%s],"action":"OBSERVE","bizStep":"inspecting","readPoint":{"id":"https://id.gs1.org/414/%s"}}`,
			at.UTC().Format(time.RFC3339), strings.Join(list, ","), factory))
	}
	cases := []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"too big for the engine", event("T1", t0, 100), 413, "TOO_BIG"},
		{"in the future for the engine", event("T2", time.Now().Add(time.Minute), 1), 400, "FUTURE"},
	}
	for _, c := range cases {
		r := f.do("POST", "/events", brandKey, "application/json", c.body)
		if r.status != c.status || r.header.Get("Location") != "" {
			t.Fatalf("%s: %d %v %s", c.name, r.status, r.header, r.body)
		}
		if p := r.problem(t); len(p.Errors) == 0 || p.Errors[0].Code != c.code {
			t.Fatalf("%s: %s", c.name, r.body)
		}
	}
	if r := f.do("POST", "/events", brandKey, "application/json", event("T3", t0, 1)); r.status != 201 {
		t.Fatalf("a small event: %d %s", r.status, r.body)
	}
	// A body nested too deep is not "more than one event".
	deep := []byte(`{"type":"ObjectEvent","x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "}")
	if r := f.do("POST", "/events", brandKey, "application/json", deep); r.status == 201 || strings.Contains(r.problem(t).Detail, "takes one event") {
		t.Fatalf("a deep body: %d %s", r.status, r.body)
	}
}

// Methods are a metrics label: any but the standard ones count as OTHER,
// so made-up methods cannot grow the number of series.
func TestMetricsMethods(t *testing.T) {
	f := newFixture(t, nil)
	for i := 0; i < 3; i++ {
		f.do(fmt.Sprintf("BREW%d", i), "/healthz", "", "", nil)
		f.do(fmt.Sprintf("BREW%d", i), "/nothing", "", "", nil)
	}
	f.do("PATCH", "/healthz", "", "", nil)
	r := f.do("GET", "/metrics", "", "", nil)
	if bytes.Contains(r.body, []byte("BREW")) || !bytes.Contains(r.body, []byte(`method="OTHER"`)) || !bytes.Contains(r.body, []byte(`method="PATCH"`)) {
		t.Fatalf("metrics:\n%s", r.body)
	}
}

// pbBatch is a tnt.v1.Batch of one event of exactly size bytes, so that its
// first bytes are 0a and the event's length (123 is "{").
func pbBatch(serial string, size int) []byte {
	varint := func(n uint64) []byte {
		var out []byte
		for ; n >= 0x80; n >>= 7 {
			out = append(out, byte(n)|0x80)
		}
		return append(out, byte(n))
	}
	ld := func(field uint64, b []byte) []byte {
		return append(append(varint(field<<3|2), varint(uint64(len(b)))...), b...)
	}
	vi := func(field, n uint64) []byte { return append(varint(field<<3), varint(n)...) }
	event := func(pad int) []byte {
		var e []byte
		for _, part := range [][]byte{vi(1, 1), vi(2, 2), ld(3, vi(1, uint64(t0.UnixMilli())<<1)), ld(4, []byte("+00:00")),
			ld(6, []byte("urn:x:"+strings.Repeat("a", pad))), ld(9, []byte("https://id.gs1.org/01/09506000134352/21/"+serial)),
			ld(22, []byte("https://id.gs1.org/414/"+factory)), vi(34, 1)} {
			e = append(e, part...)
		}
		return e
	}
	pad := 0
	for len(event(pad)) < size {
		pad++
	}
	return ld(1, event(pad))
}

// A protobuf body is JSON only when it is valid JSON: a batch whose first
// event is 123 bytes long starts with "\n{".
func TestProtobufThatLooksLikeJSON(t *testing.T) {
	f := newFixture(t, nil)
	for _, size := range []int{123, 124} {
		body := pbBatch(fmt.Sprint("PB", size), size)
		if body[1] != byte(size) {
			t.Fatalf("the batch of %d starts % x", size, body[:2])
		}
		r := f.do("POST", "/api/v1/report", brandKey, "application/x-protobuf", body)
		var rep tnt.IngestReport
		r.json(t, &rep)
		if r.status != 200 || rep.Accepted != 1 {
			t.Fatalf("a batch with an event of %d bytes: %d %s", size, r.status, r.body)
		}
	}
}

// The history's next link keeps the identifier as it was sent: a Digital
// Link id is escaped in the path.
func TestHistoryLinkOfURLID(t *testing.T) {
	f := newFixture(t, nil)
	f.journey("H1")
	next := "/api/v1/track/" + esc("https://id.gs1.org/01/09506000134352/21/H1") + "/history?limit=2"
	var n int
	for i := 0; next != "" && i < 5; i++ {
		r := f.do("GET", next, brandKey, "", nil)
		var page struct{ Events []json.RawMessage }
		r.json(t, &page)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", next, r.status, r.body)
		}
		n += len(page.Events)
		next = strings.TrimSuffix(strings.TrimPrefix(r.header.Get("Link"), "<"), `>; rel="next"`)
	}
	if n != 3 {
		t.Fatalf("%d events over the pages, want 3", n)
	}
}

// A NUL byte in an identifier or token would reach the library cut short,
// as another identifier: 400.
func TestNULInIdentifiers(t *testing.T) {
	f := newFixture(t, nil)
	f.journey("N1")
	id := esc(unitID("N1"))
	hash := f.do("POST", "/events", brandKey, "application/json", []byte(fmt.Sprintf(
		`{"type":"ObjectEvent","eventTime":%q,"eventTimeZoneOffset":"+00:00","epcList":["https://id.gs1.org/01/09506000134352/21/N2"],"action":"ADD","bizStep":"commissioning","readPoint":{"id":"https://id.gs1.org/414/%s"}}`,
		t0.UTC().Format(time.RFC3339), factory))).header.Get("Location")
	for _, path := range []string{
		"/api/v1/track/" + id + "%00zz",
		"/api/v1/track/" + id + "%00zz/history",
		"/api/v1/track/" + id + "/history?page=%00",
		"/events?nextPageToken=%00",
		"/events?MATCH_epc=" + id + "%00",
		hash + "%00",
		"/api/v1/master/parties/9506000%00",
		"/api/v1/authenticate/" + id + "%00zz",
	} {
		if r := f.do("GET", path, brandKey, "", nil); r.status != 400 {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		} else {
			r.problem(t)
		}
	}
	if r := f.do("GET", hash, brandKey, "", nil); r.status != 200 {
		t.Fatalf("the event without the NUL: %d %s", r.status, r.body)
	}
}

// Query pages filtered for a partner are full or the last: an empty or
// short page with a next link would show that hidden events exist.
func TestQueryPagesHideHiddenEvents(t *testing.T) {
	f := newFixture(t, nil)
	f.journey("Q1")
	pages := func(perPage int) (events, n int) {
		next := fmt.Sprintf("/events?perPage=%d", perPage)
		for ; next != ""; n++ {
			r := f.do("GET", next, "bearer:"+shopKey, "", nil)
			var qd struct {
				EpcisBody struct {
					QueryResults struct {
						ResultsBody struct{ EventList []json.RawMessage }
					}
				}
			}
			r.json(t, &qd)
			got := len(qd.EpcisBody.QueryResults.ResultsBody.EventList)
			next = strings.TrimSuffix(strings.TrimPrefix(r.header.Get("Link"), "<"), `>; rel="next"`)
			if r.status != 200 || (next != "" && got != perPage) || n > 20 {
				t.Fatalf("page %d: %d events, next %q: %d %s", n, got, next, r.status, r.body)
			}
			events += got
		}
		return events, n
	}
	if events, n := pages(1); events != 0 || n != 1 {
		t.Fatalf("the shop sees %d events in %d pages, want none in one", events, n)
	}
	if r := f.report("bearer:"+shopKey, simple(unitID("Q1"), "receive", shop, t0.Add(8*time.Hour))); r.status != 200 {
		t.Fatalf("shop receive: %d %s", r.status, r.body)
	}
	f.journey("Q2")
	f.journey("Q3")
	for _, perPage := range []int{1, 3, 100} {
		if events, _ := pages(perPage); events != 4 {
			t.Fatalf("perPage %d: the shop sees %d events, want Q1's 4", perPage, events)
		}
	}
}
