package tnt_test

import (
	"context"
	"testing"
)

func BenchmarkTrack(b *testing.B) {
	e, err := tntOpenBench(b)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Track(ctx, unit); err != nil {
			b.Fatal(err)
		}
	}
}
