package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

// Fuzz tests of the HTTP handler: arbitrary query strings, paths, headers
// and bodies, each sent as a server would have read it from the wire, to
// the whole handler (routing, authentication, the endpoint, the engine).
// Every answer must come within fuzzBound, be a status the OpenAPI
// documents for the endpoint (never a 5xx: the engine does not fail here),
// name no file of the server's, and be what its status says: a problem
// document (or, for a browser, the error page) for an error, JSON that
// parses for a success.
//
//	go test -run '^$' -fuzz '^FuzzEventsQuery$' -fuzztime 2m ./server

// fuzzBound is the time a request has to be answered.
const fuzzBound = 5 * time.Second

// fuzzServer is one fixture for a whole fuzz target: an engine holding a
// few journeys, and a server on it (h) whose log is kept to explain a
// failure.
type fuzzServer struct {
	*fixture
	h      http.Handler
	log    *logBuffer
	secret string // the test's temporary directory (the engine's data): no answer names it
	// goroutines is how many run between requests; a request leaves none behind
	goroutines int
}

func newFuzzServer(f *testing.F) *fuzzServer {
	cfg := testConfig(f, "")
	cfg.RateLimit.Public = Rate{PerSecond: -1} // one client, many requests
	fx := newFixture(f, cfg)
	lb := &logBuffer{}
	srv, err := New(cfg, fx.eng, slog.New(slog.NewJSONHandler(lb, nil)))
	if err != nil {
		f.Fatal(err)
	}
	srv.SetReady(true)
	for _, serial := range []string{"FZ1", "FZ2"} {
		fx.journey(serial)
	}
	return &fuzzServer{fixture: fx, h: srv.Handler(), log: lb, secret: filepath.Dir(f.TempDir()), goroutines: runtime.NumGoroutine()}
}

// fuzzCredentials: each partner's, none, and one that is not valid.
var fuzzCredentials = [][2]string{
	{"X-API-Key", brandKey}, {"X-API-Key", dcKey}, {"Authorization", "Bearer " + shopKey}, {"X-API-Key", opKey},
	{"", ""}, {"X-API-Key", "not-a-key-0123456789"},
}

func credentialOf(who uint8) (name, value string, valid bool) {
	c := fuzzCredentials[int(who)%len(fuzzCredentials)]
	return c[0], c[1], int(who)%len(fuzzCredentials) < 4
}

// wire is the request a server reads from the wire for method, target,
// body and hdr (name, value pairs; an empty value is not sent), or nil if
// it would refuse it before any handler (a request line or header that is
// not HTTP).
func wire(method, target string, body []byte, hdr ...string) *http.Request {
	if strings.ContainsAny(target, " \t\r\n") || !strings.HasPrefix(target, "/") {
		return nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: tnt.test\r\n", method, target)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "" || hdr[i+1] == "" {
			continue
		}
		for _, c := range []byte(hdr[i+1]) {
			if c < ' ' && c != '\t' || c == 0x7f {
				return nil // net/http refuses a control character in a header value
			}
		}
		fmt.Fprintf(&b, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	req, err := http.ReadRequest(bufio.NewReader(&b))
	if err != nil {
		return nil
	}
	req.RemoteAddr = "192.0.2.7:40000"
	return req
}

// serve answers req with the handler; it fails if the handler panics or
// takes longer than fuzzBound (its context ends then).
func (z *fuzzServer) serve(t *testing.T, req *http.Request) resp {
	t.Helper()
	ctx, cancel := context.WithTimeout(req.Context(), fuzzBound)
	defer cancel()
	req = req.WithContext(ctx)
	w := httptest.NewRecorder()
	done := make(chan any, 1)
	start := time.Now()
	go func() {
		defer func() { done <- recover() }()
		z.h.ServeHTTP(w, req)
	}()
	select {
	case v := <-done:
		if v != nil {
			t.Fatalf("%s %s: panic: %v", req.Method, req.URL, v)
		}
	case <-time.After(fuzzBound + 5*time.Second):
		t.Fatalf("%s %s: no answer after %v", req.Method, req.URL, fuzzBound+5*time.Second)
	}
	if d := time.Since(start); d > fuzzBound {
		t.Fatalf("%s %s: answered after %v", req.Method, req.URL, d)
	}
	for i := 0; runtime.NumGoroutine() > z.goroutines+20; i++ { // some may be on their way out
		if i == 50 {
			t.Fatalf("%s %s: %d goroutines after it, %d before the first request", req.Method, req.URL, runtime.NumGoroutine(), z.goroutines)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res := w.Result()
	return resp{res.StatusCode, res.Header, w.Body.Bytes()}
}

// documented are the statuses docs/openapi.json lists for an operation,
// less 429 (the limits are off here) and 5xx (the engine does not fail).
func documented(t testing.TB, method, path string, extra ...int) map[int]bool {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	var op struct {
		Responses map[string]json.RawMessage `json:"responses"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc.Paths[path][strings.ToLower(method)], &op); err != nil || len(op.Responses) == 0 {
		t.Fatalf("openapi.json has no %s %s (%v)", method, path, err)
	}
	out := map[int]bool{}
	for code := range op.Responses {
		if n, err := strconv.Atoi(code); err == nil && n != http.StatusTooManyRequests && n < 500 {
			out[n] = true
		}
	}
	for _, n := range extra {
		out[n] = true
	}
	return out
}

// check fails unless r is an answer the API allows for req: a status in
// allowed; header values that are header values; no path of the server's
// files; a problem document for an error (or the error page, when page
// allows it); JSON that parses, a page, or nothing for a success; a
// Location for a redirect.
func (z *fuzzServer) check(t *testing.T, req *http.Request, body []byte, r resp, allowed map[int]bool, page bool) {
	t.Helper()
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("%s\n%s %s %q (%d-byte body %.200q)\n-> %d %v\n%.2000s\npanics: %v", fmt.Sprintf(format, a...),
			req.Method, req.URL.RequestURI(), req.Header, len(body), body, r.status, r.header, r.body, z.log.lines("ERROR", "panic"))
	}
	if !allowed[r.status] {
		fail("status %d is not documented for this endpoint", r.status)
	}
	for name, vs := range r.header {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				fail("header %s holds a control character", name)
			}
		}
	}
	if strings.Contains(string(r.body), z.secret) ||
		bytes.Contains(r.body, []byte(filepath.Join(os.TempDir(), "tnt-master-"))) && !bytes.Contains(body, []byte("tnt-master-")) {
		fail("the answer names a file of the server's")
	}
	if n := r.header.Get("Content-Length"); n != "" && n != strconv.Itoa(len(r.body)) {
		fail("Content-Length %s, body %d bytes", n, len(r.body))
	}
	ct := r.header.Get("Content-Type")
	switch {
	case r.status >= 400:
		if r.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			fail("401 without WWW-Authenticate: Bearer")
		}
		if page && ct == "text/html; charset=utf-8" {
			if !bytes.Contains(r.body, []byte("<h1>")) || !bytes.HasSuffix(r.body, []byte("</html>")) ||
				bytes.Contains(bytes.ToLower(r.body), []byte("<script")) {
				fail("not the error page")
			}
			return
		}
		if err := z.isProblem(req, r); err != nil {
			fail("not a problem document: %v", err)
		}
	case r.status >= 300:
		if _, err := url.Parse(r.header.Get("Location")); err != nil || r.header.Get("Location") == "" {
			fail("a redirect without a Location")
		}
	case r.status == http.StatusNoContent:
		if len(r.body) != 0 {
			fail("204 with a body")
		}
	case ct == "text/html; charset=utf-8":
		if !page || !bytes.HasPrefix(r.body, []byte("<!doctype html>")) || !bytes.HasSuffix(r.body, []byte("</html>")) {
			fail("a page the client did not ask for, or not a whole page")
		}
		if bytes.Contains(bytes.ToLower(r.body), []byte("<script")) {
			fail("a page with a script")
		}
	case ct == "application/json" || ct == "application/linkset+json":
		if !json.Valid(r.body) {
			fail("%s that does not parse", ct)
		}
	default:
		fail("a %d answer of Content-Type %q", r.status, ct)
	}
}

// isProblem: r is an RFC 9457 problem document of its status, typed as the
// server types them: the EPCIS 2.0 exceptions on the EPCIS endpoints, its
// own elsewhere.
func (z *fuzzServer) isProblem(req *http.Request, r resp) error {
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("Content-Type %q", ct)
	}
	var p Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		return err
	}
	if p.Status != r.status || p.Type == "" || p.Title == "" || p.Instance == "" {
		return fmt.Errorf("status %d, type %q, title %q, instance %q", p.Status, p.Type, p.Title, p.Instance)
	}
	if kind, ok := strings.CutPrefix(p.Type, problemBase); ok {
		if problemTitles[kind] != p.Title {
			return fmt.Errorf("type %s has the title %q", p.Type, p.Title)
		}
		if isEPCISPath(req.URL.Path) && epcisException(&Problem{Status: p.Status}, req.Method).Type != "" {
			return fmt.Errorf("type %s on an EPCIS endpoint", p.Type)
		}
		return nil
	}
	if want := epcisException(&Problem{Status: p.Status}, req.Method); !isEPCISPath(req.URL.Path) || p.Type != want.Type || p.Title != want.Title {
		return fmt.Errorf("type %s, title %q", p.Type, p.Title)
	}
	return nil
}

// unrouted: r is the 404 of a path no route takes (one with empty, . or
// .. segments, or more of them than the route has).
func unrouted(r resp) bool {
	var p Problem
	return r.status == http.StatusNotFound && json.Unmarshal(r.body, &p) == nil && strings.HasPrefix(p.Detail, "no such resource")
}

// jsonOf decodes a success the check found to be JSON.
func jsonOf(t *testing.T, r resp, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%d %.500s: %v", r.status, r.body, err)
	}
}

// follow GETs a target the server gave (a Location, a next link) with the
// same credential: it must be a request target, and answer 200.
func (z *fuzzServer) follow(t *testing.T, from *http.Request, target, name, key string) resp {
	t.Helper()
	req := wire("GET", target, nil, name, key)
	if req == nil {
		t.Fatalf("%s %s: the server's link %q is no request target", from.Method, from.URL, target)
	}
	r := z.serve(t, req)
	if r.status != http.StatusOK {
		t.Fatalf("%s %s: GET %s: %d %.1000s", from.Method, from.URL, target, r.status, r.body)
	}
	return r
}

// nextLink is the target of a Link: <…>; rel="next", or "".
func nextLink(t *testing.T, r resp) string {
	t.Helper()
	l := r.header.Get("Link")
	if l == "" {
		return ""
	}
	target, ok := strings.CutSuffix(strings.TrimPrefix(l, "<"), `>; rel="next"`)
	if !ok || !strings.HasPrefix(target, "/") {
		t.Fatalf("Link %q", l)
	}
	return target
}

// GET /events: the EPCIS query, with any query string and Accept.
func FuzzEventsQuery(f *testing.F) {
	z := newFuzzServer(f)
	first := z.do("GET", "/events?perPage=1", opKey, "", nil)
	token := ""
	if u, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(first.header.Get("Link"), "<"), `>; rel="next"`)); err == nil {
		token = u.Query().Get("nextPageToken")
	}
	if token == "" {
		f.Fatalf("no next page: %d %v", first.status, first.header)
	}
	epc := url.QueryEscape("https://id.gs1.org/01/09506000134352/21/FZ1")
	for _, s := range []struct {
		query, accept string
		who           uint8
	}{
		{"", "", 0},
		{"eventType=ObjectEvent&EQ_bizStep=commissioning&perPage=2", "application/json", 0},
		{"eventType=ObjectEvent|AggregationEvent&eventType=TransformationEvent", "", 3},
		{"MATCH_epc=" + epc + "&EQ_bizStep=" + url.QueryEscape("commissioning|receiving"), "application/ld+json", 1},
		{"MATCH_anyEPC=" + url.QueryEscape(unitID("FZ2")) + ",urn:epc:id:sgtin:9506000.013435.FZ1", "*/*", 2},
		{"EQ_readPoint=" + url.QueryEscape("geo:52.52,13.405") + "&EQ_bizLocation=" + url.QueryEscape("https://id.gs1.org/414/"+dc), "", 1},
		{"EQ_disposition=in_progress|urn:epcglobal:cbv:disp:active", "", 0},
		{"GE_eventTime=2024-03-01T10:00:00.123456789Z&LT_eventTime=2099-01-01t00:00:00z", "", 0},
		{"GE_recordTime=1970-01-01T00:00:00.0001Z&LT_recordTime=1969-12-31T23:59:59.9999%2B00:00", "", 3},
		{"GE_eventTime=" + url.QueryEscape(t0.Add(time.Hour).Format(time.RFC3339Nano)) + "&eventType=ObjectEvent", "", 3},
		{"GE_eventTime=" + url.QueryEscape(t0.Add(time.Hour-500*time.Microsecond).Format(time.RFC3339Nano)) +
			"&LT_eventTime=" + url.QueryEscape(t0.Add(5*time.Hour+100*time.Microsecond).In(time.FixedZone("", -90*60)).Format(time.RFC3339Nano)), "", 0},
		{"LT_recordTime=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)) + "&GE_recordTime=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), "", 3},
		{"LT_eventTime=0001-01-01T00:00:00Z", "", 3},
		{"GE_eventTime=9999-12-31T23:59:59.999999999-23:59", "", 3},
		{"perPage=1&nextPageToken=" + url.QueryEscape(token), "", 3},
		{"perPage=1&nextPageToken=" + url.QueryEscape(token), "", 2},
		{"nextPageToken=" + url.QueryEscape(token[:len(token)/2]), "", 3},
		{"nextPageToken=%00", "", 0},
		{"perPage=99999999999999999999", "", 0},
		{"perPage=-1&perPage=5", "", 0},
		{"perPage=0x10", "", 0},
		{"MATCH_epc=urn:epc:idpat:sgtin:9506000.013435.*", "", 0},
		{"MATCH_epc=" + url.QueryEscape(unitID("FZ1")) + "%00", "", 0},
		{"EQ_bizStep=||,,|", "", 0},
		{"foo=1", "", 0},
		{"%zz=1&;", "", 0},
		{"eventType", "", 0},
		{"", "application/xml", 0},
		{"", "application/xml, application/json;q=0", 0},
		{"", "application/json;q=abc, text/html", 0},
		{"", "", 4},
		{"", "", 5},
		{strings.Repeat("EQ_bizStep=x|", 500), "", 0},
	} {
		f.Add(s.query, s.accept, s.who)
	}
	allowed := documented(f, "GET", "/events")
	f.Fuzz(func(t *testing.T, query, accept string, who uint8) {
		name, key, valid := credentialOf(who)
		req := wire("GET", "/events?"+query, nil, name, key, "Accept", accept)
		if req == nil {
			return
		}
		r := z.serve(t, req)
		z.check(t, req, nil, r, allowed, false)
		switch {
		case !valid:
			if r.status != http.StatusUnauthorized {
				t.Fatalf("%q without a valid credential: %d", query, r.status)
			}
		case r.status == http.StatusUnauthorized:
			t.Fatalf("%q with a valid credential: 401", query)
		case r.header.Get("GS1-EPCIS-Version") != "2.0.0":
			t.Fatalf("%q: %d without GS1-EPCIS-Version", query, r.status)
		case r.status == http.StatusNotAcceptable && len(req.Header.Values("Accept")) == 0:
			t.Fatalf("%q: 406 without Accept", query)
		case r.status == http.StatusOK:
			var qd struct {
				Type      string
				EPCISBody struct {
					QueryResults struct {
						ResultsBody struct {
							EventList []struct{ Type, EventTime, RecordTime string }
						}
					}
				}
			}
			jsonOf(t, r, &qd)
			for _, ev := range qd.EPCISBody.QueryResults.ResultsBody.EventList {
				if !matches(req.URL.Query(), ev.Type, ev.EventTime, ev.RecordTime) {
					t.Fatalf("%q: an event the query does not ask for: %s %s (recorded %s)", query, ev.Type, ev.EventTime, ev.RecordTime)
				}
			}
			perPage := 100
			if n, err := strconv.Atoi(req.URL.Query().Get("perPage")); err == nil {
				perPage = min(n, 1000)
			}
			n := len(qd.EPCISBody.QueryResults.ResultsBody.EventList)
			if qd.Type != "EPCISQueryDocument" || n > perPage {
				t.Fatalf("%q: %s of %d events (perPage %d)", query, qd.Type, n, perPage)
			}
			if next := nextLink(t, r); next != "" {
				if n != perPage {
					t.Fatalf("%q: a page of %d of %d events with a next link", query, n, perPage)
				}
				if u, err := url.Parse(next); err != nil || u.Path != "/events" || u.Query().Get("nextPageToken") == "" {
					t.Fatalf("%q: next link %q", query, next)
				}
				z.follow(t, req, next, name, key)
			}
		}
	})
}

// matches: an event of type typ at eventTime, recorded at recordTime (RFC
// 3339), is one that the query q asks for, by its event types and time
// bounds, read here as the docs say (lists delimited by | or commas, times
// in any RFC 3339 form).
func matches(q url.Values, typ, eventTime, recordTime string) bool {
	var types []string
	for _, v := range q["eventType"] {
		types = append(types, strings.FieldsFunc(v, func(r rune) bool { return r == '|' || r == ',' || r == ' ' })...)
	}
	ok := len(types) == 0
	for _, t := range types {
		ok = ok || t == typ
	}
	for name, at := range map[string]string{"eventTime": eventTime, "recordTime": recordTime} {
		t, err := time.Parse(time.RFC3339Nano, at)
		if ge, e := time.Parse(time.RFC3339Nano, strings.ToUpper(q.Get("GE_"+name))); e == nil {
			ok = ok && err == nil && !t.Before(ge)
		}
		if lt, e := time.Parse(time.RFC3339Nano, strings.ToUpper(q.Get("LT_"+name))); e == nil {
			ok = ok && err == nil && t.Before(lt)
		}
	}
	return ok
}

// GET of a Digital Link (/01/…) or of /api/v1/authenticate/{id}: any path,
// query (the code's attributes, the scan's, the resolver's), Accept and
// credential; JSON for API clients, pages for browsers.
func FuzzPublic(f *testing.F) {
	z := newFuzzServer(f)
	for _, s := range []struct {
		digitalLink         bool
		path, query, accept string
		who                 uint8
	}{
		{true, "09506000134352/21/FZ1", "", "application/json", 4},
		{true, "09506000134352/21/FZ1", "", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 4},
		{true, "09506000134352/10/LOT1/21/FZ1", "17=270630&8030=ABCD", "", 4},
		{true, "09506000134352/22/2A/10/ABC/21/FZ2", "lat=52.52&lon=13.405&accuracy=12", "*/*", 4},
		{true, "09506000134352/21/FZ1", "linkType=all", "", 4},
		{true, "09506000134352/21/FZ1", "linkType=gs1:verificationService&17=270630", "", 4},
		{true, "09506000134352/21/FZ1", "linkType=https://gs1.org/voc/epcis", "", 0},
		{true, "09506000134352/21/FZ1", "linkType=gs1:pip", "", 4},
		{true, "09506000134352/21/FZ1", "", "application/linkset+json", 4},
		{true, "123/21/X", "linkType=all", "", 4},
		{true, "09506000134352/21/FZ1", "intent=sell&location=" + dc + "&dry_run=true", "", 1},
		{true, "09506000134352/21/FZ1", "intent=receive&location=urn:epc:id:sgln:4012345.00001.0&role=retailer", "", 1},
		{true, "09506000134352/21/FZ1", "intent=steal", "", 1},
		{true, "09506000134352/21/FZ1", "intent=sell", "", 4},
		{true, "09506000134352/21/FZ1", "format=html&lat=91&lon=0", "", 4},
		{true, "09506000134352/21/FZ1", "lat=NaN&lon=NaN&accuracy=NaN", "", 4},
		{true, "09506000134352/21/FZ1", "lat=1e308&lon=-0", "", 4},
		{true, "09506000134352/21/%2e%2e/%2e%2e/healthz", "", "", 4},
		{true, "09506000134352//21/FZ1", "", "", 4},
		{true, "09506000134352/21/FZ1%00", "", "text/html", 4},
		{true, "09506000134352/21/" + strings.Repeat("Z", 5000), "", "", 4},
		{true, "00000" + strings.Repeat("%AC", 4000) + "%220000", "linkType=0", "", 0}, // too long to resolve: 400, not 413
		{false, esc(unitID("FZ1")), "dry_run=true&location=" + strings.Repeat("4", 5000), "", 1},
		{true, "09506000134352/21/FZ1", "", "", 5},
		{false, esc(unitID("FZ1")), "", "", 4},
		{false, esc(unitID("FZ1")), "format=html", "application/json", 4},
		{false, esc("https://id.gs1.org/01/09506000134352/21/FZ2?17=270630"), "dry_run=true", "", 3},
		{false, "urn:epc:id:sgtin:9506000.013435.FZ1", "", "text/html;q=0.5, application/json;q=0.6", 2},
		{false, esc("(01)09506000134352(10)LOT1"), "", "", 4},
		{false, "garbage", "", "text/html", 4},
		{false, "%00", "", "", 4},
		{false, "..%2F..%2Fetc%2Fpasswd", "", "", 4},
		{false, esc(unitID("FZ1")), "location=" + shop, "", 1},
		{false, esc(unitID("FZ1")), "location=notagln", "text/html", 1},
	} {
		f.Add(s.digitalLink, s.path, s.query, s.accept, "", s.who)
	}
	dl := documented(f, "GET", "/01/{gtin}/21/{serial}", http.StatusNotFound)
	auth := documented(f, "GET", "/api/v1/authenticate/{product_id}", http.StatusNotFound)
	f.Add(true, "09506000134352/21/FZ2", "", "", "phone-1", uint8(4))
	f.Add(false, esc(unitID("FZ2")), "", "", strings.Repeat("d", 129), uint8(4))
	f.Fuzz(func(t *testing.T, digitalLink bool, path, query, accept, device string, who uint8) {
		prefix, allowed := "/api/v1/authenticate/", auth
		if digitalLink {
			prefix, allowed = "/01/", dl
		}
		if query != "" {
			query = "?" + query
		}
		name, key, valid := credentialOf(who)
		req := wire("GET", prefix+path+query, nil, name, key, "Accept", accept, "X-Device-ID", device)
		if req == nil { // as the client would have escaped it
			req = wire("GET", prefix+url.PathEscape(path)+query, nil, name, key, "Accept", accept, "X-Device-ID", device)
		}
		if req == nil {
			return
		}
		html := wantsHTML(req)
		r := z.serve(t, req)
		z.check(t, req, nil, r, allowed, html)
		ct := r.header.Get("Content-Type")
		switch {
		case valid && r.status == http.StatusUnauthorized:
			t.Fatalf("%s: 401 with a valid credential: %s", req.URL, r.body)
		case r.status == http.StatusNotFound && !unrouted(r):
			t.Fatalf("%s: 404 %s", req.URL, r.body)
		case r.status == http.StatusTemporaryRedirect:
			if !strings.HasPrefix(r.header.Get("Location"), z.srv.cfg.PublicURL+"/") {
				t.Fatalf("%s: a redirect to %q", req.URL, r.header.Get("Location"))
			}
		case r.status == http.StatusOK && ct == "application/linkset+json":
			var ls struct {
				Linkset []struct{ Anchor string }
			}
			jsonOf(t, r, &ls)
			if !digitalLink || len(ls.Linkset) != 1 || !strings.HasPrefix(ls.Linkset[0].Anchor, z.srv.cfg.PublicURL+"/01/") {
				t.Fatalf("%s: linkset %s", req.URL, r.body)
			}
		case r.status == http.StatusOK:
			if html != (ct != "application/json") {
				t.Fatalf("%s: a %s answer to Accept %q", req.URL, ct, accept)
			}
			if ct == "application/json" {
				var v struct{ Verdict, Signature string }
				jsonOf(t, r, &v)
				if headlines[v.Verdict].title == "" || v.Signature == "" {
					t.Fatalf("%s: verdict %q, signature %q", req.URL, v.Verdict, v.Signature)
				}
			} else if !bytes.Contains(r.body, []byte(`data-verdict="`)) {
				t.Fatalf("%s: not the verdict page", req.URL)
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Vary") != "Accept" ||
				digitalLink && !strings.Contains(r.header.Get("Link"), `rel="linkset"`) {
				t.Fatalf("%s: headers %v", req.URL, r.header)
			}
		}
	})
}

// GET /api/v1/track/{id} and /history: any identifier, page token and limit.
func FuzzTrack(f *testing.F) {
	z := newFuzzServer(f)
	first := z.do("GET", "/api/v1/track/"+esc(unitID("FZ1"))+"/history?limit=1", brandKey, "", nil)
	var page struct{ Next string }
	if json.Unmarshal(first.body, &page); page.Next == "" {
		f.Fatalf("no next page: %d %s", first.status, first.body)
	}
	for _, s := range []struct {
		id, query string
		history   bool
		who       uint8
	}{
		{esc(unitID("FZ1")), "", false, 0},
		{esc(unitID("FZ1")), "", true, 1},
		{esc(unitID("FZ1")), "limit=1&page=" + url.QueryEscape(page.Next), true, 0},
		{esc(unitID("FZ1")), "limit=1&page=" + url.QueryEscape(page.Next), true, 2},
		{esc(unitID("FZ2")), "page=" + url.QueryEscape(page.Next), true, 3},
		{esc(unitID("FZ1")), "page=" + url.QueryEscape(page.Next[:len(page.Next)-1]), true, 0},
		{esc(unitID("FZ1")), "page=garbage&limit=1000", true, 0},
		{esc(unitID("FZ1")), "page=%00", true, 0},
		{esc(unitID("FZ1")), "limit=0", true, 0},
		{esc(unitID("FZ1")), "limit=1e3", true, 0},
		{esc(unitID("FZ1")), "limit=99999999999999999999999", true, 0},
		{esc("https://id.gs1.org/01/09506000134352/21/FZ1"), "limit=2", true, 0},
		{"urn:epc:id:sgtin:9506000.013435.FZ2", "", false, 3},
		{esc("(01)09506000134352"), "", false, 0},
		{esc("(00)395060000000000018"), "", false, 0},
		{esc("(414)" + dc), "", false, 1},
		{esc(unitID("FZ1")) + "%00zz", "", true, 0},
		{"..%2F..%2Fetc%2Fpasswd", "", false, 0},
		{"..", "", false, 0},
		{"%2e%2e", "", true, 0},
		{"", "", false, 0},
		{"a/b", "", false, 0},
		{strings.Repeat("9", 5000), "", false, 0},
		{esc(unitID("FZ1")), "", false, 4},
		{esc(unitID("FZ1")), "", true, 5},
	} {
		f.Add(s.id, s.query, s.history, s.who)
	}
	track := documented(f, "GET", "/api/v1/track/{product_id}")
	history := documented(f, "GET", "/api/v1/track/{product_id}/history")
	f.Fuzz(func(t *testing.T, id, query string, hist bool, who uint8) {
		suffix, allowed := "", track
		if hist {
			suffix, allowed = "/history", history
		}
		if query != "" {
			query = "?" + query
		}
		name, key, valid := credentialOf(who)
		req := wire("GET", "/api/v1/track/"+id+suffix+query, nil, name, key)
		if req == nil {
			req = wire("GET", "/api/v1/track/"+url.PathEscape(id)+suffix+query, nil, name, key)
		}
		if req == nil {
			return
		}
		r := z.serve(t, req)
		z.check(t, req, nil, r, allowed, false)
		if valid == (r.status == http.StatusUnauthorized) && !unrouted(r) {
			t.Fatalf("%s (valid credential: %v): %d", req.URL, valid, r.status)
		}
		if r.status != http.StatusOK {
			return
		}
		if !strings.HasSuffix(req.URL.Path, "/history") {
			var tr struct{ ID string }
			if jsonOf(t, r, &tr); tr.ID == "" {
				t.Fatalf("%s: track %s", req.URL, r.body)
			}
			return
		}
		var pg struct {
			ID     string
			Events []json.RawMessage
			Next   *string
		}
		jsonOf(t, r, &pg)
		limit := 100
		if n, err := strconv.Atoi(req.URL.Query().Get("limit")); err == nil {
			limit = n
		}
		next := nextLink(t, r)
		if pg.ID == "" || len(pg.Events) > limit || (pg.Next != nil) != (next != "") {
			t.Fatalf("%s: history %s, Link %q", req.URL, r.body, r.header.Get("Link"))
		}
		if next != "" {
			z.follow(t, req, next, name, key)
		}
	})
}

// POST /api/v1/report, /capture and /events: any body, Content-Type and
// GS1-Capture-Error-Behaviour.
func FuzzCapture(f *testing.F) {
	z := newFuzzServer(f)
	report := "[" + simple(unitID("FC1"), "commission", factory, t0) + "," + simple(unitID("FC1"), "ship", factory, t0.Add(time.Hour)) + "]"
	future := simple(unitID("FC2"), "ship", factory, time.Now().Add(72*time.Hour))
	doc := string(epcisDocument(epcisEvent("FC3", "commissioning", ""), epcisEvent("FC4", "commissioning", "urn:uuid:11111111-2222-4333-8444-555555555555")))
	for _, s := range []struct {
		endpoint         uint8
		body             string
		ctype, behaviour string
		who              uint8
	}{
		{0, report, "application/json", "", 0},
		{0, simple(unitID("FC1"), "receive", dc, t0.Add(5*time.Hour)), "application/json; charset=utf-8", "", 1},
		{0, "[" + simple(unitID("FC2"), "commission", factory, t0) + "," + future + "]", "application/json", "proceed", 0},
		{0, "[" + simple(unitID("FC2"), "commission", factory, t0) + "," + future + "]", "application/json", "rollback", 0},
		{0, "[" + future + "]", "application/json", " PROCEED ", 0},
		{0, report, "application/json", "maybe", 0},
		{0, report, "application/json", "", 2},
		{0, string(pbBatch("FC5", 123)), "application/x-protobuf", "", 0},
		{0, string(pbBatch("FC6", 200)), "application/protobuf", "", 3},
		{0, report, "application/x-protobuf", "", 0},
		{0, "\xff\xff\xff\x01", "application/x-protobuf", "", 0},
		{0, "\n{\x08\x01", "application/vnd.google.protobuf", "", 0},
		{0, doc, "application/ld+json", "", 0},
		{0, `[{"product_id": "x",`, "application/json", "", 0},
		{0, `{"hello":"world"}`, "application/json", "", 0},
		{0, `{"product_id":"(01)09506000134352(21)Z","event_type":"ship","timestamp":"2024-01-01T00:00:00Z","colour":"red"}`, "application/json", "", 0},
		{0, `{"product_id":"(01)09506000134352(21)I1","event_type":"ship","location":{"x":1},"timestamp":"2024-01-01T00:00:00Z"}`, "application/json", "proceed", 2},
		{0, `[]`, "application/json", "", 0},
		{0, "  \n ", "application/json", "", 0},
		{0, report, "", "", 0},
		{0, report, "text/plain", "", 0},
		{0, report, "application/json; charset=\"", "", 0},
		{0, "a=b", "application/x-www-form-urlencoded", "", 0},
		{0, report, "application/json", "", 5},
		{1, doc, "application/ld+json", "", 0},
		{1, doc, "application/json", "proceed", 1},
		{1, epcisEvent("FC7", "commissioning", ""), "application/json", "", 0},
		{1, `{"type":"EPCISDocument","epcisBody":{"eventList":[]}}`, "application/json", "", 0},
		{1, `{"type":"EPCISDocument","epcisBody":{"eventList":[` + strings.Repeat(epcisEvent("FC8", "commissioning", "")+",", 20) + `{}]}}`, "application/json", "proceed", 3},
		{1, `{"epcisBody":{}, "type":"EPCISDocument"` + strings.Repeat(" ", 10) + "}", "application/json", "", 0},
		{1, `{"type":` + strings.Repeat("[", 5000), "application/json", "", 0},
		{1, doc, "application/x-protobuf", "", 0},
		{2, epcisEvent("FC9", "commissioning", ""), "application/json", "", 0},
		{2, epcisEvent("FC9", "commissioning", ""), "application/json", "", 0},
		{2, epcisEvent("FC10", "commissioning", "urn:uuid:11111111-2222-4333-8444-555555555555"), "application/json", "", 0},
		{2, epcisEvent("FC10", "commissioning", "urn:uuid:11111111-2222-4333-8444-555555555555\x00"), "application/json", "", 0},
		{2, epcisEvent("FC11", "shipping", ""), "application/json", "", 2},
		{2, doc, "application/json", "", 0},
		{2, "[" + epcisEvent("FC12", "commissioning", "") + "]", "application/json", "", 0},
		{2, `{"type":"ObjectEvent","x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "}", "application/json", "", 0},
		{2, `{"type":"ObjectEvent","eventTime":"2024-01-01T00:00:00Z","eventTimeZoneOffset":"+99:99","epcList":["\u0000"],"action":"ADD"}`, "application/json", "", 0},
		{2, strings.Repeat(" ", 65*1024) + "{}", "application/json", "", 0},
	} {
		f.Add(s.endpoint, []byte(s.body), s.ctype, s.behaviour, s.who)
	}
	endpoints := []struct {
		path    string
		allowed map[int]bool
	}{
		{"/api/v1/report", documented(f, "POST", "/api/v1/report")},
		{"/capture", documented(f, "POST", "/capture")},
		{"/events", documented(f, "POST", "/events")},
	}
	f.Fuzz(func(t *testing.T, endpoint uint8, body []byte, ctype, behaviour string, who uint8) {
		e := endpoints[int(endpoint)%len(endpoints)]
		name, key, valid := credentialOf(who)
		req := wire("POST", e.path, body, name, key, "Content-Type", ctype, "GS1-Capture-Error-Behaviour", behaviour)
		if req == nil {
			return
		}
		r := z.serve(t, req)
		z.check(t, req, body, r, e.allowed, false)
		if valid == (r.status == http.StatusUnauthorized) {
			t.Fatalf("POST %s (valid credential: %v): %d %s", e.path, valid, r.status, r.body)
		}
		// rollback (the default): one invalid event refuses the request
		rollback := !strings.EqualFold(strings.TrimSpace(behaviour), "proceed")
		consistent := func(rep *tnt.IngestReport) {
			if rep == nil || rep.Events == 0 || rep.Events != rep.Accepted+rep.Duplicates+rep.Rejected || rep.Events != len(rep.Results) ||
				rollback && rep.Rejected > 0 {
				t.Fatalf("POST %s (%s): report %s", e.path, behaviour, r.body)
			}
		}
		if r.status == http.StatusForbidden {
			var p Problem
			if json.Unmarshal(r.body, &p); len(p.Errors) == 0 {
				t.Fatalf("POST %s: 403 without the events that are not the partner's: %s", e.path, r.body)
			}
		}
		switch r.status {
		case http.StatusOK:
			var rep tnt.IngestReport
			jsonOf(t, r, &rep)
			consistent(&rep)
		case http.StatusAccepted:
			var job captureJob
			jsonOf(t, r, &job)
			consistent(job.Report)
			loc := r.header.Get("Location")
			if loc != "/capture/"+job.CaptureID || job.Running || job.Success != (job.Report.Rejected == 0) {
				t.Fatalf("POST %s: Location %q, job %s", e.path, loc, r.body)
			}
			z.follow(t, req, loc, name, key)
		case http.StatusCreated:
			var c struct{ EventID, Hash, Location string }
			jsonOf(t, r, &c)
			if c.EventID == "" || !strings.HasPrefix(c.Hash, "ni:///") || c.Location != r.header.Get("Location") || !strings.HasPrefix(c.Location, "/events/") {
				t.Fatalf("POST %s: %v %s", e.path, r.header, r.body)
			}
			z.follow(t, req, c.Location, name, key)
		}
	})
}

// POST /api/v1/master: any body and Content-Type.
func FuzzMaster(f *testing.F) {
	z := newFuzzServer(f)
	world := `{"products":[{"gtin":"09506000134352","name":"Greek yoghurt 500 g","min_temp":2,"max_temp":8}],
	           "locations":[{"gln":"` + factory + `","name":"Dairy Co plant","city":"Hamburg","country":"DE","latitude":53.55,"longitude":9.99}]}`
	csv := "gln,name,city,country,latitude,longitude\n" + dc + ",DC North,Hannover,DE,52.37,9.73\n"
	for _, s := range []struct {
		body, ctype string
		who         uint8
	}{
		{world, "application/json", 0},
		{world, "application/json", 1},
		{world, "application/json", 3},
		{csv, "text/csv", 1},
		{csv, "text/csv; charset=utf-8", 0},
		{"gtin,name\n9506000134352,\"Yoghurt, \"\"Greek\"\"\"\n", "text/csv", 0},
		{"gtin,name\n\"unterminated\n", "text/csv", 0},
		{"party,name\n9506000,Dairy Co\n", "text/csv", 0},
		{"\xef\xbb\xbfgln,name\n" + dc + ",x\n", "text/csv", 1},
		{"a,b,c\n1,2\n", "text/csv", 0},
		{world, "text/csv", 0},
		{csv, "application/json", 0},
		{`{"products":[{"gtin":"09506000134353","name":"wrong check digit"}]}`, "application/json", 0},
		{`{"products":[{"gtin":"09506000134352","min_temp":1e999}]}`, "application/json", 0},
		{`{"products":[{"gtin":"09506000134352","min_temp":9,"max_temp":-9}]}`, "application/json", 0},
		{`{"locations":[{"gln":"` + factory + `","latitude":"NaN","longitude":500}]}`, "application/json", 0},
		{`{"parties":[{"gcp":"9506000","name":"\u0000"}]}`, "application/json", 0},
		{`{"widgets":[]}`, "application/json", 0},
		{`{}`, "application/json", 0},
		{`{"products":` + strings.Repeat("[", 3000), "application/json", 0},
		{"{\x00}", "application/json", 0},
		{"", "application/json", 0},
		{world, "", 0},
		{world, "application/json", 4},
		{world, "application/json", 5},
	} {
		f.Add([]byte(s.body), s.ctype, s.who)
	}
	allowed := documented(f, "POST", "/api/v1/master")
	f.Fuzz(func(t *testing.T, body []byte, ctype string, who uint8) {
		name, key, valid := credentialOf(who)
		req := wire("POST", "/api/v1/master", body, name, key, "Content-Type", ctype)
		if req == nil {
			return
		}
		r := z.serve(t, req)
		z.check(t, req, body, r, allowed, false)
		if valid == (r.status == http.StatusUnauthorized) {
			t.Fatalf("valid credential: %v: %d %s", valid, r.status, r.body)
		}
		if r.status == http.StatusForbidden {
			var p Problem
			if json.Unmarshal(r.body, &p); len(p.Errors) == 0 {
				t.Fatalf("403 without the records that are not the partner's: %s", r.body)
			}
		}
		if r.status == http.StatusOK {
			var got struct{ Loaded *int }
			if jsonOf(t, r, &got); got.Loaded == nil || *got.Loaded < 0 {
				t.Fatalf("master: %s", r.body)
			}
		}
	})
}
