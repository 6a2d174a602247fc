package tnt

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"time"
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
	var a cArgs
	defer a.free()
	types := make([]string, len(q.EventTypes))
	for i, t := range q.EventTypes {
		types[i] = t.String()
	}
	var cq C.tnt_query
	cq.event_types, cq.event_type_count = a.list("EventTypes", types)
	cq.biz_steps, cq.biz_step_count = a.list("BizSteps", q.BizSteps)
	cq.dispositions, cq.disposition_count = a.list("Dispositions", q.Dispositions)
	cq.read_points, cq.read_point_count = a.list("ReadPoints", q.ReadPoints)
	cq.biz_locations, cq.biz_location_count = a.list("BizLocations", q.BizLocations)
	cq.match_epcs, cq.match_epc_count = a.list("MatchEPCs", q.MatchEPCs)
	cq.match_any_epcs, cq.match_any_epc_count = a.list("MatchAnyEPCs", q.MatchAnyEPCs)
	cq.ge_event_time_ms, cq.lt_event_time_ms = ms(q.GEEventTime), ms(q.LTEventTime)
	cq.ge_record_time_ms, cq.lt_record_time_ms = ms(q.GERecordTime), ms(q.LTRecordTime)
	cq.page_token = a.opt("PageToken", q.PageToken)
	if q.Limit > 0 {
		cq.limit = C.size_t(q.Limit)
	}
	if a.err != nil {
		return nil, a.err
	}
	r := C.tntgo_engine_query(h, cq)
	if err := check(r); err != nil {
		return nil, err
	}
	return takeHistory(r.ptr)
}
