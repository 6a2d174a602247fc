package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The server's own cost per request, without the network: the middleware
// (routing, metrics, authentication), the handler and the engine call.
// go test -run - -bench Handler -benchmem ./server
func benchHandler(b *testing.B, f *fixture, req *http.Request) {
	h := f.srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

func BenchmarkTrackHandler(b *testing.B) {
	f := newFixture(b, nil)
	f.journey("B1")
	req := httptest.NewRequest("GET", "/api/v1/track/"+esc(unitID("B1")), nil)
	req.Header.Set("X-API-Key", brandKey)
	benchHandler(b, f, req)
}

func BenchmarkAuthenticateHandler(b *testing.B) {
	cfg := testConfig(b, "")
	cfg.RateLimit.Public = Rate{PerSecond: -1} // one client here
	f := newFixture(b, cfg)
	f.journey("B1")
	req := httptest.NewRequest("GET", "/01/09506000134352/21/B1", nil)
	req.Header.Set("Accept", "application/json")
	benchHandler(b, f, req)
}
