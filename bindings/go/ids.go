package tnt

/*
#include "shim.h"
*/
import "C"

import (
	"strings"
	"unsafe"
)

// IDType is the kind of a GS1 identifier.
type IDType int

const (
	IDUnknown IDType = C.TNT_ID_UNKNOWN
	GTIN      IDType = C.TNT_ID_GTIN
	SGTIN     IDType = C.TNT_ID_SGTIN
	LGTIN     IDType = C.TNT_ID_LGTIN
	SSCC      IDType = C.TNT_ID_SSCC
	GLN       IDType = C.TNT_ID_GLN
	SGLN      IDType = C.TNT_ID_SGLN
	PGLN      IDType = C.TNT_ID_PGLN
	GRAI      IDType = C.TNT_ID_GRAI
	GIAI      IDType = C.TNT_ID_GIAI
)

// String is the type's lower-case name: "sgtin".
func (t IDType) String() string { return C.GoString(C.tnt_id_type_name(C.tnt_id_type(t))) }

// MarshalText writes the type's name.
func (t IDType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// AI is one GS1 application identifier and its value.
type AI struct {
	AI    string `json:"ai"`
	Value string `json:"value"`
}

// ID is a parsed, validated GS1 identifier.
type ID struct {
	Type          IDType `json:"type"`
	Canonical     string `json:"canonical"`      // https://id.gs1.org/… with the key and its qualifiers
	ElementString string `json:"element_string"` // (01)…(21)…, with the attributes
	DigitalLink   string `json:"digital_link"`   // on IDOptions.Stem, with the attributes as query
	EPCURN        string `json:"epc_urn,omitempty"`
	GCPLength     int    `json:"gcp_length,omitempty"` // company prefix length, when known
	AIs           []AI   `json:"ais"`
}

// AIValue returns the value of an application identifier ("21"), or "".
func (id *ID) AIValue(ai string) string {
	for _, a := range id.AIs {
		if a.AI == ai {
			return a.Value
		}
	}
	return ""
}

// IDError is one reason an identifier is invalid.
type IDError struct {
	Code    string `json:"code"` // "ID_CHECK_DIGIT", …
	Message string `json:"message"`
}

// InvalidIDError is returned by ParseID for an invalid identifier; it
// matches ErrInvalid.
type InvalidIDError struct {
	Input  string
	Errors []IDError
}

func (e *InvalidIDError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, x := range e.Errors {
		msgs[i] = x.Code + ": " + x.Message
	}
	return "TNT_E_INVALID: " + strings.Join(msgs, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidIDError) Is(target error) bool { return target == ErrInvalid }

// IDOptions configure ParseID; the zero value means the defaults.
type IDOptions struct {
	GCPLength int    // company prefix length (6..12) for the EPC URN; 0: unknown
	Stem      string // Digital Link domain and path; "": https://id.gs1.org
}

// ParseID parses and validates an identifier in any form: EPC URN, GS1
// Digital Link (any domain, with query attributes), element string,
// barcode data or plain GTIN.
func ParseID(text string, opts *IDOptions) (*ID, error) {
	if opts == nil {
		opts = &IDOptions{}
	}
	var a cArgs
	defer a.free()
	ct, stem := a.str("text", text), a.opt("IDOptions.Stem", opts.Stem)
	if a.err != nil {
		return nil, a.err
	}
	res := C.tntgo_id_new()
	if err := check(res); err != nil {
		return nil, err
	}
	h := (*C.tnt_id)(res.ptr)
	defer C.tnt_id_free(h)
	pr := C.tntgo_id_parse(h, ct, C.size_t(len(text)), C.int(opts.GCPLength))
	if pr.status == C.TNT_E_INVALID {
		_ = check(pr)
		e := &InvalidIDError{Input: text}
		n := C.tnt_id_error_count(h)
		for i := C.size_t(0); i < n; i++ {
			if it := C.tntgo_id_error_at(h, i); it.status == C.TNT_OK {
				e.Errors = append(e.Errors, IDError{gostr(it.a), gostr(it.b)})
			}
		}
		return nil, e
	}
	if err := check(pr); err != nil {
		return nil, err
	}
	id := &ID{
		Type:          IDType(C.tnt_id_get_type(h)),
		Canonical:     gostr(C.tnt_id_canonical(h)),
		ElementString: gostr(C.tnt_id_element_string(h)),
		GCPLength:     int(C.tnt_id_gcp_length(h)),
	}
	n := C.tnt_id_ai_count(h)
	for i := C.size_t(0); i < n; i++ {
		if it := C.tntgo_id_ai_at(h, i); it.status == C.TNT_OK {
			id.AIs = append(id.AIs, AI{gostr(it.a), gostr(it.b)})
		}
	}
	if r := C.tntgo_id_digital_link(h, stem); r.status == C.TNT_OK {
		id.DigitalLink = C.GoStringN((*C.char)(r.ptr), C.int(r.len))
		C.tnt_free(r.ptr)
	} else if err := check(r); err != nil {
		return nil, err
	}
	if r := C.tntgo_id_epc_urn(h); r.status == C.TNT_OK {
		id.EPCURN = C.GoStringN((*C.char)(r.ptr), C.int(r.len))
		C.tnt_free(r.ptr)
	} else {
		_ = check(r) // no URN without a company prefix length: not an error here
	}
	return id, nil
}

// NormalizeID returns the canonical form of an identifier in any form.
func NormalizeID(text string) (string, error) {
	var a cArgs
	defer a.free()
	ct := a.str("text", text)
	if a.err != nil {
		return "", a.err
	}
	r := C.tntgo_id_normalize(ct, C.size_t(len(text)))
	if err := check(r); err != nil {
		return "", err
	}
	s := C.GoStringN((*C.char)(r.ptr), C.int(r.len))
	C.tnt_free(unsafe.Pointer(r.ptr))
	return s, nil
}

// CheckDigit returns the GS1 mod-10 check digit of a string of digits, or
// -1 if it is empty or holds a non-digit.
func CheckDigit(digits string) int {
	var a cArgs
	defer a.free()
	cd := a.str("digits", digits)
	if a.err != nil {
		return -1 // a NUL is not a digit
	}
	return int(C.tnt_gs1_check_digit(cd, C.size_t(len(digits))))
}
