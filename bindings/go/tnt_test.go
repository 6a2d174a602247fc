package tnt_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

const unit = "(01)09506000134352(21)ABC123"

func report(id, step, loc string, t time.Time, extra string) string {
	return fmt.Sprintf(`{"product_id":%q,"event_type":%q,"location":%q,"timestamp":%q%s}`, id, step, loc, t.Format(time.RFC3339), extra)
}

func open(t *testing.T) *tnt.Engine {
	t.Helper()
	e, err := tnt.Open(tnt.Config{DataDir: filepath.Join(t.TempDir(), "data")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func journey(t *testing.T, e *tnt.Engine) *tnt.IngestReport {
	t.Helper()
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	doc := "[" + strings.Join([]string{
		report(unit, "commission", "9506000000015", t0, `,"batch":"L1"`),
		report(unit, "ship", "9506000000015", t0.Add(24*time.Hour), `,"condition":{"temperature":{"value":41,"uom":"FAH"}}`),
		report(unit, "receive", "9506000000022", t0.Add(48*time.Hour), ""),
		report("bad", "receive", "9506000000022", t0, ""),
	}, ",") + "]"
	rep, err := e.Ingest(context.Background(), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestIngestTrackHistory(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	rep := journey(t, e)
	if rep.Events != 4 || rep.Accepted != 3 || rep.Rejected != 1 || len(rep.Results) != 4 {
		t.Fatalf("report %+v", rep)
	}
	bad := rep.Results[3]
	if bad.Status != tnt.Rejected || len(bad.Errors) == 0 || bad.Errors[0].Code != "IDENTIFIER" || bad.Errors[0].Path != "$[3].product_id" {
		t.Fatalf("rejected event %+v", bad)
	}
	if !strings.HasPrefix(rep.Results[0].Hash, "ni:///sha-256;") {
		t.Fatalf("hash %q", rep.Results[0].Hash)
	}
	again := journey(t, e)
	if again.Duplicates != 3 || again.Results[0].Status != tnt.Duplicate {
		t.Fatalf("second ingest %+v", again)
	}
	b, _ := json.Marshal(again.Results[0])
	if !strings.Contains(string(b), `"status":"duplicate"`) {
		t.Fatalf("result JSON %s", b)
	}

	// Every form of the identifier finds the same state.
	for _, id := range []string{unit, "https://id.gs1.org/01/09506000134352/21/ABC123", "https://example.com/01/09506000134352/21/ABC123?17=261231"} {
		tr, err := e.Track(ctx, id)
		if err != nil {
			t.Fatalf("track %s: %v", id, err)
		}
		if tr.ID != "https://id.gs1.org/01/09506000134352/21/ABC123" || tr.BizStep != "receiving" || tr.EventCount != 3 ||
			tr.BizLocation != "https://id.gs1.org/414/9506000000022" || tr.Disposition != "in_progress" {
			t.Fatalf("track %+v", tr)
		}
		if len(tr.Readings) != 1 || tr.Readings[0].UOM != "CEL" || tr.Readings[0].Value != 5 {
			t.Fatalf("readings %+v", tr.Readings)
		}
		var j map[string]any
		if err := json.Unmarshal(tr.JSON, &j); err != nil || j["id"] != tr.ID {
			t.Fatalf("track JSON %s: %v", tr.JSON, err)
		}
	}

	page, err := e.History(ctx, unit, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 2 || page.Next == "" || page.ID != "https://id.gs1.org/01/09506000134352/21/ABC123" {
		t.Fatalf("page 1 %+v", page)
	}
	first := page.Events[0]
	if first.Type != tnt.ObjectEvent || first.Action != tnt.Add || first.BizStep != "commissioning" ||
		first.EPCs[0] != page.ID || !first.EventTime.Equal(time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)) || !first.Valid {
		t.Fatalf("event %+v", first)
	}
	var doc map[string]any
	if err := json.Unmarshal(first.JSON, &doc); err != nil || doc["type"] != "ObjectEvent" || doc["eventID"] != first.HashID {
		t.Fatalf("event JSON %s: %v", first.JSON, err)
	}
	page2, err := e.History(ctx, unit, page.Next, 2)
	if err != nil || len(page2.Events) != 1 || page2.Next != "" || page2.Events[0].BizStep != "receiving" {
		t.Fatalf("page 2 %+v %v", page2, err)
	}
	var steps []string
	if err := e.Journey(ctx, unit, func(ev *tnt.Event) error { steps = append(steps, ev.BizStep); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(steps, ",") != "commissioning,shipping,receiving" {
		t.Fatalf("journey %v", steps)
	}
	if got := page.Events[1].Destinations; len(got) != 0 {
		t.Fatalf("destinations %v", got)
	}

	ev, err := e.Event(ctx, rep.Results[1].Hash)
	if err != nil || ev.BizStep != "shipping" || ev.HashID != rep.Results[1].Hash {
		t.Fatalf("event by hash: %+v %v", ev, err)
	}
	if _, err := e.Event(ctx, "ni:///sha-256;"+strings.Repeat("0", 64)+"?ver=CBV2.0"); !errors.Is(err, tnt.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
}

func TestErrors(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	_, err := e.Track(ctx, "https://id.gs1.org/01/09506000134352/21/NOPE")
	if !errors.Is(err, tnt.ErrNotFound) {
		t.Fatalf("unknown unit: %v", err)
	}
	_, err = e.Track(ctx, "../../etc/passwd")
	var te *tnt.Error
	if !errors.As(err, &te) || te.Code != tnt.CodeInvalid || te.Name != "TNT_E_INVALID" || te.Message == "" || te.Retriable() {
		t.Fatalf("invalid id: %#v", err)
	}
	if !strings.HasPrefix(err.Error(), "TNT_E_INVALID: ") {
		t.Fatalf("message %q", err.Error())
	}
	if code, ok := tnt.CodeOf(err); !ok || code != tnt.CodeInvalid || code.String() != "TNT_E_INVALID" {
		t.Fatalf("CodeOf: %v %v", code, ok)
	}
	// A document-level failure keeps the events before it.
	t0 := time.Now().UTC().Add(-time.Hour)
	rep, err := e.Ingest(ctx, []byte("["+report(unit, "commission", "9506000000015", t0, "")+`, {"product_id": `))
	if !errors.Is(err, tnt.ErrSyntax) || rep == nil || rep.Accepted != 1 {
		t.Fatalf("truncated document: %+v %v", rep, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Track(cancelled, unit); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := tnt.Open(tnt.Config{ConfigPath: "/nonexistent/config.yml"}); err == nil {
		t.Fatal("open with a missing config file worked")
	} else if _, ok := tnt.CodeOf(err); !ok {
		t.Fatalf("open error is not a library error: %v", err)
	}
}

func TestMasterReplayArchiveStats(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	journey(t, e)
	err := e.MasterPut(ctx, tnt.MasterLocation, []byte(`{"gln":"9506000000022","name":"Shop Mitte","city":"Berlin","country":"DE","latitude":52.52,"longitude":13.405}`))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.MasterGet(ctx, tnt.MasterLocation, "9506000000022")
	if err != nil || !strings.Contains(string(rec), "Shop Mitte") {
		t.Fatalf("master get: %s %v", rec, err)
	}
	if _, err := e.MasterGet(ctx, tnt.MasterProduct, "09506000134352"); !errors.Is(err, tnt.ErrNotFound) {
		t.Fatalf("missing product: %v", err)
	}
	if err := e.MasterPut(ctx, tnt.MasterLocation, []byte(`{"gln":"123"}`)); !errors.Is(err, tnt.ErrInvalid) {
		t.Fatalf("bad GLN: %v", err)
	}
	file := filepath.Join(t.TempDir(), "world.json")
	os.WriteFile(file, []byte(`{"products":[{"gtin":"09506000134352","name":"Greek yoghurt 500 g","min_temp":2,"max_temp":4}]}`), 0o644)
	if n, err := e.MasterLoad(ctx, file); err != nil || n != 1 {
		t.Fatalf("master load: %d %v", n, err)
	}
	tr, err := e.Track(ctx, unit)
	if err != nil || tr.LocationName() != "Shop Mitte" || !tr.Readings[0].Excursion {
		t.Fatalf("track with master data: %+v %v", tr, err)
	}
	n, err := e.Replay(ctx, time.Time{})
	if err != nil || n < 3 {
		t.Fatalf("replay: %d %v", n, err)
	}
	tr2, err := e.Track(ctx, unit)
	if err != nil || string(tr2.JSON) != string(tr.JSON) {
		t.Fatalf("state after replay differs:\n%s\n%s", tr.JSON, tr2.JSON)
	}
	archived, _, err := e.Archive(ctx, time.Now().Add(365*24*time.Hour))
	if err != nil || archived < 3 {
		t.Fatalf("archive: %d %v", archived, err)
	}
	page, err := e.History(ctx, unit, "", 10)
	if err != nil || len(page.Events) != 3 {
		t.Fatalf("history from the archive: %v %v", page, err)
	}
	st, err := e.Stats(ctx)
	var m map[string]any
	if err != nil || json.Unmarshal(st, &m) != nil || m["ingest"] == nil {
		t.Fatalf("stats %s %v", st, err)
	}
}

func TestIDsAndReader(t *testing.T) {
	id, err := tnt.ParseID("(01)09506000134352(21)ABC123(17)261231", &tnt.IDOptions{GCPLength: 7, Stem: "https://brand.example/p"})
	if err != nil {
		t.Fatal(err)
	}
	if id.Type != tnt.SGTIN || id.Canonical != "https://id.gs1.org/01/09506000134352/21/ABC123" ||
		id.EPCURN != "urn:epc:id:sgtin:9506000.013435.ABC123" || id.AIValue("17") != "261231" ||
		!strings.HasPrefix(id.DigitalLink, "https://brand.example/p/01/09506000134352/21/ABC123") {
		t.Fatalf("%+v", id)
	}
	_, err = tnt.ParseID("(01)09506000134353", nil)
	var ie *tnt.InvalidIDError
	if !errors.As(err, &ie) || !errors.Is(err, tnt.ErrInvalid) || ie.Errors[0].Code != "ID_CHECK_DIGIT" {
		t.Fatalf("bad check digit: %v", err)
	}
	if c, err := tnt.NormalizeID("urn:epc:id:sscc:4012345.0000000333"); err != nil || c != "https://id.gs1.org/00/040123450000003338" {
		t.Fatalf("normalize: %s %v", c, err)
	}
	if tnt.CheckDigit("950600013435") != 2 || tnt.CheckDigit("x") != -1 {
		t.Fatal("check digit")
	}
	doc := `[` + report(unit, "ship", "9506000000015", time.Now().Add(-time.Minute), `,"destination":"9506000000022"`) + `,{"product_id":"x"}]`
	evs, err := tnt.ReadAll(context.Background(), []byte(doc), &tnt.ReaderOptions{KeepJSON: true})
	if err != nil || len(evs) != 2 {
		t.Fatalf("read: %v %v", evs, err)
	}
	if !evs[0].Valid || evs[0].Destinations[0].Value != "https://id.gs1.org/414/9506000000022" || evs[0].JSON == nil ||
		strings.Join(evs[0].Locations(), " ") != "https://id.gs1.org/414/9506000000015 https://id.gs1.org/414/9506000000022" {
		t.Fatalf("event 0 %+v", evs[0])
	}
	if evs[1].Valid || len(evs[1].Errors) == 0 || evs[1].Index != 1 {
		t.Fatalf("event 1 %+v", evs[1])
	}
	if _, err := tnt.ReadAll(context.Background(), []byte(`{"a":`), nil); !errors.Is(err, tnt.ErrSyntax) {
		t.Fatalf("malformed: %v", err)
	}
}

// Many goroutines share one engine; Close waits for them and later calls fail cleanly.
func TestConcurrent(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-10 * time.Minute)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				id := fmt.Sprintf("(01)09506000134352(21)G%dN%d", g, i)
				rep, err := e.Ingest(ctx, []byte(report(id, "commission", "9506000000015", t0, "")))
				if err != nil || rep.Accepted != 1 {
					t.Errorf("ingest %s: %+v %v", id, rep, err)
					return
				}
				if _, err := e.Track(ctx, id); err != nil {
					t.Errorf("track %s: %v", id, err)
				}
				if _, err := e.Track(ctx, "nonsense"); !errors.Is(err, tnt.ErrInvalid) {
					t.Errorf("nonsense: %v", err)
				}
			}
		}(g)
	}
	wg.Wait()
	var st struct{ Ingest struct{ Accepted int } }
	raw, _ := e.Stats(ctx)
	json.Unmarshal(raw, &st)
	if st.Ingest.Accepted != 160 {
		t.Fatalf("accepted %d: %s", st.Ingest.Accepted, raw)
	}
	var closers sync.WaitGroup
	for i := 0; i < 4; i++ {
		closers.Add(1)
		go func() {
			defer closers.Done()
			for j := 0; j < 50; j++ {
				if _, err := e.Track(ctx, unit); err != nil && !errors.Is(err, tnt.ErrClosed) && !errors.Is(err, tnt.ErrNotFound) {
					t.Errorf("track while closing: %v", err)
				}
			}
		}()
	}
	e.Close()
	closers.Wait()
	if _, err := e.Track(ctx, unit); !errors.Is(err, tnt.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	e.Close()
}

func TestVersion(t *testing.T) {
	if !strings.HasPrefix(tnt.LibraryVersion(), "1.") || tnt.Version == "" {
		t.Fatal(tnt.LibraryVersion())
	}
}

func TestQuery(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	journey(t, e)
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	page, err := e.Query(ctx, tnt.Query{BizSteps: []string{"shipping", "urn:epcglobal:cbv:bizstep:receiving"}})
	if err != nil || len(page.Events) != 2 {
		t.Fatalf("by bizStep: %+v %v", page, err)
	}
	page, err = e.Query(ctx, tnt.Query{MatchEPCs: []string{unit}, GEEventTime: t0.Add(time.Hour), EventTypes: []tnt.EventType{tnt.ObjectEvent}})
	if err != nil || len(page.Events) != 2 || page.Events[0].BizStep != "shipping" {
		t.Fatalf("by EPC and time: %+v %v", page, err)
	}
	page, err = e.Query(ctx, tnt.Query{BizLocations: []string{"urn:epc:id:sgln:9506000.00002.0"}, Limit: 1})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("by bizLocation: %+v %v", page, err)
	}
	all, err := e.Query(ctx, tnt.Query{Limit: 2})
	if err != nil || len(all.Events) != 2 || all.Next == "" {
		t.Fatalf("page 1: %+v %v", all, err)
	}
	rest, err := e.Query(ctx, tnt.Query{Limit: 2, PageToken: all.Next})
	if err != nil || len(rest.Events) != 1 {
		t.Fatalf("page 2: %+v %v", rest, err)
	}
	if _, err := e.Query(ctx, tnt.Query{PageToken: "garbage"}); !errors.Is(err, tnt.ErrInvalid) {
		t.Fatalf("bad token: %v", err)
	}
}

func tntOpenBench(b *testing.B) (*tnt.Engine, error) {
	e, err := tnt.Open(tnt.Config{DataDir: b.TempDir()})
	if err != nil {
		return nil, err
	}
	b.Cleanup(func() { e.Close() })
	t0 := time.Now().Add(-time.Hour)
	_, err = e.Ingest(context.Background(), []byte(report(unit, "commission", "9506000000015", t0, `,"condition":{"temperature":4}`)))
	e.MasterPut(context.Background(), tnt.MasterLocation, []byte(`{"gln":"9506000000015","name":"Plant","city":"Hamburg"}`))
	return e, err
}

// C reads a string up to its first NUL: a string holding one would reach
// the library cut short, as another string, so every call refuses it.
func TestNULArguments(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	journey(t, e)
	cut := unit + "\x00zz" // what C would read is a valid id
	calls := map[string]func() error{
		"Open":         func() error { _, err := tnt.Open(tnt.Config{DataDir: t.TempDir() + "\x00x"}); return err },
		"Track":        func() error { _, err := e.Track(ctx, cut); return err },
		"History":      func() error { _, err := e.History(ctx, cut, "", 0); return err },
		"History page": func() error { _, err := e.History(ctx, unit, "\x00", 0); return err },
		"Journey":      func() error { return e.Journey(ctx, cut, func(*tnt.Event) error { return nil }) },
		"Event":        func() error { _, err := e.Event(ctx, "x\x00"); return err },
		"Query":        func() error { _, err := e.Query(ctx, tnt.Query{MatchEPCs: []string{cut}}); return err },
		"Query page":   func() error { _, err := e.Query(ctx, tnt.Query{PageToken: "\x00"}); return err },
		"MasterLoad":   func() error { _, err := e.MasterLoad(ctx, "/dev/null\x00"); return err },
		"MasterGet":    func() error { _, err := e.MasterGet(ctx, tnt.MasterParty, "9506000\x00"); return err },
		"Authenticate": func() error { _, err := e.Authenticate(ctx, cut, nil, tnt.ForConsumer); return err },
		"Authenticate device": func() error {
			_, err := e.Authenticate(ctx, unit, &tnt.Scan{Device: "d\x00"}, tnt.ForConsumer)
			return err
		},
		"ParseID":       func() error { _, err := tnt.ParseID(cut, nil); return err },
		"ParseID stem":  func() error { _, err := tnt.ParseID(unit, &tnt.IDOptions{Stem: "https://x\x00"}); return err },
		"NormalizeID":   func() error { _, err := tnt.NormalizeID(cut); return err },
		"VerifyVerdict": func() error { return tnt.VerifyVerdict([]byte("{}"), "key\x00") },
		"SignCode":      func() error { _, err := tnt.SignCode(cut, "secret", ""); return err },
	}
	for name, call := range calls {
		err := call()
		var te *tnt.Error
		if !errors.Is(err, tnt.ErrInvalid) || !errors.As(err, &te) || !strings.Contains(te.Message, "NUL") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if d := tnt.CheckDigit("950600000001\x00"); d != -1 {
		t.Errorf("CheckDigit: %d", d)
	}
}

// MasterRecords lists a file's records as MasterLoad reads them, and
// stores nothing.
func TestMasterRecords(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.csv")
	if err := os.WriteFile(path, []byte("gln,name\n9506000000015,DC\n# a note\n\n9506000000022,Shop\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	recs, err := e.MasterRecords(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	want := []tnt.MasterRecord{{tnt.MasterLocation, "9506000000015", path + ":2"}, {tnt.MasterLocation, "9506000000022", path + ":5"}}
	if !reflect.DeepEqual(recs, want) {
		t.Fatalf("records %+v, want %+v", recs, want)
	}
	if _, err := e.MasterGet(ctx, tnt.MasterLocation, "9506000000015"); !errors.Is(err, tnt.ErrNotFound) {
		t.Fatalf("stored before the load: %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"products":[{"gtin":"9506000134352","name":"x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if recs, err = e.MasterRecords(ctx, path); err != nil || len(recs) != 1 || recs[0].Key != "09506000134352" ||
		recs[0].Kind != tnt.MasterProduct || !strings.HasSuffix(recs[0].Where, "products[0]") {
		t.Fatalf("%+v %v", recs, err)
	}
	if err := os.WriteFile(path, []byte(`{"products":[{"gtin":"9506000134353"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err = e.MasterRecords(ctx, path); !errors.Is(err, tnt.ErrInvalid) {
		t.Fatalf("a wrong check digit: %v", err)
	}
}
