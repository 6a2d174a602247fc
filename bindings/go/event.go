package tnt

/*
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"time"
)

// EventType is the type of an EPCIS event.
type EventType int

const (
	UnknownEvent        EventType = C.TNT_EVENT_UNKNOWN
	ObjectEvent         EventType = C.TNT_EVENT_OBJECT
	AggregationEvent    EventType = C.TNT_EVENT_AGGREGATION
	TransactionEvent    EventType = C.TNT_EVENT_TRANSACTION
	TransformationEvent EventType = C.TNT_EVENT_TRANSFORMATION
	AssociationEvent    EventType = C.TNT_EVENT_ASSOCIATION
)

// String is the type as EPCIS writes it: "ObjectEvent".
func (t EventType) String() string { return C.GoString(C.tnt_event_type_name(C.tnt_event_type(t))) }

// MarshalText writes the type as EPCIS does.
func (t EventType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Action is the action of an event.
type Action int

const (
	NoAction Action = C.TNT_ACTION_NONE
	Add      Action = C.TNT_ACTION_ADD
	Observe  Action = C.TNT_ACTION_OBSERVE
	Delete   Action = C.TNT_ACTION_DELETE
)

func (a Action) String() string {
	return [...]string{"", "ADD", "OBSERVE", "DELETE"}[a&3]
}

// Quantity is one element of a quantity list.
type Quantity struct {
	Class    string   `json:"epcClass"`
	Quantity *float64 `json:"quantity,omitempty"`
	UOM      string   `json:"uom,omitempty"`
}

// Ref is one bizTransaction, source or destination.
type Ref struct {
	Type  string `json:"type,omitempty"`
	Value string `json:"value"`
}

// Event is an EPCIS 2.0 event, copied out of the library: identifiers,
// vocabulary values and times are in canonical form when it was normalised
// (every stored event is).
type Event struct {
	Type           EventType
	Action         Action
	EventTime      time.Time // UTC
	TimeZoneOffset string    // "+01:00", as written
	RecordTime     time.Time // zero when absent
	EventID        string    // the eventID it was sent with, if any
	HashID         string    // the canonical event hash ID
	BizStep        string
	Disposition    string
	ReadPoint      string
	BizLocation    string
	ParentID       string

	EPCs, ChildEPCs, InputEPCs, OutputEPCs []string
	Quantities, ChildQuantities            []Quantity
	InputQuantities, OutputQuantities      []Quantity
	BizTransactions, Sources, Destinations []Ref

	Index  int               // position in its document
	Valid  bool              // it passed validation
	Errors []ValidationError // why not

	// JSON is the event as EPCIS 2.0 JSON-LD, with its @context and the hash
	// ID as eventID when it has none (nil for events read without KeepJSON).
	JSON json.RawMessage
}

// ID is the event's identity for the EPCIS REST interface: its eventID,
// else its hash ID.
func (ev *Event) ID() string {
	if ev.EventID != "" {
		return ev.EventID
	}
	return ev.HashID
}

// Locations lists the location identifiers of the event: read point,
// business location, sources and destinations of type location (in that
// order, each once).
func (ev *Event) Locations() []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	add(ev.ReadPoint)
	add(ev.BizLocation)
	for _, r := range ev.Sources {
		add(r.Value)
	}
	for _, r := range ev.Destinations {
		add(r.Value)
	}
	return out
}

// Objects lists the identifiers the event is about: EPCs, parent, children,
// inputs, outputs and quantity classes.
func (ev *Event) Objects() []string {
	out := make([]string, 0, len(ev.EPCs)+1)
	if ev.ParentID != "" {
		out = append(out, ev.ParentID)
	}
	for _, l := range [][]string{ev.EPCs, ev.ChildEPCs, ev.InputEPCs, ev.OutputEPCs} {
		out = append(out, l...)
	}
	for _, l := range [][]Quantity{ev.Quantities, ev.ChildQuantities, ev.InputQuantities, ev.OutputQuantities} {
		for _, q := range l {
			out = append(out, q.Class)
		}
	}
	return out
}

func copyList(ev *C.tnt_event, l C.tnt_list) []string {
	n := C.tnt_event_list_count(ev, l)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		out = append(out, gostr(C.tnt_event_list_at(ev, l, i)))
	}
	return out
}

func copyQList(ev *C.tnt_event, l C.tnt_qlist) []Quantity {
	n := C.tnt_event_qlist_count(ev, l)
	var out []Quantity
	for i := C.size_t(0); i < n; i++ {
		it := C.tntgo_event_qlist_at(ev, C.int(l), i)
		if it.status != C.TNT_OK {
			break
		}
		e := Quantity{Class: gostr(it.a), UOM: gostr(it.b)}
		if it.flag != 0 {
			v := float64(it.number)
			e.Quantity = &v
		}
		out = append(out, e)
	}
	return out
}

func copyRefs(ev *C.tnt_event, l C.tnt_ref_list) []Ref {
	n := C.tnt_event_ref_count(ev, l)
	var out []Ref
	for i := C.size_t(0); i < n; i++ {
		it := C.tntgo_event_ref_at(ev, C.int(l), i)
		if it.status != C.TNT_OK {
			break
		}
		out = append(out, Ref{gostr(it.a), gostr(it.b)})
	}
	return out
}

// copyEvent copies an event (borrowed or owned by the caller) into Go.
func copyEvent(ev *C.tnt_event, withJSON bool) (*Event, error) {
	i := C.tntgo_event_info_of(ev)
	g := &Event{
		Type:             EventType(i._type),
		Action:           Action(i.action),
		TimeZoneOffset:   gostr(i.tz_offset),
		EventID:          gostr(i.event_id),
		HashID:           gostr(i.hash_id),
		BizStep:          gostr(i.biz_step),
		Disposition:      gostr(i.disposition),
		ReadPoint:        gostr(i.read_point),
		BizLocation:      gostr(i.biz_location),
		ParentID:         gostr(i.parent_id),
		EPCs:             copyList(ev, C.TNT_LIST_EPC),
		ChildEPCs:        copyList(ev, C.TNT_LIST_CHILD_EPC),
		InputEPCs:        copyList(ev, C.TNT_LIST_INPUT_EPC),
		OutputEPCs:       copyList(ev, C.TNT_LIST_OUTPUT_EPC),
		Quantities:       copyQList(ev, C.TNT_QLIST_QUANTITY),
		ChildQuantities:  copyQList(ev, C.TNT_QLIST_CHILD),
		InputQuantities:  copyQList(ev, C.TNT_QLIST_INPUT),
		OutputQuantities: copyQList(ev, C.TNT_QLIST_OUTPUT),
		BizTransactions:  copyRefs(ev, C.TNT_REF_BIZ_TRANSACTION),
		Sources:          copyRefs(ev, C.TNT_REF_SOURCE),
		Destinations:     copyRefs(ev, C.TNT_REF_DESTINATION),
		Index:            int(i.index),
		Valid:            i.valid != 0,
	}
	if i.has_event_time != 0 {
		g.EventTime = time.UnixMilli(int64(i.event_time_ms)).UTC()
	}
	if i.has_record_time != 0 {
		g.RecordTime = time.UnixMilli(int64(i.record_time_ms)).UTC()
	}
	for k := C.size_t(0); k < i.error_count; k++ {
		if it := C.tntgo_event_error_at(ev, k); it.status == C.TNT_OK {
			g.Errors = append(g.Errors, ValidationError{gostr(it.a), gostr(it.b), gostr(it.c)})
		}
	}
	if withJSON {
		r := C.tntgo_event_to_json(ev, C.TNT_JSON_CONTEXT|C.TNT_JSON_HASH_ID)
		if err := check(r); err != nil {
			return nil, err
		}
		g.JSON = takeBytes(r.ptr, r.len)
	}
	return g, nil
}
