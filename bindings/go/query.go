package tnt

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"time"
	"unsafe"
)

// Query selects stored events with the EPCIS 2.0 query parameters. Each
// list is an OR of its values, the fields are ANDed, and an empty list or
// a zero time does not filter.
type Query struct {
	EventTypes   []EventType
	GEEventTime  time.Time // eventTime >= this
	LTEventTime  time.Time // eventTime < this
	GERecordTime time.Time
	LTRecordTime time.Time
	BizSteps     []string // CBV names ("shipping") or URIs
	Dispositions []string
	ReadPoints   []string // location identifiers, any form
	BizLocations []string
	MatchEPCs    []string // epcList or childEPCs holds one of them
	MatchAnyEPCs []string // also parentID, inputs and outputs
	PageToken    string   // "" for the first page, else the Next of the previous one
	Limit        int      // events per page; 0: 100; at most 1000
}

// cArena holds the C memory of one call's arguments.
type cArena []unsafe.Pointer

func (a *cArena) str(s string) *C.char {
	p := C.CString(s)
	*a = append(*a, unsafe.Pointer(p))
	return p
}

// list copies strings into a C array of C strings.
func (a *cArena) list(v []string) (**C.char, C.size_t) {
	if len(v) == 0 {
		return nil, 0
	}
	arr := (**C.char)(C.malloc(C.size_t(len(v)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	*a = append(*a, unsafe.Pointer(arr))
	items := unsafe.Slice(arr, len(v))
	for i, s := range v {
		items[i] = a.str(s)
	}
	return arr, C.size_t(len(v))
}

func (a *cArena) free() {
	for _, p := range *a {
		C.free(p)
	}
}

func ms(t time.Time) C.int64_t {
	if t.IsZero() {
		return 0
	}
	return C.int64_t(t.UnixMilli())
}

// Query returns one page of the events that match q. With MatchEPCs or
// MatchAnyEPCs the histories of those identifiers are read (archived events
// included), in event time order; without, the archived segments and then
// the event log are scanned in capture order. ErrInvalid: a malformed value
// or page token.
func (e *Engine) Query(ctx context.Context, q Query) (*HistoryPage, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer e.leave()
	var a cArena
	defer a.free()
	types := make([]string, len(q.EventTypes))
	for i, t := range q.EventTypes {
		types[i] = t.String()
	}
	var cq C.tnt_query
	cq.event_types, cq.event_type_count = a.list(types)
	cq.biz_steps, cq.biz_step_count = a.list(q.BizSteps)
	cq.dispositions, cq.disposition_count = a.list(q.Dispositions)
	cq.read_points, cq.read_point_count = a.list(q.ReadPoints)
	cq.biz_locations, cq.biz_location_count = a.list(q.BizLocations)
	cq.match_epcs, cq.match_epc_count = a.list(q.MatchEPCs)
	cq.match_any_epcs, cq.match_any_epc_count = a.list(q.MatchAnyEPCs)
	cq.ge_event_time_ms, cq.lt_event_time_ms = ms(q.GEEventTime), ms(q.LTEventTime)
	cq.ge_record_time_ms, cq.lt_record_time_ms = ms(q.GERecordTime), ms(q.LTRecordTime)
	if q.PageToken != "" {
		cq.page_token = a.str(q.PageToken)
	}
	if q.Limit > 0 {
		cq.limit = C.size_t(q.Limit)
	}
	r := C.tntgo_engine_query(h, cq)
	if err := check(r); err != nil {
		return nil, err
	}
	return takeHistory(r.ptr)
}
