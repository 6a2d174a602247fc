package tnt

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/cgo"
	"unsafe"
)

// streamIn is a document being read for IngestReader.
type streamIn struct {
	ctx context.Context
	r   io.Reader
	err error // why reading stopped early (the reader's error, or the context's)
}

// tntgoRead fills the library's buffer from the Go reader: the number of
// bytes, 0 at the end, -1 when the reader fails or the context is done.
//
//export tntgoRead
func tntgoRead(h C.uintptr_t, buf unsafe.Pointer, capacity C.size_t) C.int64_t {
	s := cgo.Handle(h).Value().(*streamIn)
	b := unsafe.Slice((*byte)(buf), int(capacity)) // C memory, written in place
	for empty := 0; ; empty++ {
		if s.ctx != nil && s.ctx.Err() != nil {
			s.err = s.ctx.Err()
			return -1
		}
		n, err := s.r.Read(b)
		if n > 0 {
			return C.int64_t(n) // an error with data comes back on the next Read
		}
		if errors.Is(err, io.EOF) {
			return 0
		}
		if err != nil {
			s.err = err
			return -1
		}
		if empty >= 100 {
			s.err = io.ErrNoProgress
			return -1
		}
	}
}

// IngestReader ingests a document read from r — a request body, a file, a
// decompressor — streamed in constant memory, in 64 KB reads. The results
// are those of Ingest. When r fails or ctx is done before the end, the
// events read before stand (they are in the report) and the error wraps
// both the library's (ErrIO) and the cause (errors.Is(err,
// context.Canceled) works).
func (e *Engine) IngestReader(ctx context.Context, r io.Reader) (*IngestReport, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: IngestReader needs a reader", ErrMisuse)
	}
	h, err := e.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer e.leave()
	s := &streamIn{ctx: ctx, r: r}
	handle := cgo.NewHandle(s)
	defer handle.Delete()
	res := C.tntgo_engine_ingest_stream(h, C.uintptr_t(handle), 0)
	rep := takeReport(res.ptr)
	err = check(res)
	if err != nil && s.err != nil {
		err = fmt.Errorf("%w: %w", err, s.err)
	}
	return rep, err
}
