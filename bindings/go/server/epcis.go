package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

// The EPCIS 2.0 REST interface (capture and query), the parts this
// server implements: see docs/server.md.

func gs1Headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("GS1-EPCIS-Version", "2.0.0")
	h.Set("GS1-CBV-Version", "2.0.0")
	h.Set("GS1-EPC-Format", "Always_GS1_Digital_Link")
}

func (s *Server) captureHeaders(w http.ResponseWriter) {
	gs1Headers(w)
	w.Header().Set("GS1-EPCIS-Capture-Limit", strconv.Itoa(s.cfg.CaptureMax))
	w.Header().Set("GS1-EPCIS-Capture-File-Size-Limit", strconv.FormatInt(int64(s.cfg.BodyLimit), 10))
}

// ---- capture jobs ----

// captureJob is the outcome of one POST /capture (EPCIS 2.0 CaptureJob).
type captureJob struct {
	CaptureID             string            `json:"captureID"`
	CreatedAt             time.Time         `json:"createdAt"`
	FinishedAt            time.Time         `json:"finishedAt"`
	Running               bool              `json:"running"`
	Success               bool              `json:"success"`
	CaptureErrorBehaviour string            `json:"captureErrorBehaviour"`
	Errors                []*Problem        `json:"errors"`
	Report                *tnt.IngestReport `json:"report"` // per event: accepted, duplicate or rejected
	partner               string
	size                  int64 // bytes of its JSON (its file)
}

// captureJobs remembers the latest jobs, at most max of them and budget
// bytes of their JSON (the newest one whatever its size): in memory, and
// one JSON file per job in dir (when set), so that a restart does not
// forget them. Every job is finished (capture is synchronous), so the
// oldest are forgotten first.
type captureJobs struct {
	mu     sync.Mutex
	byID   map[string]*captureJob
	order  []string // oldest first
	total  int64    // bytes of the jobs in order
	max    int
	budget int64
	dir    string
	log    *slog.Logger
}

// storedJob is a job's file.
type storedJob struct {
	Partner string      `json:"partner"`
	Job     *captureJob `json:"job"`
}

// defaultJobsBytes is the default of capture_jobs_bytes.
const defaultJobsBytes = 64 << 20

// newCaptureJobs prepares dir; load reads the jobs kept in it.
func newCaptureJobs(max int, dir string, log *slog.Logger) (*captureJobs, error) {
	c := &captureJobs{byID: map[string]*captureJob{}, max: max, budget: defaultJobsBytes, dir: dir, log: log}
	if dir == "" {
		return c, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("capture jobs: %w", err)
	}
	return c, nil
}

// load sets the byte budget and reads the jobs of earlier runs, newest
// first (by their files' modification times), as many as max and budget
// keep; the files of older jobs are removed unread, so a start reads at
// most budget bytes (and one job).
func (c *captureJobs) load(budget int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.budget = budget
	if c.dir == "" {
		return
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		c.log.Warn("capture jobs: cannot list the jobs of earlier runs", "dir", c.dir, "error", err)
		return
	}
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		// only the server's own files: <capture id>.json, and the .tmp of
		// one a crash interrupted (removed); others are left alone
		if id, ok := strings.CutSuffix(e.Name(), ".json.tmp"); ok && isCaptureID(id) {
			os.Remove(filepath.Join(c.dir, e.Name()))
			continue
		}
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && isCaptureID(id) {
			files = append(files, file{filepath.Join(c.dir, e.Name()), info.Size(), info.ModTime()})
		}
	}
	// newest first: a job file's time is its job's createdAt (set when
	// written), as the file system's own would tie for jobs close together
	sort.Slice(files, func(i, j int) bool {
		if !files[i].mod.Equal(files[j].mod) {
			return files[i].mod.After(files[j].mod)
		}
		return files[i].path > files[j].path
	})
	var jobs []*captureJob
	var total int64
	for i, f := range files {
		if len(jobs) >= c.max || len(jobs) > 0 && total+f.size > budget {
			for _, old := range files[i:] {
				os.Remove(old.path)
			}
			break
		}
		b, err := os.ReadFile(f.path)
		var sj storedJob
		if err == nil {
			err = json.Unmarshal(b, &sj)
		}
		if err != nil || sj.Job == nil || sj.Job.CaptureID+".json" != filepath.Base(f.path) {
			c.log.Warn("capture jobs: skipping an unreadable job file", "file", f.path, "error", err)
			continue
		}
		sj.Job.partner, sj.Job.size = sj.Partner, int64(len(b))
		jobs = append(jobs, sj.Job)
		total += sj.Job.size
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].CreatedAt.Before(jobs[j].CreatedAt) })
	for _, j := range jobs {
		c.remember(j)
	}
}

// remember keeps j, forgetting the oldest jobs beyond max and budget; the
// caller holds mu.
func (c *captureJobs) remember(j *captureJob) {
	c.byID[j.CaptureID] = j
	c.order = append(c.order, j.CaptureID)
	c.total += j.size
	for len(c.order) > 1 && (len(c.order) > c.max || c.total > c.budget) {
		old := c.byID[c.order[0]]
		delete(c.byID, old.CaptureID)
		c.order = c.order[1:]
		c.total -= old.size
		if c.dir != "" {
			os.Remove(filepath.Join(c.dir, old.CaptureID+".json"))
		}
	}
}

func (c *captureJobs) add(j *captureJob) {
	// its size is its file's, whether or not it is written
	b, err := json.Marshal(storedJob{Partner: j.partner, Job: j})
	j.size = int64(len(b))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remember(j)
	if c.dir == "" {
		return
	}
	// written whole, then renamed: a crash leaves the old file or the new one
	path := filepath.Join(c.dir, j.CaptureID+".json")
	if err == nil {
		err = os.WriteFile(path+".tmp", b, 0o640)
	}
	if err == nil && !j.CreatedAt.IsZero() {
		err = os.Chtimes(path+".tmp", j.CreatedAt, j.CreatedAt) // the order of the jobs at the next start
	}
	if err == nil {
		err = os.Rename(path+".tmp", path)
	}
	if err != nil {
		c.log.Warn("capture jobs: a job is kept in memory only", "capture", j.CaptureID, "error", err)
	}
}

// isCaptureID: the form newID makes (32 lower-case hex digits).
func isCaptureID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

func (c *captureJobs) get(id, partner string) *captureJob {
	c.mu.Lock()
	defer c.mu.Unlock()
	if j := c.byID[id]; j != nil && j.partner == partner {
		return j
	}
	return nil
}

func (c *captureJobs) list(partner string, max int) []*captureJob {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []*captureJob{}
	for i := len(c.order) - 1; i >= 0 && len(out) < max; i-- {
		if j := c.byID[c.order[i]]; j.partner == partner {
			out = append(out, j)
		}
	}
	return out
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// capture takes an EPCIS document. It is stored before the answer (202,
// with the job at Location), so the job is finished when the client asks.
func (s *Server) capture(w http.ResponseWriter, r *http.Request, p *Partner) {
	s.captureHeaders(w)
	f, pr := bodyFormat(r, formatJSON)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	behaviour, pr := errorBehaviour(r)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	body, pr := s.readShaped(w, r, f)
	if pr == nil && !isEPCISDocument(body) {
		pr = problem("bad-request", http.StatusBadRequest, `POST /capture takes an EPCISDocument ("type": "EPCISDocument"); send single events to POST /events`)
	}
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	job := &captureJob{CaptureID: newID(), CreatedAt: time.Now().UTC(), CaptureErrorBehaviour: behaviour, Errors: []*Problem{}, partner: p.ID}
	c, pr := s.ingest(r.Context(), p, body, behaviour, s.cfg.CaptureMax, nil, nil)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	job.FinishedAt = time.Now().UTC()
	job.Report = c.report
	job.Success = c.report.Rejected == 0
	for _, res := range c.report.Results {
		if res.Status == tnt.Rejected {
			ep := epcisException(problem("invalid-events", http.StatusBadRequest, fmt.Sprintf("event %d was rejected", res.Index)), http.MethodPost)
			for _, e := range res.Errors {
				ep.Errors = append(ep.Errors, EventProblem{Index: res.Index, Code: e.Code, Path: e.Path, Message: e.Message})
			}
			job.Errors = append(job.Errors, ep)
		}
	}
	s.jobs.add(job)
	w.Header().Set("Location", "/capture/"+job.CaptureID)
	writeJSON(w, http.StatusAccepted, job)
}

// isEPCISDocument peeks at the document's type without reading its events.
func isEPCISDocument(body []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return false
		}
		if k == "type" {
			var v string
			return dec.Decode(&v) == nil && v == "EPCISDocument"
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

func (s *Server) captureJob(w http.ResponseWriter, r *http.Request, p *Partner) {
	gs1Headers(w)
	j := s.jobs.get(r.PathValue("id"), p.ID)
	if j == nil {
		writeProblem(w, r, problem("not-found", http.StatusNotFound, "no capture job "+strconv.Quote(r.PathValue("id"))))
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Server) captureList(w http.ResponseWriter, r *http.Request, p *Partner) {
	gs1Headers(w)
	n, pr := intParam(r, "perPage", 30, 1000)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	writeJSON(w, http.StatusOK, s.jobs.list(p.ID, n))
}

// captureEvent takes one event: 201 with its Location, or 409 when an
// event with the same hash, or another with its eventID, is stored already.
// The server reads the event once, to check it (validity, the partner's
// entitlement, its eventID), and the engine once more to store it, under
// its own limits: an event it rejects is 413 when too big, else 400.
func (s *Server) captureEvent(w http.ResponseWriter, r *http.Request, p *Partner) {
	s.captureHeaders(w)
	f, pr := bodyFormat(r, formatJSON)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	oneEvent := problem("bad-request", http.StatusBadRequest, "POST /events takes one event; send documents to POST /capture")
	body, pr := s.readShaped(w, r, f)
	if pr == nil && isEPCISDocument(body) {
		pr = oneEvent
	}
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	var given string
	c, pr := s.ingest(r.Context(), p, body, "rollback", 1, oneEvent, func(ev *tnt.Event) *Problem {
		given = ev.EventID
		return s.eventIDTaken(w, r, p, given)
	})
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	res := c.report.Results[0]
	if res.Status == tnt.Rejected {
		var errs []EventProblem
		tooBig := false
		for _, e := range res.Errors {
			errs = append(errs, EventProblem{Index: res.Index, Code: e.Code, Path: e.Path, Message: e.Message})
			tooBig = tooBig || e.Code == "TOO_BIG"
		}
		pr := problem("invalid-events", http.StatusBadRequest, "the event was rejected; nothing was stored")
		if tooBig {
			pr = problem("too-large", http.StatusRequestEntityTooLarge, "the event is too big to store; nothing was stored")
		}
		pr.Errors = errs
		writeProblem(w, r, pr)
		return
	}
	loc := "/events/" + url.PathEscape(res.Hash)
	w.Header().Set("Location", loc)
	if res.Status == tnt.Duplicate {
		pr := problem("duplicate", http.StatusConflict, "an event with the same hash is stored already: "+res.Hash)
		writeProblem(w, r, pr)
		return
	}
	id := given
	if id == "" {
		id = res.Hash // its identity, as the engine computed it
	}
	writeJSON(w, http.StatusCreated, map[string]string{"eventID": id, "hash": res.Hash, "location": loc})
}

// eventIDTaken: an eventID names one event (EPCIS 2.0), so an event sent
// with an eventID that a stored event has is a conflict (the same event
// sent again too); Location names that event if the partner may see it.
func (s *Server) eventIDTaken(w http.ResponseWriter, r *http.Request, p *Partner, eventID string) *Problem {
	if eventID == "" {
		return nil
	}
	other, err := s.eng.Event(r.Context(), eventID)
	if errors.Is(err, tnt.ErrNotFound) || errors.Is(err, tnt.ErrInvalid) {
		return nil
	}
	if err != nil {
		return errorProblem(err)
	}
	if ok, err := s.canSeeEvent(r.Context(), p, other); err != nil {
		return errorProblem(err)
	} else if ok {
		w.Header().Set("Location", "/events/"+url.PathEscape(other.HashID))
	}
	return problem("duplicate", http.StatusConflict, "an event with the eventID "+strconv.Quote(eventID)+" is stored already")
}

// event returns one event by its hash ID, or by the eventID its sender gave
// it (the first event stored with that eventID).
func (s *Server) event(w http.ResponseWriter, r *http.Request, p *Partner) {
	gs1Headers(w)
	if !acceptsJSON(r) {
		notAcceptable(w, r)
		return
	}
	ev, pr := s.findEvent(r, p)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	writeJSON(w, http.StatusOK, queryDocument([]json.RawMessage{eventWithoutContext(ev.JSON)}))
}

// findEvent is the event at /events/{id}, if the partner may see it.
func (s *Server) findEvent(r *http.Request, p *Partner) (*tnt.Event, *Problem) {
	id := r.PathValue("id")
	if strings.IndexByte(id, 0) >= 0 { // the library refuses it; it is no unknown id
		return nil, problem("invalid-id", http.StatusBadRequest, "the event id holds a NUL byte")
	}
	ev, err := s.eng.Event(r.Context(), id)
	if errors.Is(err, tnt.ErrInvalid) || errors.Is(err, tnt.ErrNotFound) {
		return nil, problem("not-found", http.StatusNotFound,
			"no event "+strconv.Quote(id)+" is known to you (events are found by their hash ID, ni:///sha-256;…?ver=CBV2.0, or by the eventID they were sent with)")
	}
	if err != nil {
		return nil, errorProblem(err)
	}
	if ok, err := s.canSeeEvent(r.Context(), p, ev); err != nil {
		return nil, errorProblem(err)
	} else if !ok {
		return nil, problem("not-found", http.StatusNotFound, "no event "+strconv.Quote(id)+" is known to you")
	}
	return ev, nil
}

// ---- discovery ----

// epcisSetup adds the EPCIS 2.0 discovery (OPTIONS) of the endpoints this
// server serves, and loads the capture jobs of earlier runs.
func (s *Server) epcisSetup() {
	m := s.mux
	m.HandleFunc("OPTIONS /{$}", s.publicOnly(func(w http.ResponseWriter, r *http.Request) {
		discovered(w, "OPTIONS, GET, HEAD")
	}))
	m.HandleFunc("OPTIONS /capture", s.partnerOnly(func(w http.ResponseWriter, r *http.Request, p *Partner) {
		s.captureHeaders(w)
		w.Header().Set("GS1-Capture-Error-Behaviour", "rollback") // unless the request says proceed
		discovered(w, "OPTIONS, GET, HEAD, POST")
	}))
	m.HandleFunc("OPTIONS /capture/{id}", s.partnerOnly(func(w http.ResponseWriter, r *http.Request, p *Partner) {
		if s.jobs.get(r.PathValue("id"), p.ID) == nil {
			writeProblem(w, r, problem("not-found", http.StatusNotFound, "no capture job "+strconv.Quote(r.PathValue("id"))))
			return
		}
		discovered(w, "OPTIONS, GET, HEAD")
	}))
	m.HandleFunc("OPTIONS /events", s.partnerOnly(func(w http.ResponseWriter, r *http.Request, p *Partner) {
		discovered(w, "OPTIONS, GET, HEAD, POST")
	}))
	m.HandleFunc("OPTIONS /events/{id}", s.partnerOnly(func(w http.ResponseWriter, r *http.Request, p *Partner) {
		if _, pr := s.findEvent(r, p); pr != nil {
			writeProblem(w, r, pr)
			return
		}
		discovered(w, "OPTIONS, GET, HEAD")
	}))
	s.jobs.load(int64(s.cfg.CaptureJobsBytes))
}

// discovered answers an OPTIONS (204): the methods the resource takes, and
// the versions and formats of this server. It names no GS1-Extensions (it
// defines none) and no GS1-CBV-XML-Format (it answers JSON only).
func discovered(w http.ResponseWriter, allow string) {
	gs1Headers(w)
	h := w.Header()
	h.Set("Allow", allow)
	h.Set("GS1-EPCIS-Min", "2.0.0")
	h.Set("GS1-EPCIS-Max", "2.0.0")
	h.Set("GS1-CBV-Min", "2.0.0")
	h.Set("GS1-CBV-Max", "2.0.0")
	h.Set("GS1-Vendor-Version", "libtnt/"+tnt.LibraryVersion())
	w.WriteHeader(http.StatusNoContent)
}

// isEPCISPath: the EPCIS 2.0 endpoints, whose problems are typed as the
// EPCIS 2.0 REST binding's exceptions (epcisException).
func isEPCISPath(path string) bool {
	for _, root := range []string{"/capture", "/events"} {
		if path == root || strings.HasPrefix(path, root+"/") {
			return true
		}
	}
	return false
}

// acceptsJSON: the request's Accept allows JSON (no Accept does too).
// EPCIS 2.0 answers other media types (application/xml) with 406.
func acceptsJSON(r *http.Request) bool {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return true
	}
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			fields := strings.Split(part, ";")
			mt := strings.ToLower(strings.TrimSpace(fields[0]))
			zero := false
			for _, prm := range fields[1:] {
				if kv := strings.SplitN(strings.TrimSpace(prm), "=", 2); len(kv) == 2 && kv[0] == "q" {
					q, err := strconv.ParseFloat(kv[1], 64)
					zero = err == nil && q == 0
				}
			}
			if !zero && (mt == "application/json" || mt == "application/ld+json" || mt == "application/*" || mt == "*/*") {
				return true
			}
		}
	}
	return false
}

func notAcceptable(w http.ResponseWriter, r *http.Request) {
	pr := problem("not-acceptable", http.StatusNotAcceptable, "this server answers EPCIS in JSON (application/json, application/ld+json)")
	writeProblem(w, r, pr)
}

// ---- query ----

var queryParams = map[string]bool{
	"eventType": true, "GE_eventTime": true, "LT_eventTime": true, "GE_recordTime": true, "LT_recordTime": true,
	"EQ_bizStep": true, "EQ_disposition": true, "EQ_readPoint": true, "EQ_bizLocation": true,
	"MATCH_epc": true, "MATCH_anyEPC": true, "perPage": true, "nextPageToken": true,
}

var eventTypes = map[string]tnt.EventType{
	"ObjectEvent": tnt.ObjectEvent, "AggregationEvent": tnt.AggregationEvent, "TransactionEvent": tnt.TransactionEvent,
	"TransformationEvent": tnt.TransformationEvent, "AssociationEvent": tnt.AssociationEvent,
}

// listParam reads a list: repeated parameters, each a list delimited by |
// (the EPCIS 2.0 OpenAPI's pipeDelimited); a value without | may also be
// comma-separated, as earlier versions of this server took, unless it is a
// geo: URI, whose comma is its own.
func listParam(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		sep := "|"
		if !strings.Contains(v, "|") && !strings.HasPrefix(strings.TrimSpace(v), "geo:") {
			sep = ","
		}
		for _, x := range strings.Split(v, sep) {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

// parseQuery reads the standard query parameters; none: the query can
// match no event (a bound before 1970), so the engine is not asked.
func parseQuery(q url.Values) (out tnt.Query, none bool, pr *Problem) {
	bad := func(format string, a ...any) (tnt.Query, bool, *Problem) {
		return tnt.Query{}, false, problem("bad-request", http.StatusBadRequest, fmt.Sprintf(format, a...))
	}
	for k := range q {
		if !queryParams[k] {
			return bad("unknown query parameter %q (this server supports eventType, GE_/LT_eventTime, GE_/LT_recordTime, EQ_bizStep, EQ_disposition, EQ_readPoint, EQ_bizLocation, MATCH_epc, MATCH_anyEPC, perPage, nextPageToken)", k)
		}
	}
	for _, t := range listParam(q, "eventType") {
		et, ok := eventTypes[t]
		if !ok {
			return bad("eventType %q is not an EPCIS event type", t)
		}
		out.EventTypes = append(out.EventTypes, et)
	}
	times := map[string]*time.Time{"GE_eventTime": &out.GEEventTime, "LT_eventTime": &out.LTEventTime,
		"GE_recordTime": &out.GERecordTime, "LT_recordTime": &out.LTRecordTime}
	for name, dst := range times {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(v)) // RFC 3339 allows t and z
			if err != nil {
				return bad("%s must be a date-time like 2024-03-01T10:00:00Z", name)
			}
			if t.Nanosecond()%int(time.Millisecond) != 0 {
				// times are kept to the millisecond: GE a fraction is GE the next one, LT a fraction LT it too
				t = t.Truncate(time.Millisecond).Add(time.Millisecond)
			}
			if t.UnixMilli() <= 0 && strings.HasPrefix(name, "LT_") {
				none = true // before 1970: the engine's zero would mean no bound
			}
			*dst = t
		}
	}
	for _, m := range append(listParam(q, "MATCH_epc"), listParam(q, "MATCH_anyEPC")...) {
		if strings.HasPrefix(strings.ToLower(m), "urn:epc:idpat:") {
			return bad("EPC patterns (%s) are not supported here: name the identifiers", m)
		}
	}
	// Values (CBV names or URIs, identifiers in any form) are checked by the engine.
	out.BizSteps = listParam(q, "EQ_bizStep")
	out.Dispositions = listParam(q, "EQ_disposition")
	out.ReadPoints = listParam(q, "EQ_readPoint")
	out.BizLocations = listParam(q, "EQ_bizLocation")
	out.MatchEPCs = listParam(q, "MATCH_epc")
	out.MatchAnyEPCs = listParam(q, "MATCH_anyEPC")
	if v := q.Get("perPage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return bad("perPage must be a whole number from 1")
		}
		out.Limit = min(n, 1000) // the server's cap, which a client does not override
	}
	out.PageToken = q.Get("nextPageToken")
	return out, none, nil
}

func (s *Server) queryEvents(w http.ResponseWriter, r *http.Request, p *Partner) {
	gs1Headers(w)
	if !acceptsJSON(r) {
		notAcceptable(w, r)
		return
	}
	q, none, pr := parseQuery(r.URL.Query())
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	perPage := q.Limit
	events := make([]json.RawMessage, 0, perPage)
	if none {
		writeJSON(w, http.StatusOK, queryDocument(events))
		return
	}
	// Events the partner may not see are left out. A page they made short
	// but not the last would show that they exist, so the engine's next
	// pages are read, for as many events as are missing, until the page is
	// full or the last (within maxReads).
	next := q.PageToken
	for reads := 0; reads < maxReads; reads++ {
		q.PageToken, q.Limit = next, perPage-len(events)
		page, err := s.eng.Query(r.Context(), q)
		if err != nil {
			writeProblem(w, r, errorProblem(err))
			return
		}
		for _, ev := range page.Events {
			ok, err := s.canSeeEvent(r.Context(), p, ev)
			if err != nil {
				writeProblem(w, r, errorProblem(err))
				return
			}
			if ok {
				events = append(events, eventWithoutContext(ev.JSON))
			}
		}
		next = page.Next
		if next == "" || len(page.Events) == 0 || len(events) == perPage {
			break
		}
	}
	if next != "" {
		link := r.URL.Query()
		link.Set("nextPageToken", next)
		link.Set("perPage", strconv.Itoa(perPage))
		w.Header().Set("Link", "</events?"+link.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, queryDocument(events))
}

// maxReads bounds the engine pages read for one query page.
const maxReads = 11

var epcisContext = []any{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"}

func queryDocument(events []json.RawMessage) any {
	return map[string]any{
		"@context":      epcisContext,
		"type":          "EPCISQueryDocument",
		"schemaVersion": "2.0",
		"creationDate":  time.Now().UTC().Format(time.RFC3339Nano),
		"epcisBody": map[string]any{
			"queryResults": map[string]any{
				"queryName":   "SimpleEventQuery",
				"resultsBody": map[string]any{"eventList": events},
			},
		},
	}
}

// eventWithoutContext keeps an event's own namespaces but drops the
// standard context, which the query document carries once.
func eventWithoutContext(j json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(j, &m) != nil {
		return j
	}
	var ctx []json.RawMessage
	if json.Unmarshal(m["@context"], &ctx) == nil {
		var keep []json.RawMessage
		for _, c := range ctx {
			if string(c) != `"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"` {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			delete(m, "@context")
		} else {
			m["@context"], _ = json.Marshal(keep)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return j
	}
	return out
}
