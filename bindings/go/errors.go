package tnt

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// ErrorCode is a libtnt status code (tnt_status).
type ErrorCode int

// String is the code's symbolic name, "TNT_E_NOTFOUND".
func (c ErrorCode) String() string {
	if i, ok := codeInfo[c]; ok {
		return i.name
	}
	return C.GoString(C.tnt_status_name(C.int(c)))
}

// Error is a failure reported by libtnt.
type Error struct {
	Code    ErrorCode // the status code
	Name    string    // its symbolic name, "TNT_E_INVALID"
	Message string    // what failed and where (tnt_error_last), or the code's text
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

// Is matches errors of the same code, so errors.Is(err, tnt.ErrNotFound) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Retriable reports whether the same call may succeed later (a time-out, a
// backend failure, a conflicting concurrent update).
func (e *Error) Retriable() bool { return codeInfo[e.Code].retriable }

// ErrClosed is returned by the methods of an Engine after Close.
var ErrClosed = errors.New("tnt: engine is closed")

// CodeOf is the libtnt status code of err, CodeOK for nil, and 0 with
// ok false when err did not come from libtnt.
func CodeOf(err error) (code ErrorCode, ok bool) {
	var e *Error
	if err == nil {
		return CodeOK, true
	}
	if errors.As(err, &e) {
		return e.Code, true
	}
	return 0, false
}

// newError makes the error of status st with the message copied from C
// (freed here; may be NULL).
func newError(st C.int, msg *C.char) error {
	code := ErrorCode(st)
	e := &Error{Code: code, Name: code.String()}
	if msg != nil {
		e.Message = C.GoString(msg)
		C.free(unsafe.Pointer(msg))
	}
	if e.Message == "" {
		e.Message = C.GoString(C.tnt_status_str(st))
	}
	return e
}

// check turns a wrapped call's result into an error (nil on success).
func check(r C.tntgo_res) error {
	if r.status < 0 {
		return newError(r.status, r.err)
	}
	if r.err != nil {
		C.free(unsafe.Pointer(r.err))
	}
	return nil
}

// takeBytes copies a buffer the library allocated and frees it.
func takeBytes(p unsafe.Pointer, n C.size_t) []byte {
	if p == nil {
		return nil
	}
	b := C.GoBytes(p, C.int(n))
	C.tnt_free(p)
	return b
}
