package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// epcisEvent is an ObjectEvent of the brand's unit serial at its factory;
// eventID "" sends none.
func epcisEvent(serial, step, eventID string) string {
	id := ""
	if eventID != "" {
		id = fmt.Sprintf(`"eventID":%q,`, eventID)
	}
	return fmt.Sprintf(`{"type":"ObjectEvent",%s"eventTime":%q,"eventTimeZoneOffset":"+00:00","epcList":["https://id.gs1.org/01/09506000134352/21/%s"],"action":"OBSERVE","bizStep":%q,"readPoint":{"id":"https://id.gs1.org/414/%s"}}`,
		id, t0.UTC().Format(time.RFC3339), serial, step, factory)
}

func epcisDocument(events ...string) []byte {
	return []byte(`{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z","epcisBody":{"eventList":[` +
		strings.Join(events, ",") + `]}}`)
}

// queriedEventID is the eventID of the one event of an EPCISQueryDocument.
func queriedEventID(t *testing.T, r resp) string {
	t.Helper()
	var qd struct {
		EPCISBody struct {
			QueryResults struct {
				ResultsBody struct{ EventList []struct{ EventID string } }
			}
		}
	}
	r.json(t, &qd)
	if list := qd.EPCISBody.QueryResults.ResultsBody.EventList; r.status == 200 && len(list) == 1 {
		return list[0].EventID
	}
	t.Fatalf("not one event: %d %s", r.status, r.body)
	return ""
}

// POST /events answers with the event's identity: the eventID it was sent
// with, else its hash ID as the engine computed it; Location is the event.
func TestCaptureEventAnswer(t *testing.T) {
	f := newFixture(t, nil)
	var created struct{ EventID, Hash, Location string }
	r := f.do("POST", "/events", brandKey, "application/json", []byte(epcisEvent("A1", "commissioning", "")))
	r.json(t, &created)
	if r.status != 201 || !strings.HasPrefix(created.Hash, "ni:///sha-256;") || created.EventID != created.Hash ||
		created.Location != "/events/"+url.PathEscape(created.Hash) || r.header.Get("Location") != created.Location {
		t.Fatalf("an event without eventID: %d %v %s", r.status, r.header, r.body)
	}
	if id := queriedEventID(t, f.do("GET", r.header.Get("Location"), brandKey, "", nil)); id != created.Hash {
		t.Fatalf("Location is event %s, want %s", id, created.Hash)
	}

	const given = "urn:uuid:6c1b7a52-0f7e-4d55-9d43-1c2b3a4d5e6f"
	one := []byte(epcisEvent("A2", "commissioning", given))
	r = f.do("POST", "/events", brandKey, "application/json", one)
	r.json(t, &created)
	if r.status != 201 || created.EventID != given || !strings.HasPrefix(created.Hash, "ni:///sha-256;") ||
		r.header.Get("Location") != "/events/"+url.PathEscape(created.Hash) {
		t.Fatalf("an event with an eventID: %d %v %s", r.status, r.header, r.body)
	}
	loc := r.header.Get("Location")
	if id := queriedEventID(t, f.do("GET", "/events/"+url.PathEscape(given), brandKey, "", nil)); id != given {
		t.Fatalf("GET by the eventID: %s", id)
	}
	if r := f.do("POST", "/events", brandKey, "application/json", one); r.status != 409 || r.header.Get("Location") != loc {
		t.Fatalf("the same event again: %d %v %s", r.status, r.header, r.body)
	}
	// The eventID is looked up only for an event the partner may report:
	// another partner learns nothing of which eventIDs are taken.
	r = f.do("POST", "/events", "bearer:"+shopKey, "application/json", []byte(epcisEvent("A3", "inspecting", given)))
	if r.status != 403 || r.header.Get("Location") != "" {
		t.Fatalf("another partner's event with a taken eventID: %d %v %s", r.status, r.header, r.body)
	}
}

// OPTIONS is the EPCIS 2.0 discovery of each endpoint, for whoever may use
// it: 204 with Allow and the GS1 headers.
func TestEPCISDiscovery(t *testing.T) {
	f := newFixture(t, nil)
	r := f.do("POST", "/capture", brandKey, "application/json", epcisDocument(epcisEvent("D1", "commissioning", "")))
	job := r.header.Get("Location")
	r = f.do("POST", "/events", brandKey, "application/json", []byte(epcisEvent("D2", "commissioning", "")))
	event := r.header.Get("Location")
	if job == "" || event == "" {
		t.Fatalf("setup: %d %s", r.status, r.body)
	}
	cases := []struct {
		path, key, allow string
		capture          bool
	}{
		{"/", "", "OPTIONS, GET, HEAD", false},
		{"/capture", brandKey, "OPTIONS, GET, HEAD, POST", true},
		{job, brandKey, "OPTIONS, GET, HEAD", false},
		{"/events", brandKey, "OPTIONS, GET, HEAD, POST", false},
		{"/events", "bearer:" + shopKey, "OPTIONS, GET, HEAD, POST", false},
		{event, brandKey, "OPTIONS, GET, HEAD", false},
	}
	for _, c := range cases {
		r := f.do("OPTIONS", c.path, c.key, "", nil)
		h := r.header
		if r.status != 204 || h.Get("Allow") != c.allow || len(r.body) != 0 {
			t.Fatalf("OPTIONS %s: %d %v %s", c.path, r.status, h, r.body)
		}
		for name, want := range map[string]string{"GS1-EPCIS-Version": "2.0.0", "GS1-EPCIS-Min": "2.0.0", "GS1-EPCIS-Max": "2.0.0",
			"GS1-CBV-Version": "2.0.0", "GS1-CBV-Min": "2.0.0", "GS1-CBV-Max": "2.0.0", "GS1-EPC-Format": "Always_GS1_Digital_Link"} {
			if h.Get(name) != want {
				t.Errorf("OPTIONS %s: %s %q, want %q", c.path, name, h.Get(name), want)
			}
		}
		if !strings.HasPrefix(h.Get("GS1-Vendor-Version"), "libtnt/") {
			t.Errorf("OPTIONS %s: GS1-Vendor-Version %q", c.path, h.Get("GS1-Vendor-Version"))
		}
		limits := h.Get("GS1-EPCIS-Capture-Limit") + "," + h.Get("GS1-EPCIS-Capture-File-Size-Limit") + "," + h.Get("GS1-Capture-Error-Behaviour")
		if c.capture && limits != "10000,65536,rollback" || !c.capture && limits != ",," {
			t.Errorf("OPTIONS %s: capture limits %s", c.path, limits)
		}
	}
	// No more than the endpoint's GET or POST asks: a partner's credential,
	// and a resource the partner may see.
	for _, c := range []struct {
		path, key string
		status    int
	}{
		{"/events", "", 401},
		{"/capture", "wrong-key-0123456789", 401},
		{job, dcKey, 404},
		{"/capture/nothing", brandKey, 404},
		{event, "bearer:" + shopKey, 404},
		{"/events/nothing", brandKey, 404},
	} {
		if r := f.do("OPTIONS", c.path, c.key, "", nil); r.status != c.status || r.header.Get("Allow") != "" {
			t.Errorf("OPTIONS %s as %q: %d %v", c.path, c.key, r.status, r.header)
		}
	}
	if r := f.do("DELETE", "/events", brandKey, "", nil); r.status != 405 || !strings.Contains(r.header.Get("Allow"), "OPTIONS") {
		t.Fatalf("DELETE /events: %d %v", r.status, r.header)
	}
}

// The problems of the EPCIS endpoints are typed as the EPCIS 2.0 REST
// binding's exceptions; those of /api/v1 keep this server's types.
func TestEPCISProblemTypes(t *testing.T) {
	f := newFixture(t, testConfig(t, "  capture_max: 2\n"))
	doc := epcisDocument(epcisEvent("P1", "commissioning", ""))
	cases := []struct {
		method, path, key, ctype string
		body                     []byte
		status                   int
		typ                      string
		hdr                      []string
	}{
		{"POST", "/capture", brandKey, "application/json", []byte(`{"type":"EPCISDocument",`), 400, "epcisException:ValidationException", nil},
		{"POST", "/capture", brandKey, "application/json", []byte(epcisEvent("P2", "commissioning", "")), 400, "epcisException:ValidationException", nil},
		{"POST", "/events", brandKey, "application/json", []byte(`{"type":"ObjectEvent","action":"OBSERVE"}`), 400, "epcisException:ValidationException", nil},
		{"GET", "/events?foo=1", brandKey, "", nil, 400, "epcisException:QueryParameterException", nil},
		{"GET", "/capture?perPage=0", brandKey, "", nil, 400, "epcisException:QueryParameterException", nil},
		{"POST", "/capture", "", "application/json", doc, 401, "epcisException:SecurityException", nil},
		{"GET", "/events", "wrong-key-0123456789", "", nil, 401, "epcisException:SecurityException", nil},
		{"POST", "/capture", dcKey, "application/json", doc, 403, "epcisException:SecurityException", nil},
		{"GET", "/events/nothing", brandKey, "", nil, 404, "epcisException:NoSuchNameException", nil},
		{"GET", "/capture/nothing", brandKey, "", nil, 404, "epcisException:NoSuchNameException", nil},
		{"GET", "/events/a/b", brandKey, "", nil, 404, "epcisException:NoSuchNameException", nil},
		{"POST", "/capture", brandKey, "application/json", epcisDocument(epcisEvent("P3", "commissioning", ""), epcisEvent("P4", "commissioning", ""), epcisEvent("P5", "commissioning", "")),
			413, "epcisException:CaptureLimitExceededException", nil},
		{"POST", "/events", brandKey, "application/json", bytes.Repeat([]byte(" "), 65*1024), 413, "epcisException:CaptureLimitExceededException", nil},
		{"GET", "/events", brandKey, "", nil, 406, "epcisException:ImplementationException", []string{"Accept", "application/xml"}},
		{"POST", "/events", brandKey, "text/plain", doc, 415, "epcisException:ImplementationException", nil},
		{"DELETE", "/events", brandKey, "", nil, 405, problemBase + "method", nil},
		// this server's own endpoints
		{"POST", "/api/v1/report", brandKey, "application/json", []byte(`[{"product_id": "x",`), 400, problemBase + "malformed", nil},
		{"GET", "/api/v1/track/x", "", "", nil, 401, problemBase + "unauthorized", nil},
		{"POST", "/api/v1/report", brandKey, "text/plain", doc, 415, problemBase + "unsupported-media", nil},
	}
	for _, c := range cases {
		r := f.do(c.method, c.path, c.key, c.ctype, c.body, c.hdr...)
		if r.status != c.status {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.status, r.body)
			continue
		}
		if p := r.problem(t); p.Type != c.typ || p.Instance == "" || p.Detail == "" {
			t.Errorf("%s %s: %+v, want type %s", c.method, c.path, p, c.typ)
		}
	}
	// a capture job's errors too
	r := f.do("POST", "/capture", brandKey, "application/json",
		epcisDocument(epcisEvent("P6", "commissioning", ""), strings.Replace(epcisEvent("P7", "commissioning", ""), "OBSERVE", "SIDEWAYS", 1)),
		"GS1-Capture-Error-Behaviour", "proceed")
	var job captureJob
	f.do("GET", r.header.Get("Location"), brandKey, "", nil).json(t, &job)
	if r.status != 202 || job.Success || len(job.Errors) != 1 || job.Errors[0].Type != "epcisException:ValidationException" || job.Errors[0].Status != 400 {
		t.Fatalf("job errors: %d %s %+v", r.status, r.body, job)
	}
}

// Capture jobs are bounded by capture_jobs_bytes too: the oldest are
// forgotten first (the newest is kept whatever its size), and a start reads
// no more than the budget of the newest files, removing the older ones.
func TestCaptureJobsBytes(t *testing.T) {
	cfg := testConfig(t, "  capture_jobs_bytes: 6K\n")
	cfg.JobsDir = filepath.Join(t.TempDir(), "jobs")
	f := newFixture(t, cfg)
	capture := func(serial string, events int) string {
		t.Helper()
		var evs []string
		for i := 0; i < events; i++ {
			evs = append(evs, epcisEvent(fmt.Sprintf("%s-%d", serial, i), "commissioning", ""))
		}
		r := f.do("POST", "/capture", brandKey, "application/json", epcisDocument(evs...))
		if r.status != 202 {
			t.Fatalf("capture: %d %s", r.status, r.body)
		}
		return r.header.Get("Location")
	}
	files := func() (n int, total int64) {
		paths, _ := filepath.Glob(filepath.Join(cfg.JobsDir, "*.json"))
		for _, p := range paths {
			if fi, err := os.Stat(p); err == nil {
				n, total = n+1, total+fi.Size()
			}
		}
		return n, total
	}
	var locs []string
	for i := 0; i < 12; i++ {
		locs = append(locs, capture(fmt.Sprintf("S%d", i), 3))
	}
	n, total := files()
	if n < 2 || n >= 12 || total > 6<<10 {
		t.Fatalf("%d job files of %d bytes, want at most 6K", n, total)
	}
	var jobs []captureJob
	f.do("GET", "/capture", brandKey, "", nil).json(t, &jobs)
	if len(jobs) != n || "/capture/"+jobs[0].CaptureID != locs[11] {
		t.Fatalf("%d jobs listed, %d files", len(jobs), n)
	}
	if r := f.do("GET", locs[0], brandKey, "", nil); r.status != 404 {
		t.Fatalf("the oldest job: %d", r.status)
	}
	if r := f.do("GET", locs[11-n+1], brandKey, "", nil); r.status != 200 {
		t.Fatalf("the oldest job kept: %d", r.status)
	}
	// One job over the whole budget is kept, alone.
	big := capture("B", 60)
	if n, total := files(); n != 1 || total <= 6<<10 {
		t.Fatalf("after a job over the budget: %d files, %d bytes", n, total)
	}
	if r := f.do("GET", big, brandKey, "", nil); r.status != 200 {
		t.Fatalf("the job over the budget: %d", r.status)
	}
	for i := 0; i < 3; i++ {
		locs = append(locs, capture(fmt.Sprintf("T%d", i), 3))
	}

	// A start reads the newest files within the budget; older files, even
	// ones it could not read, are removed unread.
	old := time.Now().Add(-time.Hour)
	for i := 0; i < 20; i++ {
		p := filepath.Join(cfg.JobsDir, fmt.Sprintf("%032x.json", i))
		os.WriteFile(p, bytes.Repeat([]byte("x"), 4<<10), 0o640)
		os.Chtimes(p, old, old)
	}
	var logs bytes.Buffer
	get := f.restart(t, cfg, &logs)
	if strings.Contains(logs.String(), "unreadable") {
		t.Fatalf("old files were read: %s", logs.String())
	}
	if n, total := files(); n != 3 || total > 6<<10 {
		t.Fatalf("after a start: %d files, %d bytes", n, total)
	}
	status, b := get(locs[len(locs)-1], brandKey)
	var j captureJob
	if status != 200 || json.Unmarshal(b, &j) != nil || j.Report == nil || j.Report.Accepted != 3 {
		t.Fatalf("the newest job after a start: %d %s", status, b)
	}
}

// A start keeps the newest jobs, however close together they were made,
// and touches no file that is not a job's.
func TestCaptureJobsRestart(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.JobsDir = filepath.Join(t.TempDir(), "jobs")
	f := newFixture(t, cfg)
	var locs []string
	for i := 0; i < 20; i++ {
		r := f.do("POST", "/capture", brandKey, "application/json",
			epcisDocument(epcisEvent(fmt.Sprintf("R%d", i), "commissioning", "")))
		if r.status != 202 {
			t.Fatalf("capture: %d %s", r.status, r.body)
		}
		locs = append(locs, r.header.Get("Location"))
	}
	old := time.Now().Add(-time.Hour)
	foreign := filepath.Join(cfg.JobsDir, "partners.json")
	os.WriteFile(foreign, []byte("{}"), 0o640)
	os.Chtimes(foreign, old, old)
	tmp := filepath.Join(cfg.JobsDir, fmt.Sprintf("%032x.json.tmp", 7))
	os.WriteFile(tmp, []byte("{"), 0o640)
	cfg.CaptureJobs = 5
	get := f.restart(t, cfg, io.Discard)
	for i, loc := range locs {
		if status, _ := get(loc, brandKey); status != map[bool]int{true: 200, false: 404}[i >= 15] {
			t.Errorf("job %d of 20 after a start keeping 5: %d", i+1, status)
		}
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("a file that is no job's: %v", err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("a job's leftover .tmp: %v", err)
	}
}
