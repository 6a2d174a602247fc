package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

// ---- request bodies ----

type format int

const (
	formatJSON format = iota
	formatProtobuf
	formatCSV
)

// bodyFormat reads the Content-Type; allowed lists the formats the endpoint takes.
func bodyFormat(r *http.Request, allowed ...format) (format, *Problem) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	f := format(-1)
	if err == nil {
		switch mt {
		case "application/json", "application/ld+json":
			f = formatJSON
		case "application/protobuf", "application/x-protobuf", "application/vnd.google.protobuf":
			f = formatProtobuf
		case "text/csv":
			f = formatCSV
		}
	}
	for _, a := range allowed {
		if a == f {
			return f, nil
		}
	}
	names := map[format]string{formatJSON: "application/json, application/ld+json",
		formatProtobuf: "application/x-protobuf (tnt.v1.Batch)", formatCSV: "text/csv"}
	var want []string
	for _, a := range allowed {
		want = append(want, names[a])
	}
	got := r.Header.Get("Content-Type")
	if got == "" {
		got = "none"
	}
	return 0, problem("unsupported-media", http.StatusUnsupportedMediaType,
		"Content-Type "+got+" is not accepted here; send "+strings.Join(want, ", or "))
}

// readBody reads the whole body within the configured limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Problem) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.cfg.BodyLimit)))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, problem("timeout", http.StatusRequestTimeout, "the body did not arrive in time")
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorProblem(err)
		}
		return nil, problem("bad-request", http.StatusBadRequest, "reading the body: "+err.Error())
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, problem("bad-request", http.StatusBadRequest, "the body is empty")
	}
	return body, nil
}

// readShaped reads the body (readBody) and checks that it looks like the
// format its Content-Type named (checkShape).
func (s *Server) readShaped(w http.ResponseWriter, r *http.Request, f format) ([]byte, *Problem) {
	body, pr := s.readBody(w, r)
	if pr == nil {
		pr = checkShape(body, f)
	}
	return body, pr
}

// checkShape refuses a body whose first byte contradicts its Content-Type.
// A protobuf body may start like JSON (a batch whose first event is 123
// bytes long starts with "\n{"), so it is called JSON only when it is.
func checkShape(body []byte, f format) *Problem {
	t := bytes.TrimLeft(body, " \t\r\n")
	startsJSON := len(t) > 0 && (t[0] == '{' || t[0] == '[')
	if f == formatJSON && !startsJSON {
		return problem("malformed", http.StatusBadRequest, "the body is not JSON (it must start with { or [)")
	}
	if f == formatProtobuf && startsJSON && json.Valid(body) {
		return problem("malformed", http.StatusBadRequest, "the body is JSON, but Content-Type says protobuf")
	}
	return nil
}

// ---- capture: authorisation, validation, ingest ----

// errorBehaviour is GS1-Capture-Error-Behaviour: "rollback" (the default:
// one invalid event refuses the whole request) or "proceed" (valid events
// are stored, invalid ones reported).
func errorBehaviour(r *http.Request) (string, *Problem) {
	v := strings.ToLower(strings.TrimSpace(r.Header.Get("GS1-Capture-Error-Behaviour")))
	switch v {
	case "", "rollback":
		return "rollback", nil
	case "proceed":
		return "proceed", nil
	}
	return "", problem("bad-request", http.StatusBadRequest, "GS1-Capture-Error-Behaviour must be rollback or proceed")
}

// captured is the outcome of storing a request's events.
type captured struct {
	report *tnt.IngestReport
}

// ingest reads a document, checks that the partner may report every event
// in it, valid or not, and that the events are valid (unless proceed),
// then stores it.
// Nothing is stored when it returns a problem. The events are checked as
// they are read and not kept: the check needs the document's bytes only.
// tooMany is the answer to more than maxEvents events (nil: 413); check,
// if set, is asked about the first event just before the store (a problem
// refuses the request).
func (s *Server) ingest(ctx context.Context, p *Partner, body []byte, behaviour string, maxEvents int, tooMany *Problem,
	check func(first *tnt.Event) *Problem) (*captured, *Problem) {
	var denied, invalid []EventProblem
	var first *tnt.Event
	n, bad := 0, map[int]bool{}
	errTooMany := errors.New("too many events")
	err := tnt.ReadEach(ctx, bytes.NewReader(body), &tnt.ReaderOptions{Flags: tnt.ReadValidate | tnt.ReadNormalize},
		func(ev *tnt.Event) error {
			if n++; maxEvents > 0 && n > maxEvents {
				return errTooMany
			}
			if n == 1 {
				first = ev
			}
			if !ev.Valid {
				bad[ev.Index] = true
				for _, e := range ev.Errors {
					invalid = append(invalid, EventProblem{Index: ev.Index, Code: e.Code, Path: e.Path, Message: e.Message})
				}
			}
			// Invalid events too: the engine validates the document again
			// when it stores it, under its own limits and clock, and may
			// accept an event found invalid here (one in the future).
			ok, why, err := s.mayReport(ctx, p, ev)
			if err != nil {
				return err
			}
			if !ok {
				denied = append(denied, EventProblem{Index: ev.Index, Code: "FORBIDDEN", Message: why})
			}
			return nil
		})
	if err == errTooMany {
		if tooMany == nil {
			tooMany = problem("too-large", http.StatusRequestEntityTooLarge,
				fmt.Sprintf("more than %d events; at most %d per request", maxEvents, maxEvents))
		}
		return nil, tooMany
	}
	if err != nil {
		pr := errorProblem(err)
		if pr.Status == http.StatusBadRequest {
			pr.Type, pr.Title = problemBase+"malformed", problemTitles["malformed"]
		}
		return nil, pr
	}
	if n == 0 {
		return nil, problem("bad-request", http.StatusBadRequest, "the document holds no events")
	}
	// Invalid events that refuse the request never reach the engine, so
	// whose they are does not matter; any other event must be the partner's.
	refused := len(bad) > 0 && (behaviour == "rollback" || len(bad) == n)
	var forbidden []EventProblem
	for _, d := range denied {
		if !refused || !bad[d.Index] {
			forbidden = append(forbidden, d)
		}
	}
	if len(forbidden) > 0 {
		s.metrics.events.WithLabelValues("forbidden").Add(float64(n))
		pr := problem("forbidden", http.StatusForbidden,
			fmt.Sprintf("%d of %d events are not yours to report; nothing was stored", len(forbidden), n))
		pr.Errors = forbidden
		return nil, pr
	}
	if refused {
		s.metrics.events.WithLabelValues("rejected").Add(float64(n))
		pr := problem("invalid-events", http.StatusBadRequest,
			fmt.Sprintf("%d of %d events are invalid; nothing was stored", len(bad), n))
		if behaviour == "rollback" && len(bad) < n {
			pr.Detail += " (send GS1-Capture-Error-Behaviour: proceed to store the valid ones)"
		}
		pr.Errors = invalid
		return nil, pr
	}
	if check != nil {
		if pr := check(first); pr != nil {
			return nil, pr
		}
	}
	before := s.writeErr.Load()
	rep, err := s.eng.Ingest(ctx, body)
	s.wrote(before, err)
	if rep != nil {
		s.metrics.events.WithLabelValues("accepted").Add(float64(rep.Accepted))
		s.metrics.events.WithLabelValues("duplicate").Add(float64(rep.Duplicates))
		s.metrics.events.WithLabelValues("rejected").Add(float64(rep.Rejected))
	}
	if err != nil {
		return nil, partlyStored(errorProblem(err), rep, n)
	}
	return &captured{report: rep}, nil
}

// partlyStored adds to the problem of a failed ingest of n events what the
// engine stored before it failed, if anything: its errors list each event
// that was not stored (those the engine did not reach as NOT_STORED), so
// that the client sends those again.
func partlyStored(pr *Problem, rep *tnt.IngestReport, n int) *Problem {
	if pr.Status < 500 || rep == nil || rep.Accepted+rep.Duplicates == 0 {
		return pr
	}
	pr.Detail = fmt.Sprintf("%d of %d events were stored when the engine failed; errors lists those that were not "+
		"(sending them, or the whole request, again is safe): %s", rep.Accepted+rep.Duplicates, n, pr.Detail)
	for _, res := range rep.Results {
		if res.Status == tnt.Rejected {
			for _, e := range res.Errors {
				pr.Errors = append(pr.Errors, EventProblem{Index: res.Index, Code: e.Code, Path: e.Path, Message: e.Message})
			}
		}
	}
	for i := len(rep.Results); i < n; i++ {
		pr.Errors = append(pr.Errors, EventProblem{Index: i, Code: "NOT_STORED", Message: "not reached: the engine failed before it"})
	}
	return pr
}

// mayReport: the partner may report an event that happened at its
// locations (every GLN read point and business location is its own); an
// event with no such location (in transit, a geo: point) must name one of
// its locations as source or destination, or be about its products or
// products it has handled. An invalid event is judged on what could be
// read of it; one whose read point or business location could not be read
// is not provably the partner's.
func (s *Server) mayReport(ctx context.Context, p *Partner, ev *tnt.Event) (bool, string, error) {
	if p.all {
		return true, "", nil
	}
	for _, e := range ev.Errors {
		if f := locationField(e.Path); f != "" {
			return false, "the event's " + f + " cannot be read (" + e.Message + "), so it is not provably yours", nil
		}
	}
	sited := false
	for _, l := range []string{ev.ReadPoint, ev.BizLocation} {
		if gln(l) == "" {
			continue
		}
		sited = true
		if !p.OwnsLocation(l) {
			return false, "the event happens at " + l + ", which is not one of your locations", nil
		}
	}
	if why := ownersOnly(p, ev); why != "" {
		return false, why, nil
	}
	if sited {
		return true, "", nil
	}
	for _, r := range append(append([]tnt.Ref{}, ev.Sources...), ev.Destinations...) {
		if p.OwnsLocation(r.Value) {
			return true, "", nil
		}
	}
	objects := ev.Objects()
	for _, o := range objects {
		if p.OwnsObject(o) {
			continue
		}
		ok, err := s.canSeeID(ctx, p, o)
		if err != nil {
			return false, "", err
		}
		if !ok {
			return false, "the event has none of your locations and is about " + o + ", which you have not handled", nil
		}
	}
	if len(objects) == 0 {
		return false, "the event names none of your locations or products", nil
	}
	return true, "", nil
}

// ownersOnly: two acts speak for a product's brand, wherever they happen,
// and are its company's alone (or a partner given its prefix, such as a
// contract manufacturer): bringing units into existence (commissioning, or
// an ObjectEvent ADD), which makes a serial genuine, and recalling a class
// of products (a GTIN or a lot), which makes every unit of it DO_NOT_USE.
// "" when the event is neither, or all of it is the partner's.
func ownersOnly(p *Partner, ev *tnt.Event) string {
	if ev.BizStep == "commissioning" || (ev.Type == tnt.ObjectEvent && ev.Action == tnt.Add) {
		for _, o := range ev.Objects() {
			if !p.OwnsObject(o) {
				return "only its brand owner commissions " + o
			}
		}
	}
	if ev.Disposition == "recalled" {
		for _, l := range [][]tnt.Quantity{ev.Quantities, ev.ChildQuantities, ev.InputQuantities, ev.OutputQuantities} {
			for _, q := range l {
				if !p.OwnsObject(q.Class) {
					return "only its brand owner recalls the class " + q.Class
				}
			}
		}
	}
	return ""
}

// locationField names the read point, business location or (in a simple
// report) location that a validation error's path points into, or "".
func locationField(path string) string {
	for _, f := range []string{"readPoint", "bizLocation", "location"} {
		if i := strings.LastIndex(path, "."+f); i >= 0 {
			if rest := path[i+1+len(f):]; rest == "" || rest[0] == '.' || rest[0] == '[' {
				return f
			}
		}
	}
	return ""
}

// ---- visibility ----

var errStop = errors.New("stop")

// canSee: a partner sees a product it owns (company prefix), one that is at
// one of its locations now, one whose journey touches it (an event at its
// locations or about its objects), or one packed in a case or pallet it can
// see.
func (s *Server) canSee(ctx context.Context, p *Partner, tr *tnt.Track, depth int) (bool, error) {
	if p.all || p.OwnsObject(tr.ID) || p.OwnsLocation(tr.BizLocation) || p.OwnsLocation(tr.ReadPoint) {
		return true, nil
	}
	key := p.ID + "\x00" + tr.ID
	if s.handled.get(key) {
		return true, nil
	}
	found := false
	err := s.eng.Journey(ctx, tr.ID, func(ev *tnt.Event) error {
		if p.Touches(ev) {
			found = true
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) && !errors.Is(err, tnt.ErrNotFound) {
		return false, err
	}
	if !found && tr.Parent != "" && depth < 8 {
		parent, err := s.eng.Track(ctx, tr.Parent)
		if err == nil {
			found, err = s.canSee(ctx, p, parent, depth+1)
		}
		if err != nil && !errors.Is(err, tnt.ErrNotFound) {
			return false, err
		}
	}
	if found {
		s.handled.put(key)
	}
	return found, nil
}

// canSeeID is canSee for an identifier; an unknown one is not seen.
func (s *Server) canSeeID(ctx context.Context, p *Partner, id string) (bool, error) {
	if p.all || p.OwnsObject(id) {
		return true, nil
	}
	if s.handled.get(p.ID + "\x00" + id) {
		return true, nil
	}
	tr, err := s.eng.Track(ctx, id)
	if errors.Is(err, tnt.ErrNotFound) || errors.Is(err, tnt.ErrInvalid) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.canSee(ctx, p, tr, 0)
}

// canSeeEvent: the event touches the partner, or is about a product it can see.
func (s *Server) canSeeEvent(ctx context.Context, p *Partner, ev *tnt.Event) (bool, error) {
	if p.Touches(ev) {
		return true, nil
	}
	for _, o := range ev.Objects() {
		if ok, err := s.canSeeID(ctx, p, o); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// ---- track and history ----

func notFound(id string) *Problem {
	return problem("not-found", http.StatusNotFound, "no product "+strconv.Quote(id)+" is known to you")
}

// lookup tracks a product the partner may see; the problem is 400 for a
// malformed identifier and 404 for one unknown or not the partner's to see.
func (s *Server) lookup(ctx context.Context, p *Partner, id string) (*tnt.Track, *Problem) {
	tr, err := s.eng.Track(ctx, id)
	if errors.Is(err, tnt.ErrNotFound) {
		return nil, notFound(id)
	}
	if errors.Is(err, tnt.ErrInvalid) {
		pr := errorProblem(err)
		pr.Type, pr.Title = problemBase+"invalid-id", problemTitles["invalid-id"]
		return nil, pr
	}
	if err != nil {
		return nil, errorProblem(err)
	}
	ok, err := s.canSee(ctx, p, tr, 0)
	if err != nil {
		return nil, errorProblem(err)
	}
	if !ok {
		return nil, notFound(id)
	}
	return tr, nil
}

func (s *Server) track(w http.ResponseWriter, r *http.Request, p *Partner) {
	tr, pr := s.lookup(r.Context(), p, r.PathValue("id"))
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	writeRaw(w, http.StatusOK, "application/json", tr.JSON)
}

// intParam reads a positive integer query parameter within [1, max].
func intParam(r *http.Request, name string, def, max int) (int, *Problem) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, problem("bad-request", http.StatusBadRequest, fmt.Sprintf("%s must be a whole number from 1 to %d", name, max))
	}
	return n, nil
}

func (s *Server) history(w http.ResponseWriter, r *http.Request, p *Partner) {
	id := r.PathValue("id")
	limit, pr := intParam(r, "limit", 100, 1000)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	tr, pr := s.lookup(r.Context(), p, id)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	page, err := s.eng.History(r.Context(), tr.ID, r.URL.Query().Get("page"), limit)
	if err != nil {
		pr := errorProblem(err)
		if errors.Is(err, tnt.ErrInvalid) {
			pr.Detail = "the page token is not valid: use the next token of the previous page"
		}
		writeProblem(w, r, pr)
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"id":`)
	writeJSONString(&b, tr.ID)
	b.WriteString(`,"events":[`)
	for i, ev := range page.Events {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(ev.JSON)
	}
	b.WriteString(`],"next":`)
	if page.Next == "" {
		b.WriteString("null")
	} else {
		writeJSONString(&b, page.Next)
		q := url.Values{"page": {page.Next}, "limit": {strconv.Itoa(limit)}}
		// the path as sent: a Digital Link id stays escaped
		w.Header().Set("Link", "<"+r.URL.EscapedPath()+"?"+q.Encode()+`>; rel="next"`)
	}
	b.WriteByte('}')
	writeRaw(w, http.StatusOK, "application/json", b.Bytes())
}

func writeJSONString(b *bytes.Buffer, s string) {
	j, _ := json.Marshal(s)
	b.Write(j)
}

// ---- reports ----

func (s *Server) report(w http.ResponseWriter, r *http.Request, p *Partner) {
	f, pr := bodyFormat(r, formatJSON, formatProtobuf)
	var behaviour string
	if pr == nil {
		behaviour, pr = errorBehaviour(r)
	}
	var body []byte
	if pr == nil {
		body, pr = s.readShaped(w, r, f)
	}
	var c *captured
	if pr == nil {
		c, pr = s.ingest(r.Context(), p, body, behaviour, s.cfg.CaptureMax, nil, nil)
	}
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	writeJSON(w, http.StatusOK, c.report)
}
