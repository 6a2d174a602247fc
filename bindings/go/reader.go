package tnt

/*
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"
	"unsafe"
)

// ReadFlags are the steps a Reader runs.
type ReadFlags uint

const (
	ReadValidate  ReadFlags = C.TNT_READ_VALIDATE  // check the EPCIS rules
	ReadHash      ReadFlags = C.TNT_READ_HASH      // compute the event hash ID
	ReadNormalize ReadFlags = C.TNT_READ_NORMALIZE // canonical identifiers, values, times, units
	ReadDefault   ReadFlags = C.TNT_READ_DEFAULT   // all three
)

// ReaderOptions configure a Reader; the zero value means the defaults.
type ReaderOptions struct {
	Flags         ReadFlags     // 0: ReadDefault
	FutureSkew    time.Duration // 0: 1 h; < 0: no check
	MaxEventBytes int           // 0: 1 MiB
	URN           bool          // normalised identifiers as EPC URNs where the company prefix is known
	KeepJSON      bool          // fill Event.JSON
}

// Reader reads a document event by event (decode → validate → hash →
// normalise) in constant memory: Feed it bytes in any chunking, call Next
// until it returns ok false, Finish, and Next again. Not safe for
// concurrent use; Close it when done.
type Reader struct {
	r    *C.tnt_reader
	keep bool
	in   unsafe.Pointer // the C copy of the bytes fed, read until Next says TNT_AGAIN
}

// NewReader makes a Reader (opts may be nil).
func NewReader(opts *ReaderOptions) (*Reader, error) {
	if opts == nil {
		opts = &ReaderOptions{}
	}
	skew := C.int64_t(opts.FutureSkew.Milliseconds())
	if opts.FutureSkew < 0 {
		skew = -1
	}
	urn := C.int(0)
	if opts.URN {
		urn = 1
	}
	res := C.tntgo_reader_new(C.uint(opts.Flags), skew, C.size_t(opts.MaxEventBytes), urn)
	if err := check(res); err != nil {
		return nil, err
	}
	return &Reader{r: (*C.tnt_reader)(res.ptr), keep: opts.KeepJSON}, nil
}

// Close frees the reader.
func (r *Reader) Close() {
	if r.r != nil {
		C.tnt_reader_free(r.r)
		r.r = nil
	}
	r.release()
}

func (r *Reader) release() {
	if r.in != nil {
		C.free(r.in)
		r.in = nil
	}
}

func (r *Reader) docError(st C.int) error {
	return &Error{Code: ErrorCode(st), Name: ErrorCode(st).String(), Message: C.GoString(C.tnt_reader_errmsg(r.r))}
}

// Feed gives the reader the next bytes of the document.
func (r *Reader) Feed(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if r.in != nil {
		return &Error{Code: CodeMisuse, Name: CodeMisuse.String(), Message: "Feed: call Next until it returns ok false before feeding more"}
	}
	// The reader borrows the bytes until Next has consumed them.
	buf := C.CBytes(p)
	if st := C.tnt_reader_feed(r.r, buf, C.size_t(len(p))); st < 0 {
		C.free(buf)
		return r.docError(st)
	}
	r.in = buf
	return nil
}

// Finish declares the end of the document.
func (r *Reader) Finish() error {
	if st := C.tnt_reader_finish(r.r); st < 0 {
		return r.docError(st)
	}
	return nil
}

// Next returns the next event (valid or not: see Event.Valid), or ok false
// when it needs more input or the document is done; err is a
// document-level failure (ErrSyntax, ErrTooBig, ErrInvalid).
func (r *Reader) Next() (ev *Event, ok bool, err error) {
	it := C.tntgo_reader_next(r.r)
	st := it.status
	switch {
	case st == C.TNT_OK:
		ev, err = copyEvent((*C.tnt_event)(unsafe.Pointer(it.a)), r.keep)
		return ev, err == nil, err
	case st < 0:
		r.release()
		return nil, false, r.docError(st)
	}
	r.release() // TNT_AGAIN or TNT_DONE: the bytes fed are consumed
	return nil, false, nil
}

// Header returns the document's members other than its events, as JSON.
func (r *Reader) Header() []byte {
	p := C.tnt_reader_header(r.r)
	return C.GoBytes(unsafe.Pointer(p), C.int(C.strlen(p)))
}

// ReadAll reads a whole document held in memory. On a document-level
// failure it returns the events before it together with the error.
func ReadAll(ctx context.Context, data []byte, opts *ReaderOptions) ([]*Event, error) {
	var out []*Event
	err := ReadEach(ctx, bytes.NewReader(data), opts, func(ev *Event) error {
		out = append(out, ev)
		return nil
	})
	return out, err
}

// ErrStop, returned by the function given to ReadEach, ends the reading
// early; ReadEach then returns nil.
var ErrStop = errors.New("tnt: stop reading")

// ReadEach reads a document from src in chunks, in constant memory, and
// calls fn with each event in document order (valid or not: see
// Event.Valid); the events are not kept. An error from fn ends the reading
// and is returned (ErrStop: nil); so is a document-level failure, after the
// events before it, an error reading src, and ctx's error between chunks
// and events.
func ReadEach(ctx context.Context, src io.Reader, opts *ReaderOptions, fn func(*Event) error) error {
	r, err := NewReader(opts)
	if err != nil {
		return err
	}
	defer r.Close()
	buf := make([]byte, 64<<10)
	for done := false; ; {
		if !done {
			n, rerr := io.ReadFull(src, buf)
			if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
				return rerr
			}
			// A failure to feed or finish stops the document; Next reports
			// it after the events before it.
			_ = r.Feed(buf[:n])
			if rerr != nil {
				done = true
				_ = r.Finish()
			}
		}
		for {
			if ctx != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			ev, ok, err := r.Next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if err := fn(ev); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
		if done {
			return nil
		}
	}
}
