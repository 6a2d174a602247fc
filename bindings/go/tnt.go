// Package tnt is the Go binding of libtnt: GS1 EPCIS 2.0 track and trace
// of consumer goods.
//
// It is a thin cgo layer over the public C ABI (include/tnt/*.h), linked
// through pkg-config against an installed libtnt:
//
//	PKG_CONFIG_PATH=/usr/local/lib/pkgconfig go build ./...
//
// Every call is safe for concurrent use: an Engine may be shared by any
// number of goroutines. Results are copied into Go values, so nothing the
// library allocated outlives the call that made it, and no Go memory is
// handed to C. Failures are *Error values carrying the library's status
// code, its name and message; compare them with errors.Is against ErrNotFound,
// ErrInvalid and the other sentinels. A string argument holding a NUL byte
// is refused with an error matching ErrInvalid: C would read it cut short,
// as another string.
//
// The engine's calls cannot be interrupted once they run; a context.Context
// argument is checked before a call starts and between the steps of calls
// made of many (pages, documents, and the reads of IngestReader), so a
// cancelled request starts no new work.
package tnt

/*
#cgo pkg-config: libtnt
#include "shim.h"
*/
import "C"

import "fmt"

//go:generate go run ./internal/generr

// Version is the version of the libtnt this binding was compiled against.
const Version = C.TNT_VERSION_STRING

// LibraryVersion is the version of the libtnt loaded at run time.
func LibraryVersion() string { return C.GoString(C.tnt_version_string()) }

// Features lists the features compiled into the loaded library.
func Features() string { return C.GoString(C.tnt_features()) }

// checkVersion refuses a shared library older than the headers the binding
// was compiled with (the same major is ABI compatible; newer minors only add).
func checkVersion() error {
	have, want := int(C.tnt_version_number()), int(C.TNT_VERSION_NUMBER)
	if have/10000 != want/10000 || have < want {
		return fmt.Errorf("tnt: libtnt %s is loaded, but this binding needs %s or a newer 1.x", LibraryVersion(), Version)
	}
	return nil
}

var versionErr = checkVersion()
