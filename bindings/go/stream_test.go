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

func TestReadEach(t *testing.T) {
	ctx := context.Background()
	doc := streamDoc("E", 300) // ~60 KB: more than one 64 KiB chunk only with the slow reader
	all, err := tnt.ReadAll(ctx, doc, nil)
	if err != nil || len(all) != 300 {
		t.Fatalf("ReadAll: %d events, %v", len(all), err)
	}
	// one byte at a time, and a document larger than a chunk
	big := streamDoc("F", 2000)
	for _, src := range []struct {
		name string
		r    io.Reader
		n    int
	}{{"one byte at a time", iotest.OneByteReader(bytes.NewReader(doc)), 300}, {"several chunks", bytes.NewReader(big), 2000}} {
		var ids []string
		err := tnt.ReadEach(ctx, src.r, nil, func(ev *tnt.Event) error {
			if ev.Index != len(ids) || !ev.Valid || ev.HashID == "" {
				t.Fatalf("%s: event %d: index %d, valid %v, hash %q", src.name, len(ids), ev.Index, ev.Valid, ev.HashID)
			}
			ids = append(ids, ev.HashID)
			return nil
		})
		if err != nil || len(ids) != src.n {
			t.Fatalf("%s: %d events, %v", src.name, len(ids), err)
		}
		if src.n == 300 {
			for i := range ids {
				if ids[i] != all[i].HashID {
					t.Fatalf("event %d: hash %s, ReadAll says %s", i, ids[i], all[i].HashID)
				}
			}
		}
	}
	// ErrStop ends the reading without an error; another error is returned
	n := 0
	if err := tnt.ReadEach(ctx, bytes.NewReader(big), nil, func(*tnt.Event) error {
		if n++; n == 10 {
			return tnt.ErrStop
		}
		return nil
	}); err != nil || n != 10 {
		t.Fatalf("ErrStop: %d events, %v", n, err)
	}
	mine := errors.New("mine")
	if err := tnt.ReadEach(ctx, bytes.NewReader(doc), nil, func(*tnt.Event) error { return mine }); err != mine {
		t.Fatalf("fn's error: %v", err)
	}
	// a broken document: the events before the break, then ErrSyntax
	n = 0
	broken := append(append([]byte{}, doc[:len(doc)/2]...), []byte("}}}")...)
	err = tnt.ReadEach(ctx, bytes.NewReader(broken), nil, func(*tnt.Event) error { n++; return nil })
	if !errors.Is(err, tnt.ErrSyntax) || n == 0 || n >= 300 {
		t.Fatalf("broken document: %d events, %v", n, err)
	}
	// a failing source
	if err := tnt.ReadEach(ctx, iotest.ErrReader(io.ErrClosedPipe), nil, func(*tnt.Event) error { return nil }); err != io.ErrClosedPipe {
		t.Fatalf("failing source: %v", err)
	}
	// a cancelled context
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := tnt.ReadEach(cctx, bytes.NewReader(doc), nil, func(*tnt.Event) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
