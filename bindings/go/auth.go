package tnt

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"time"
	"unsafe"
)

// VerdictKind is the answer to "is this product genuine?", from best to worst.
type VerdictKind int

const (
	Genuine        VerdictKind = C.TNT_VERDICT_GENUINE         // issued by the brand, in good standing (green)
	GenuineCaution VerdictKind = C.TNT_VERDICT_GENUINE_CAUTION // authentic origin with warnings (amber)
	DoNotUse       VerdictKind = C.TNT_VERDICT_DO_NOT_USE      // genuine but recalled, expired, failed quality (red)
	Suspect        VerdictKind = C.TNT_VERDICT_SUSPECT         // a clone or replay is likely (red)
	Counterfeit    VerdictKind = C.TNT_VERDICT_COUNTERFEIT     // not issued by the brand (red)
	Unverifiable   VerdictKind = C.TNT_VERDICT_UNVERIFIABLE    // unreadable or unknown: no data to decide (grey)
)

// String is the verdict's name: "GENUINE", "DO_NOT_USE", …
func (k VerdictKind) String() string { return C.GoString(C.tnt_verdict_name(C.tnt_verdict_kind(k))) }

// MarshalText writes the verdict's name.
func (k VerdictKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ScanRole says who scans.
type ScanRole int

const (
	Consumer ScanRole = C.TNT_ROLE_CONSUMER
	Retailer ScanRole = C.TNT_ROLE_RETAILER
	Partner  ScanRole = C.TNT_ROLE_PARTNER // a supply-chain partner
)

// ScanIntent says why. Only sell, receive and return (by a retailer or
// partner) record custody.
type ScanIntent int

const (
	StatusCheck ScanIntent = C.TNT_INTENT_STATUS // never changes the product's state
	Sell        ScanIntent = C.TNT_INTENT_SELL
	Receive     ScanIntent = C.TNT_INTENT_RECEIVE
	Return      ScanIntent = C.TNT_INTENT_RETURN
)

// Scan is the context of a scan; the zero value is a consumer's status
// check now, somewhere unknown, recorded.
type Scan struct {
	Time       time.Time // zero: now
	Located    bool      // Latitude and Longitude are given
	Latitude   float64
	Longitude  float64
	AccuracyM  float64 // radius of the location's uncertainty; 0: 1 km
	Device     string  // a pseudonymous device id (hashed before it is stored)
	Role       ScanRole
	Intent     ScanIntent
	LocationID string // GLN of a retailer's or partner's site
	DryRun     bool   // record nothing
	// Background records the scan in the background: the answer comes at
	// once, the scan is seen by verifications milliseconds later, and a
	// crash loses the scans still queued. Without it, Authenticate returns
	// when the scan is durable (concurrent scans share the write).
	Background bool
}

// Reason is one reason for a verdict.
type Reason struct {
	Code     string `json:"code"`     // stable: "SERIAL_UNKNOWN", "STATUS_RECALLED", …
	Severity string `json:"severity"` // "info", "warn" or "hard"
	Text     string `json:"text"`     // in plain words
}

// Audience chooses what the JSON answer shows.
type Audience uint

const (
	ForConsumer Audience = C.TNT_VERDICT_JSON_CONSUMER // locations rounded to the city, no event details
	ForPartner  Audience = C.TNT_VERDICT_JSON_PARTNER  // full locations and event hashes
)

// Verdict is the answer of Authenticate.
type Verdict struct {
	Kind          VerdictKind
	Confidence    float64 // the calibrated probability that the verdict is right
	EvidenceLevel int     // 3 signature + registry + journey … 0 nothing recorded
	Reasons       []Reason
	// JSON is the whole answer (verdict, reasons, origin, journey, scans)
	// for the audience asked for, signed with the service's Ed25519 key.
	JSON json.RawMessage
}

// Authenticate checks a scanned code in any form (a GS1 Digital Link with
// its query attributes, an element string, barcode data, an EPC URN) and
// records the scan (unless scan.DryRun), so the next scan of a cloned code
// sees this one. Every code gets a verdict, garbage included
// (Unverifiable); errors are for a malformed scan context (ErrInvalid) and
// failing storage.
func (e *Engine) Authenticate(ctx context.Context, code string, scan *Scan, audience Audience) (*Verdict, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer e.leave()
	if scan == nil {
		scan = &Scan{}
	}
	var a cArgs
	defer a.free()
	cs := C.tntgo_scan{
		accuracy_m: C.double(scan.AccuracyM), role: C.int(scan.Role), intent: C.int(scan.Intent), record: 1,
		device: a.opt("Scan.Device", scan.Device), location_id: a.opt("Scan.LocationID", scan.LocationID),
	}
	if !scan.Time.IsZero() {
		cs.time_ms = C.int64_t(scan.Time.UnixMilli())
	}
	if scan.Located {
		cs.has_location, cs.latitude, cs.longitude = 1, C.double(scan.Latitude), C.double(scan.Longitude)
	}
	if scan.Background {
		cs.record = C.TNT_SCAN_RECORD_BACKGROUND
	}
	if scan.DryRun {
		cs.record = C.TNT_SCAN_DRY_RUN
	}
	ccode := a.str("code", code)
	if a.err != nil {
		return nil, a.err
	}
	r := C.tntgo_engine_authenticate(h, ccode, cs)
	if err := check(r); err != nil {
		return nil, err
	}
	v := (*C.tnt_verdict)(r.ptr)
	defer C.tnt_verdict_free(v)
	conf := C.tntgo_verdict_confidence(v)
	out := &Verdict{Kind: VerdictKind(C.tnt_verdict_get(v)), Confidence: float64(conf.number), EvidenceLevel: int(conf.flag)}
	n := C.tnt_verdict_reason_count(v)
	for i := C.size_t(0); i < n; i++ {
		if it := C.tntgo_verdict_reason_at(v, i); it.status == C.TNT_OK {
			out.Reasons = append(out.Reasons, Reason{gostr(it.a), gostr(it.b), gostr(it.c)})
		}
	}
	j := C.tntgo_verdict_json(v, C.uint(audience))
	if err := check(j); err != nil {
		return nil, err
	}
	out.JSON = takeBytes(j.ptr, j.len)
	return out, nil
}

// ServiceKey is the service's public key (base64url) that signs answers.
func (e *Engine) ServiceKey(ctx context.Context) (string, error) {
	h, err := e.enter(ctx)
	if err != nil {
		return "", err
	}
	defer e.leave()
	r := C.tntgo_engine_service_key(h)
	if err := check(r); err != nil {
		return "", err
	}
	return string(takeBytes(r.ptr, r.len)), nil
}

// VerifyVerdict checks a signed JSON answer offline against a public key:
// nil when it verifies, an error matching ErrInvalid when it does not.
func VerifyVerdict(answer []byte, publicKey string) error {
	var a cArgs
	defer a.free()
	key := a.str("publicKey", publicKey)
	if a.err != nil {
		return a.err
	}
	buf := C.CBytes(answer)
	defer C.free(buf)
	return check(C.tntgo_verdict_verify((*C.char)(buf), C.size_t(len(answer)), key))
}

// Keygen makes a brand's Ed25519 key pair, base64url encoded; keep the
// secret secret.
func Keygen() (publicKey, secretKey string, err error) {
	k := C.tntgo_keygen_pair()
	if k.status < 0 {
		return "", "", newError(k.status, k.err)
	}
	publicKey, secretKey = C.GoString(k.public_key), C.GoString(k.secret_key)
	C.tnt_free(unsafe.Pointer(k.public_key))
	C.tnt_free(unsafe.Pointer(k.secret_key))
	return publicKey, secretKey, nil
}

// SignCode signs a code for a brand: the GS1 Digital Link on stem (""
// for https://id.gs1.org) carrying the signature as AI 8030.
func SignCode(code, secretKey, stem string) (string, error) {
	var a cArgs
	defer a.free()
	cc, cs, st := a.str("code", code), a.str("secretKey", secretKey), a.opt("stem", stem)
	if a.err != nil {
		return "", a.err
	}
	r := C.tntgo_sign_code(cc, cs, st)
	if err := check(r); err != nil {
		return "", err
	}
	return string(takeBytes(r.ptr, r.len)), nil
}
