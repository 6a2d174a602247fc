package server

import (
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

//go:generate cp ../../../docs/openapi.json openapi.json

//go:embed openapi.json
var openapiJSON []byte

// Server is the REST API over one engine.
type Server struct {
	cfg      *Config
	eng      *tnt.Engine
	log      *slog.Logger
	partners *partners
	public   *limiter // per client address
	partner  *limiter // per partner
	handled  handledCache
	jobs     *captureJobs
	ready    atomic.Bool
	draining atomic.Bool
	// writeErr is the latest engine failure a write met, until a write
	// (or the readiness probe) succeeds after it.
	writeErr atomic.Pointer[error]
	metrics  *metrics
	registry *prometheus.Registry
	mux      *http.ServeMux
	handler  http.Handler
}

// New makes the server; it serves once SetReady(true).
func New(cfg *Config, eng *tnt.Engine, log *slog.Logger) (*Server, error) {
	ps, err := newPartners(cfg.Partners)
	if err != nil {
		return nil, err
	}
	jobs, err := newCaptureJobs(cfg.CaptureJobs, cfg.JobsDir, log)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, eng: eng, log: log, partners: ps,
		public: newLimiter(cfg.RateLimit.Public), partner: newLimiter(cfg.RateLimit.Partner),
		handled:  handledCache{size: 1 << 20},
		jobs:     jobs,
		registry: prometheus.NewRegistry(),
		mux:      http.NewServeMux(),
	}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = newMetrics(s.registry, eng)
	s.routes()
	s.handler = s.observe(s.mux)
	return s, nil
}

// SetReady says whether /readyz answers 200 (false while starting).
func (s *Server) SetReady(v bool) { s.ready.Store(v) }

// Shutdown takes the server out of service. /readyz answers 503 at once and
// responses close their connections; after drain_delay, time for load
// balancers to see it while requests are still served, hs stops accepting
// connections and waits for the requests in flight, up to
// timeouts.shutdown. ctx ends the delay and the wait early.
func (s *Server) Shutdown(ctx context.Context, hs *http.Server) error {
	s.draining.Store(true)
	hs.SetKeepAlivesEnabled(false)
	if d := time.Duration(*s.cfg.DrainDelay); d > 0 {
		s.log.Info("shutting down: not ready, serving until the drain delay ends", "delay", d.String())
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	timeout := time.Duration(s.cfg.Timeouts.Shutdown)
	s.log.Info("shutting down: draining requests in flight", "timeout", timeout.String())
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return hs.Shutdown(ctx)
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer is an http.Server with the configured address and timeouts.
func (s *Server) HTTPServer() *http.Server {
	t := s.cfg.Timeouts
	return &http.Server{
		Addr:              s.cfg.Listen,
		Handler:           s.handler,
		ReadHeaderTimeout: time.Duration(t.ReadHeader),
		ReadTimeout:       time.Duration(t.Read),
		WriteTimeout:      time.Duration(t.Write),
		IdleTimeout:       time.Duration(t.Idle),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) routes() {
	m := s.mux
	// Operations.
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	m.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openapiJSON)
	})
	// B2B.
	m.HandleFunc("GET /api/v1/track/{id}", s.partnerOnly(s.track))
	m.HandleFunc("GET /api/v1/track/{id}/history", s.partnerOnly(s.history))
	m.HandleFunc("POST /api/v1/report", s.partnerOnly(s.report))
	m.HandleFunc("POST /api/v1/master", s.partnerOnly(s.masterUpload))
	m.HandleFunc("GET /api/v1/master/{kind}/{key}", s.partnerOnly(s.masterGet))
	// EPCIS 2.0 REST.
	m.HandleFunc("POST /capture", s.partnerOnly(s.capture))
	m.HandleFunc("GET /capture", s.partnerOnly(s.captureList))
	m.HandleFunc("GET /capture/{id}", s.partnerOnly(s.captureJob))
	m.HandleFunc("POST /events", s.partnerOnly(s.captureEvent))
	m.HandleFunc("GET /events", s.partnerOnly(s.queryEvents))
	m.HandleFunc("GET /events/{id}", s.partnerOnly(s.event))
	s.epcisSetup() // the EPCIS discovery (OPTIONS, the root's too); the capture jobs of earlier runs
	s.publicRoutes()
}

// readyz: ready when the server is neither starting nor shutting down, the
// engine answers, and it takes writes (after a write failed, until one
// succeeds: writable).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.draining.Load():
		writeProblem(w, r, problem("unavailable", http.StatusServiceUnavailable, "shutting down"))
		return
	case !s.ready.Load():
		writeProblem(w, r, problem("unavailable", http.StatusServiceUnavailable, "starting"))
		return
	}
	if _, err := s.eng.Stats(r.Context()); err != nil {
		writeProblem(w, r, errorProblem(err))
		return
	}
	if err := s.writable(r.Context()); err != nil {
		pr := errorProblem(err)
		p := problem("unavailable", http.StatusServiceUnavailable, "the engine takes no writes: "+pr.Detail)
		p.Code = pr.Code
		writeProblem(w, r, p)
		return
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

// wrote notes the outcome of a write that started when writeErr was
// before: a failure of the engine is remembered, a success forgets the
// failures met before it started (not one a concurrent write met since).
func (s *Server) wrote(before *error, err error) {
	if err == nil {
		if before != nil && s.writeErr.CompareAndSwap(before, nil) {
			s.log.Info("the engine takes writes again")
		}
		return
	}
	if pr := errorProblem(err); pr.Status >= 500 && pr.Code != "" {
		s.writeErr.Store(&err)
	}
}

// writable is nil unless a write met an engine failure that no write since
// has cleared. Then it asks the engine: an ingest of no events is what a
// write does first (a stopped engine tries to heal, and refuses until it
// has), and stores nothing.
func (s *Server) writable(ctx context.Context) error {
	before := s.writeErr.Load()
	if before == nil {
		return nil
	}
	_, err := s.eng.Ingest(ctx, []byte("[]"))
	s.wrote(before, err)
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, nil, problem("internal", 500, err.Error()))
		return
	}
	writeRaw(w, status, "application/json", b)
}

func writeRaw(w http.ResponseWriter, status int, ctype string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}

// ---- middleware ----

type ctxKey int

const infoKey ctxKey = 0

// reqInfo collects what the access log and the metrics need to know.
type reqInfo struct {
	partner string
}

// recorder keeps the status and size of a response, and turns the
// ServeMux's plain-text 404 and 405 into problem documents.
type recorder struct {
	http.ResponseWriter
	s       *Server
	r       *http.Request
	status  int
	bytes   int64
	swallow bool
	failure []byte // the problem document of a 5xx answer
}

func (w *recorder) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) && w.r.Pattern == "" &&
		strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.swallow = true
		w.Header().Del("X-Content-Type-Options")
		// Unknown paths count against the client's public allowance.
		if ok, wait := w.s.public.allow(w.s.clientAddr(w.r), time.Now()); !ok {
			w.status = http.StatusTooManyRequests
			w.s.rateLimited(w.ResponseWriter, w.r, "public", wait)
			return
		}
		p := problem("not-found", code, "no such resource: see /openapi.json")
		if code == http.StatusMethodNotAllowed {
			p = problem("method", code, w.r.Method+" is not allowed here; allowed: "+w.Header().Get("Allow"))
		}
		writeProblem(w.ResponseWriter, w.r, p)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status >= 500 && w.failure == nil && w.Header().Get("Content-Type") == "application/problem+json" {
		w.failure = b // writeProblem writes it whole, once
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe wraps every request: metrics, the access log, and a recovered
// panic as a 500 problem.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey, info))
		rec := &recorder{ResponseWriter: w, s: s, r: r}
		if p := r.URL.EscapedPath(); strings.Contains(p, "//") || strings.Contains(p+"/", "/./") || strings.Contains(p+"/", "/../") {
			// No redirects to a cleaned path: an API answers the path it was given.
			writeProblem(rec, r, problem("not-found", http.StatusNotFound, "no such resource: the path has empty, . or .. segments"))
			return
		}
		s.metrics.inFlight.Inc()
		defer func() {
			s.metrics.inFlight.Dec()
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "path", r.URL.Path, "panic", v)
				if rec.status == 0 {
					writeProblem(rec, r, problem("internal", 500, "internal error"))
				}
				rec.failure = nil // logged
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if rec.failure != nil && route != "GET /readyz" {
				s.logFailure(r, route, rec, info)
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(rec.status)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
			if *s.cfg.AccessLog {
				s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
					slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
					slog.Float64("ms", float64(d.Microseconds())/1000), slog.String("client", s.clientAddr(r)),
					slog.String("partner", info.partner))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// logFailure logs a 5xx answer at error level when a failure caused it:
// the library's (the problem names its code: storage, corruption, memory,
// stopped writes) or the server's own (500). A 503 that names no code (a
// cancelled request, shutting down) is no failure; /readyz's answers say
// what the failed request already logged.
func (s *Server) logFailure(r *http.Request, route string, rec *recorder, info *reqInfo) {
	var p struct{ Code, Detail string }
	json.Unmarshal(rec.failure, &p)
	if p.Code == "" && rec.status != http.StatusInternalServerError {
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
		slog.Int("status", rec.status), slog.String("code", p.Code), slog.String("error", p.Detail),
		slog.String("client", s.clientAddr(r)), slog.String("partner", info.partner))
}

// methodLabel is a request's method as a metrics label: a client may send
// any token as a method, and each would be a new series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// clientAddr is the client's IP address: the connection's peer, or the
// last address in X-Forwarded-For that is not a trusted proxy.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(s.cfg.trusted) == 0 || !s.isTrusted(host) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		if !s.isTrusted(h) {
			return h
		}
		host = h
	}
	return host
}

func (s *Server) isTrusted(addr string) bool {
	ip := net.ParseIP(addr)
	if ip == nil {
		return false
	}
	for _, n := range s.cfg.trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func (s *Server) rateLimited(w http.ResponseWriter, r *http.Request, scope string, wait time.Duration) {
	s.metrics.limited.WithLabelValues(scope).Inc()
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeProblem(w, r, problem("rate-limited", http.StatusTooManyRequests,
		"slow down: try again in "+strconv.Itoa(secs)+" s"))
}

// publicOnly limits the rate of each client address.
func (s *Server) publicOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := s.public.allow(s.clientAddr(r), time.Now()); !ok {
			s.rateLimited(w, r, "public", wait)
			return
		}
		h(w, r)
	}
}

// partnerOnly authenticates the partner and limits its rate.
func (s *Server) partnerOnly(h func(http.ResponseWriter, *http.Request, *Partner)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cred, given := credential(r)
		p := s.partners.lookup(cred)
		if p == nil {
			// Failed attempts count against the client's public allowance,
			// which makes guessing credentials slow.
			if ok, wait := s.public.allow(s.clientAddr(r), time.Now()); !ok {
				s.rateLimited(w, r, "public", wait)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="tnt", charset="UTF-8"`)
			detail := "this endpoint is for partners: send an API key (X-API-Key) or a bearer token (Authorization: Bearer …)"
			if given {
				detail = "the API key or bearer token is not valid"
			}
			writeProblem(w, r, problem("unauthorized", http.StatusUnauthorized, detail))
			return
		}
		if ok, wait := s.partner.allow(p.ID, time.Now()); !ok {
			s.rateLimited(w, r, "partner", wait)
			return
		}
		if info, ok := r.Context().Value(infoKey).(*reqInfo); ok {
			info.partner = p.ID
		}
		h(w, r, p)
	}
}

// optionalPartner is the partner a request authenticates as, if any.
func (s *Server) optionalPartner(r *http.Request) *Partner {
	cred, given := credential(r)
	if !given {
		return nil
	}
	return s.partners.lookup(cred)
}
