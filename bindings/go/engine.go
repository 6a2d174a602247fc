package tnt

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Config says where an engine keeps its data. The zero value is the
// embedded default: everything in ./tnt-data (or $TNT_DATA).
type Config struct {
	DataDir    string // embedded data directory; "": $TNT_DATA or ./tnt-data
	ConfigPath string // config.yml naming the backends by URI (docs/configuration.md); "": none
	LogURI     string // overrides database.event_store
	StoreURI   string // overrides database.real_time_store
	ArchiveURI string // overrides database.cold_storage
	Partitions int    // partitions of a new event log; 0: the backend's default

	ArchiveAfter time.Duration // Archive moves events older than this; 0: 90 days
	Retention    time.Duration // archived events are deleted after this; 0: kept forever

	// Validation of ingested events.
	FutureSkew    time.Duration // how far an eventTime may lie in the future; 0: 1 h; < 0: no check
	MaxEventBytes int           // largest event accepted; 0: 1 MiB
}

// Engine is an open track-and-trace store. It is safe for concurrent use;
// Close it when done.
type Engine struct {
	mu sync.RWMutex // held shared by every call, exclusively by Close
	h  *C.tnt_engine
}

// cArgs holds the C copies of one call's string arguments; free them all
// with free. C reads a string up to its first NUL, so a Go string holding
// one would reach the library cut short, as another string: it is refused
// instead, with an error matching ErrInvalid kept in err, and the call must
// not be made.
type cArgs struct {
	ptrs []unsafe.Pointer
	err  error
}

// str copies s for C; name says which argument it is, in the error.
func (a *cArgs) str(name, s string) *C.char {
	if strings.IndexByte(s, 0) >= 0 {
		if a.err == nil {
			a.err = &Error{Code: CodeInvalid, Name: CodeInvalid.String(), Message: name + " holds a NUL byte"}
		}
		return nil
	}
	p := C.CString(s)
	a.ptrs = append(a.ptrs, unsafe.Pointer(p))
	return p
}

// opt is str for an optional argument: "" gives NULL.
func (a *cArgs) opt(name, s string) *C.char {
	if s == "" {
		return nil
	}
	return a.str(name, s)
}

// list copies strings into a C array of C strings.
func (a *cArgs) list(name string, v []string) (**C.char, C.size_t) {
	if len(v) == 0 {
		return nil, 0
	}
	arr := (**C.char)(C.malloc(C.size_t(len(v)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	a.ptrs = append(a.ptrs, unsafe.Pointer(arr))
	items := unsafe.Slice(arr, len(v))
	for i, s := range v {
		items[i] = a.str(name, s)
	}
	return arr, C.size_t(len(v))
}

func (a *cArgs) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
}

// Open opens an engine: reads the configuration, opens the three backends,
// creates what they need, and recovers the state after a crash.
func Open(cfg Config) (*Engine, error) {
	if versionErr != nil {
		return nil, versionErr
	}
	var a cArgs
	defer a.free()
	o := C.tntgo_engine_opts{
		data_dir:         a.opt("DataDir", cfg.DataDir),
		config_path:      a.opt("ConfigPath", cfg.ConfigPath),
		log_uri:          a.opt("LogURI", cfg.LogURI),
		store_uri:        a.opt("StoreURI", cfg.StoreURI),
		archive_uri:      a.opt("ArchiveURI", cfg.ArchiveURI),
		partitions:       C.int(cfg.Partitions),
		archive_after_ms: C.int64_t(cfg.ArchiveAfter.Milliseconds()),
		retention_ms:     C.int64_t(cfg.Retention.Milliseconds()),
		future_skew_ms:   C.int64_t(cfg.FutureSkew.Milliseconds()),
		max_event_bytes:  C.size_t(cfg.MaxEventBytes),
	}
	if cfg.FutureSkew < 0 {
		o.future_skew_ms = -1
	}
	if a.err != nil {
		return nil, a.err
	}
	r := C.tntgo_engine_open(o)
	if err := check(r); err != nil {
		return nil, err
	}
	return &Engine{h: (*C.tnt_engine)(r.ptr)}, nil
}

// Close waits for running calls, flushes the log and closes the backends.
// Later calls return ErrClosed; closing twice is a no-op.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h != nil {
		C.tnt_engine_close(e.h)
		e.h = nil
	}
	return nil
}

// enter starts a call: it checks the context and that the engine is open,
// and holds Close back until leave.
func (e *Engine) enter(ctx context.Context) (*C.tnt_engine, error) {
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	e.mu.RLock()
	if e.h == nil {
		e.mu.RUnlock()
		return nil, ErrClosed
	}
	return e.h, nil
}

func (e *Engine) leave() { e.mu.RUnlock() }

// ---- ingest ----

// IngestStatus is what happened to one event of an ingest.
type IngestStatus int

const (
	Accepted  IngestStatus = C.TNT_INGEST_ACCEPTED  // stored, durably
	Duplicate IngestStatus = C.TNT_INGEST_DUPLICATE // an event with the same hash was stored before
	Rejected  IngestStatus = C.TNT_INGEST_REJECTED  // invalid: see its errors
)

func (s IngestStatus) String() string {
	switch s {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// MarshalText writes the status as "accepted", "duplicate" or "rejected".
func (s IngestStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (s *IngestStatus) UnmarshalText(b []byte) error {
	for _, v := range []IngestStatus{Accepted, Duplicate, Rejected} {
		if string(b) == v.String() {
			*s = v
			return nil
		}
	}
	return &Error{Code: CodeInvalid, Name: CodeInvalid.String(), Message: "unknown ingest status " + string(b)}
}

// ValidationError is one reason an event was rejected.
type ValidationError struct {
	Code    string `json:"code"`    // stable code: "REQUIRED", "VOCABULARY", "IDENTIFIER", …
	Path    string `json:"path"`    // JSON path in the document: "$.epcisBody.eventList[3].bizStep"
	Message string `json:"message"` // human text
}

// EventResult is the outcome of one event of an ingest.
type EventResult struct {
	Index  int               `json:"index"`          // position in the document
	Status IngestStatus      `json:"status"`         // accepted, duplicate or rejected
	Hash   string            `json:"hash,omitempty"` // the event hash ID, when it has one
	Errors []ValidationError `json:"errors"`         // why it was rejected
}

// IngestReport is the outcome of an ingest, per event.
type IngestReport struct {
	Events     int           `json:"events"`
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Rejected   int           `json:"rejected"`
	Results    []EventResult `json:"results"`
}

func takeReport(p unsafe.Pointer) *IngestReport {
	if p == nil {
		return nil
	}
	rep := (*C.tnt_ingest_report)(p)
	defer C.tnt_ingest_report_free(rep)
	n := C.tntgo_report_counts(rep)
	out := &IngestReport{Events: int(n.events), Accepted: int(n.accepted), Duplicates: int(n.duplicates),
		Rejected: int(n.rejected), Results: make([]EventResult, 0, int(n.events))}
	for i := C.size_t(0); ; i++ {
		it := C.tntgo_report_event(rep, i)
		if it.status != C.TNT_OK {
			break
		}
		res := EventResult{Index: int(i), Status: IngestStatus(it.flag), Hash: gostr(it.a), Errors: []ValidationError{}}
		for j := C.size_t(0); j < it.count; j++ {
			if e := C.tntgo_report_error(rep, i, j); e.status == C.TNT_OK {
				res.Errors = append(res.Errors, ValidationError{gostr(e.a), gostr(e.b), gostr(e.c)})
			}
		}
		out.Results = append(out.Results, res)
	}
	return out
}

// Ingest stores the events of a document held in memory: an EPCIS 2.0
// document, a single event or an array of events, a simple report or an
// array of them (JSON), or a protobuf tnt.v1.Batch. Valid events are stored
// once (by event hash); invalid ones are rejected without touching the
// store. It returns when every accepted event is durable.
//
// A document-level failure (malformed JSON: ErrSyntax; a limit: ErrTooBig)
// returns the error together with the report of the events before it, which
// stand.
func (e *Engine) Ingest(ctx context.Context, data []byte) (*IngestReport, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer e.leave()
	buf := C.CBytes(data)
	defer C.free(buf)
	r := C.tntgo_engine_ingest(h, buf, C.size_t(len(data)), 0)
	return takeReport(r.ptr), check(r)
}

// ---- track ----

// Reading is the latest condition reading of one measurement type.
type Reading struct {
	Type      string    `json:"type"`  // "Temperature"
	Value     float64   `json:"value"` // in the canonical unit
	UOM       string    `json:"uom"`   // "CEL"
	Time      time.Time `json:"time"`
	Excursion bool      `json:"excursion"` // outside the product's allowed range (master data)
}

// Track is the current state of a unit, case or pallet.
type Track struct {
	ID          string    // canonical identifier
	ReadPoint   string    // last read point
	BizLocation string    // last business location (its container's, when that moved since)
	BizStep     string    // last business step
	Disposition string    // last disposition
	Parent      string    // the case or pallet it is in
	Owner       string    // last owning party
	Possessor   string    // last possessing party
	LastEvent   string    // hash ID of the last event
	LastTime    time.Time // time of the last event
	EventCount  int       // events recorded for it
	Readings    []Reading // latest readings, one per measurement type

	// JSON is the library's JSON form of the track, with the location's
	// coordinates and names from master data.
	JSON json.RawMessage
}

func msTime(ms C.int64_t) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms)).UTC()
}

func gostr(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// LocationName is the name of the product's location from master data
// ("" when it has none). It is read from the JSON form, which carries it.
func (t *Track) LocationName() string {
	var loc struct {
		Location *struct{ Name string } `json:"location"`
	}
	if json.Unmarshal(t.JSON, &loc) != nil || loc.Location == nil {
		return ""
	}
	return loc.Location.Name
}

// Track returns the current state of an identifier given in any form.
// ErrNotFound: never seen; ErrInvalid: not an identifier.
func (e *Engine) Track(ctx context.Context, id string) (*Track, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer e.leave()
	var a cArgs
	defer a.free()
	cid := a.str("id", id)
	if a.err != nil {
		return nil, a.err
	}
	r := C.tntgo_engine_track(h, cid)
	if err := check(r); err != nil {
		return nil, err
	}
	t := (*C.tnt_track)(r.ptr)
	defer C.tnt_track_free(t)
	f := C.tntgo_track_all(t) // one call for every field
	out := &Track{
		ID:          gostr(f.id),
		ReadPoint:   gostr(f.read_point),
		BizLocation: gostr(f.biz_location),
		BizStep:     gostr(f.biz_step),
		Disposition: gostr(f.disposition),
		Parent:      gostr(f.parent),
		Owner:       gostr(f.owner),
		Possessor:   gostr(f.possessor),
		LastEvent:   gostr(f.last_event),
		LastTime:    msTime(f.time_ms),
		EventCount:  int(f.count),
	}
	for i := C.size_t(0); i < f.readings; i++ {
		if it := C.tntgo_track_reading(t, i); it.status == C.TNT_OK {
			out.Readings = append(out.Readings, Reading{gostr(it.a), float64(it.number), gostr(it.b), msTime(it.time_ms), it.flag != 0})
		}
	}
	j := C.tntgo_track_json(t)
	if err := check(j); err != nil {
		return nil, err
	}
	out.JSON = takeBytes(j.ptr, j.len)
	return out, nil
}

// ---- history and events ----

// HistoryPage is one page of a product's journey, oldest first.
type HistoryPage struct {
	ID     string   // the canonical identifier
	Events []*Event // the page's events
	Next   string   // the token of the next page; "" on the last page
}

// takeHistory copies a page the library made, and frees it.
func takeHistory(p unsafe.Pointer) (*HistoryPage, error) {
	hist := (*C.tnt_history)(p)
	defer C.tnt_history_free(hist)
	n := C.tnt_history_count(hist)
	page := &HistoryPage{Events: make([]*Event, 0, int(n)), Next: gostr(C.tnt_history_next_token(hist))}
	for i := C.size_t(0); i < n; i++ {
		ev := C.tnt_history_event(hist, i)
		if ev == nil {
			continue
		}
		g, err := copyEvent(ev, true)
		if err != nil {
			return nil, err
		}
		page.Events = append(page.Events, g)
	}
	return page, nil
}

// History returns one page of the events of an identifier (any form),
// oldest first, from the state store and the cold archive alike. pageToken
// is "" for the first page, else the Next of the previous one; limit is
// the events per page (0: 100). ErrNotFound: never seen; ErrInvalid: a bad
// identifier or token.
func (e *Engine) History(ctx context.Context, id, pageToken string, limit int) (*HistoryPage, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer e.leave()
	if limit < 0 {
		limit = 0
	}
	var a cArgs
	defer a.free()
	cid, ctok := a.str("id", id), a.opt("pageToken", pageToken)
	if a.err != nil {
		return nil, a.err
	}
	r := C.tntgo_engine_history(h, cid, ctok, C.size_t(limit))
	if err := check(r); err != nil {
		return nil, err
	}
	page, err := takeHistory(r.ptr)
	if err != nil {
		return nil, err
	}
	if page.ID, err = NormalizeID(id); err != nil {
		page.ID = id
	}
	return page, nil
}

// Journey calls fn for every event of an identifier, oldest first, reading
// page after page; it stops at the first error fn returns (and returns it)
// or when ctx is done.
func (e *Engine) Journey(ctx context.Context, id string, fn func(*Event) error) error {
	token := ""
	for {
		page, err := e.History(ctx, id, token, 256)
		if err != nil {
			return err
		}
		for _, ev := range page.Events {
			if err := fn(ev); err != nil {
				return err
			}
		}
		if page.Next == "" || len(page.Events) == 0 {
			return nil
		}
		token = page.Next
	}
}

// Event returns one stored event by its hash ID ("ni:///sha-256;…?ver=CBV2.0"),
// or by the eventID its sender gave it (the first event stored with it).
func (e *Engine) Event(ctx context.Context, hashID string) (*Event, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer e.leave()
	var a cArgs
	defer a.free()
	ch := a.str("hashID", hashID)
	if a.err != nil {
		return nil, a.err
	}
	r := C.tntgo_engine_event(h, ch)
	if err := check(r); err != nil {
		return nil, err
	}
	ev := (*C.tnt_event)(r.ptr)
	defer C.tnt_event_free(ev)
	return copyEvent(ev, true)
}

// ---- replay, archive, master data, stats ----

// Replay rebuilds the state store from the event log and the archive: from
// the beginning when from is the zero time, else from the first record at
// or after from. It returns the number of records replayed. Ingests wait
// while it runs.
func (e *Engine) Replay(ctx context.Context, from time.Time) (int, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer e.leave()
	var ms int64
	if !from.IsZero() {
		ms = from.UnixMilli()
	}
	r := C.tntgo_engine_replay(h, C.int64_t(ms))
	return int(r.len), check(r)
}

// Archive moves events older than the archive policy to the cold archive
// and deletes archived events past the retention; now is "now" (the zero
// time: the clock).
func (e *Engine) Archive(ctx context.Context, now time.Time) (archived, expired int, err error) {
	h, err := e.enter(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer e.leave()
	var ms int64
	if !now.IsZero() {
		ms = now.UnixMilli()
	}
	r := C.tntgo_engine_archive(h, C.int64_t(ms))
	return int(r.len), int(r.len2), check(r)
}

// MasterKind is a kind of master data.
type MasterKind int

const (
	MasterProduct  MasterKind = C.TNT_MASTER_PRODUCT  // by GTIN: name, brand, allowed temperature range, shelf life
	MasterLocation MasterKind = C.TNT_MASTER_LOCATION // by GLN: name, city, country, latitude, longitude
	MasterParty    MasterKind = C.TNT_MASTER_PARTY    // by company prefix: name, role, public key
)

func (k MasterKind) String() string {
	switch k {
	case MasterProduct:
		return "product"
	case MasterLocation:
		return "location"
	case MasterParty:
		return "party"
	}
	return "unknown"
}

// MasterLoad loads master data from a JSON ({"products":[…],"locations":[…],
// "parties":[…]}) or CSV file and returns the number of records loaded.
func (e *Engine) MasterLoad(ctx context.Context, path string) (int, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer e.leave()
	var a cArgs
	defer a.free()
	cp := a.str("path", path)
	if a.err != nil {
		return 0, a.err
	}
	r := C.tntgo_engine_master_load(h, cp)
	return int(r.len), check(r)
}

// MasterRecord is one record of a master-data file, as MasterLoad would
// load it: its kind, its key in canonical form (a GTIN of 14 digits, a GLN
// of 13) and where it is in the file ("path: products[3]", "path:5").
type MasterRecord struct {
	Kind  MasterKind
	Key   string
	Where string
}

// MasterRecords reads a master-data file as MasterLoad does, without
// storing anything: for a host that decides who may keep which records
// before it loads the same file.
func (e *Engine) MasterRecords(ctx context.Context, path string) ([]MasterRecord, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer e.leave()
	var a cArgs
	defer a.free()
	cp := a.str("path", path)
	if a.err != nil {
		return nil, a.err
	}
	r := C.tntgo_engine_master_records(h, cp)
	if err := check(r); err != nil {
		return nil, err
	}
	var list []struct {
		Kind, Key, Where string
	}
	if err := json.Unmarshal(takeBytes(r.ptr, r.len), &list); err != nil {
		return nil, err
	}
	kinds := map[string]MasterKind{"product": MasterProduct, "location": MasterLocation, "party": MasterParty}
	out := make([]MasterRecord, len(list))
	for i, l := range list {
		out[i] = MasterRecord{kinds[l.Kind], l.Key, l.Where}
	}
	return out, nil
}

// MasterPut adds or replaces one master-data record given as a JSON object.
func (e *Engine) MasterPut(ctx context.Context, kind MasterKind, record []byte) error {
	h, err := e.enter(ctx)
	if err != nil {
		return err
	}
	defer e.leave()
	buf := C.CBytes(record)
	defer C.free(buf)
	return check(C.tntgo_engine_master_put(h, C.int(kind), (*C.char)(buf), C.size_t(len(record))))
}

// MasterGet returns one master-data record as JSON, by its key (GTIN, GLN
// or company prefix). ErrNotFound when there is none.
func (e *Engine) MasterGet(ctx context.Context, kind MasterKind, key string) (json.RawMessage, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer e.leave()
	var a cArgs
	defer a.free()
	ck := a.str("key", key)
	if a.err != nil {
		return nil, a.err
	}
	r := C.tntgo_engine_master_get(h, C.int(kind), ck)
	if err := check(r); err != nil {
		return nil, err
	}
	return takeBytes(r.ptr, r.len), nil
}

// Stats returns the engine's counters per operation and sizes, as JSON.
func (e *Engine) Stats(ctx context.Context) (json.RawMessage, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer e.leave()
	r := C.tntgo_engine_stats(h)
	if err := check(r); err != nil {
		return nil, err
	}
	return takeBytes(r.ptr, r.len), nil
}
