package tnt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

func streamDoc(prefix string, n int) []byte {
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = report(fmt.Sprintf("(01)09506000134352(21)%s%d", prefix, i), "commission", "9506000000015", t0, "")
	}
	return []byte("[" + strings.Join(parts, ",") + "]")
}

// cancelAfter cancels its context once n bytes were read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	if len(p) > 97 {
		p = p[:97]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func TestIngestReader(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	doc := streamDoc("R", 300)

	// one byte at a time: the same as the whole document at once
	rep, err := e.IngestReader(ctx, iotest.OneByteReader(bytes.NewReader(doc)))
	if err != nil || rep.Accepted != 300 || len(rep.Results) != 300 {
		t.Fatalf("IngestReader: %v %+v", err, rep)
	}
	rep, err = e.Ingest(ctx, doc)
	if err != nil || rep.Duplicates != 300 {
		t.Fatalf("Ingest after IngestReader: %v %+v", err, rep)
	}

	// a reader that fails half-way: the events before stand
	doc = streamDoc("F", 300)
	boom := errors.New("connection reset")
	rep, err = e.IngestReader(ctx, io.MultiReader(bytes.NewReader(doc[:len(doc)/2]), iotest.ErrReader(boom)))
	if !errors.Is(err, tnt.ErrIO) || !errors.Is(err, boom) || rep == nil || rep.Accepted == 0 || rep.Accepted >= 300 {
		t.Fatalf("failing reader: %v %+v", err, rep)
	}
	for _, r := range rep.Results {
		if _, err := e.Event(ctx, r.Hash); err != nil {
			t.Fatalf("an accepted event is not stored: %v", err)
		}
	}

	// a context cancelled while reading
	doc = streamDoc("C", 300)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rep, err = e.IngestReader(cctx, &cancelAfter{bytes.NewReader(doc), len(doc) / 3, cancel})
	if !errors.Is(err, context.Canceled) || rep == nil || rep.Accepted >= 300 {
		t.Fatalf("cancelled: %v %+v", err, rep)
	}

	// misuse and a malformed document
	if _, err := e.IngestReader(ctx, nil); !errors.Is(err, tnt.ErrMisuse) {
		t.Fatalf("nil reader: %v", err)
	}
	if _, err := e.IngestReader(ctx, strings.NewReader("[{")); !errors.Is(err, tnt.ErrSyntax) {
		t.Fatalf("malformed: %v", err)
	}
}
