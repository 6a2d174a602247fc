package server

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

// The B2C interface: anyone may ask whether a product is genuine, by its
// identifier (GET /api/v1/authenticate/{id}) or by the GS1 Digital Link
// printed in the pack's QR code (GET /01/{gtin}/…), which this server
// answers as it is. API clients get the signed JSON answer; browsers get a
// page in plain words.

func (s *Server) publicRoutes() {
	s.mux.HandleFunc("GET /api/v1/authenticate/{id}", s.publicOnly(func(w http.ResponseWriter, r *http.Request) {
		s.authenticate(w, r, r.PathValue("id"))
	}))
	// The Digital Link of a pack: /01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]?17=…&8030=…
	s.mux.HandleFunc("GET /01/{rest...}", s.publicOnly(func(w http.ResponseWriter, r *http.Request) {
		code := s.cfg.PublicURL + r.URL.EscapedPath()
		if q := r.URL.Query(); q.Has("linkType") {
			if q = withoutLinkType(q); len(q) > 0 {
				code += "?" + q.Encode()
			}
		} else if r.URL.RawQuery != "" {
			code += "?" + r.URL.RawQuery
		}
		if s.resolve(w, r, code) {
			return
		}
		w.Header().Add("Link", "<"+linksetURL(code)+`>; rel="linkset"; type="application/linkset+json"`)
		s.authenticate(w, r, code)
	}))
	// A code typed in by hand, from the home page's form.
	s.mux.HandleFunc("GET /verify", s.publicOnly(func(w http.ResponseWriter, r *http.Request) {
		code := r.URL.Query().Get("code")
		if code == "" {
			writeProblem(w, r, problem("bad-request", http.StatusBadRequest, "give the code: /verify?code=…"))
			return
		}
		s.authenticate(w, r, code)
	}))
	s.mux.HandleFunc("GET /{$}", s.publicOnly(s.home))
}

// ---- GS1 Digital Link resolution: the links of a pack ----

const gs1voc = "https://gs1.org/voc/"

// withoutLinkType: the query of a Digital Link less the resolver's own
// parameters (the code's attributes, 17, 10, 8030, …, stay).
func withoutLinkType(q url.Values) url.Values {
	q.Del("linkType")
	return q
}

func linksetURL(code string) string {
	if strings.Contains(code, "?") {
		return code + "&linkType=all"
	}
	return code + "?linkType=all"
}

type link struct {
	Href  string `json:"href"`
	Title string `json:"title"`
	Type  string `json:"type"`
}

// links: what this server offers for a code (the GS1 Web Vocabulary's link
// types), in a fixed order.
func (s *Server) links(code, id string) ([]string, map[string]link) {
	order := []string{"defaultLink", "verificationService", "traceability", "epcis"}
	return order, map[string]link{
		"defaultLink": {code, "Is it genuine? The verification page", "text/html"},
		"verificationService": {s.cfg.PublicURL + "/api/v1/authenticate/" + url.PathEscape(code),
			"Is it genuine? The signed answer", "application/json"},
		"traceability": {s.cfg.PublicURL + "/api/v1/track/" + url.PathEscape(id),
			"Where it is and in what condition (supply-chain partners)", "application/json"},
		"epcis": {s.cfg.PublicURL + "/events?MATCH_epc=" + url.QueryEscape(id),
			"Its EPCIS events (supply-chain partners)", "application/ld+json"},
	}
}

// resolve answers a Digital Link the way a GS1 resolver does, and reports
// whether it did: linkType=all (or Accept: application/linkset+json) gives
// the linkset (RFC 9264) of the code; a link type this server has other
// than the default redirects to it (307). Anything else (no linkType, the
// default, a type it has not) is the verification itself. A linkset is no
// verification: no scan is recorded.
func (s *Server) resolve(w http.ResponseWriter, r *http.Request, code string) bool {
	lt := r.URL.Query().Get("linkType")
	if lt == "" && strings.Contains(r.Header.Get("Accept"), "application/linkset+json") {
		lt = "all"
	}
	if lt == "" {
		return false
	}
	name := strings.TrimPrefix(strings.TrimPrefix(lt, "gs1:"), gs1voc)
	if name == "defaultLink" {
		return false
	}
	id, err := tnt.NormalizeID(code)
	if err != nil {
		writeProblem(w, r, idProblem(err))
		return true
	}
	order, links := s.links(code, id)
	if name == "all" {
		entry := map[string]any{"anchor": code}
		for _, k := range order {
			entry[gs1voc+k] = []link{links[k]}
		}
		body, _ := json.Marshal(map[string]any{"linkset": []any{entry}})
		w.Header().Set("Vary", "Accept")
		w.Header().Set("Cache-Control", "max-age=300")
		writeRaw(w, http.StatusOK, "application/linkset+json", body)
		return true
	}
	if l, ok := links[name]; ok {
		w.Header().Set("Vary", "Accept")
		http.Redirect(w, r, l.Href, http.StatusTemporaryRedirect)
		return true
	}
	return false
}

// idProblem is the answer to an identifier of the URL that NormalizeID
// refused: 400 invalid-id, whatever the library's reason (one too long is
// no request too large: 413 is for bodies).
func idProblem(err error) *Problem {
	pr := errorProblem(err)
	if pr.Status < 500 {
		pr.Status, pr.Type, pr.Title = http.StatusBadRequest, problemBase+"invalid-id", problemTitles["invalid-id"]
	}
	return pr
}

// wantsHTML: the client prefers text/html to JSON (a browser), or asked
// for a format with ?format=html|json.
func wantsHTML(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "html":
		return true
	case "json":
		return false
	}
	html, js := -1.0, -1.0
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		switch strings.TrimSpace(mt) {
		case "text/html", "application/xhtml+xml":
			html = max(html, q)
		case "application/json", "application/problem+json":
			js = max(js, q)
		case "*/*", "application/*":
			js = max(js, q*0.99) // a wildcard prefers JSON, but less than an explicit type
		}
	}
	return html > 0 && html > js
}

// scanOf reads the scan context from the query: lat, lon, accuracy (m),
// and for partners intent and location.
func scanOf(r *http.Request) (*tnt.Scan, *Problem) {
	q := r.URL.Query()
	scan := &tnt.Scan{}
	num := func(name string, lo, hi float64) (float64, bool, *Problem) {
		v := q.Get(name)
		if v == "" {
			return 0, false, nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < lo || f > hi {
			return 0, false, problem("bad-request", http.StatusBadRequest,
				name+" must be a number from "+strconv.FormatFloat(lo, 'f', -1, 64)+" to "+strconv.FormatFloat(hi, 'f', -1, 64))
		}
		return f, true, nil
	}
	lat, hasLat, pr := num("lat", -90, 90)
	if pr != nil {
		return nil, pr
	}
	lon, hasLon, pr := num("lon", -180, 180)
	if pr != nil {
		return nil, pr
	}
	if hasLat != hasLon {
		return nil, problem("bad-request", http.StatusBadRequest, "give both lat and lon, or neither")
	}
	scan.Located, scan.Latitude, scan.Longitude = hasLat, lat, lon
	if scan.AccuracyM, _, pr = num("accuracy", 0, 1e7); pr != nil {
		return nil, pr
	}
	return scan, nil
}

var intents = map[string]tnt.ScanIntent{"": tnt.StatusCheck, "status": tnt.StatusCheck, "sell": tnt.Sell, "receive": tnt.Receive, "return": tnt.Return}

const deviceCookie = "tnt_device"

// device is the client's pseudonymous device id: X-Device-ID, or a random
// cookie this server sets (the library stores only its hash). It lets the
// clone checks tell many phones from one.
func device(w http.ResponseWriter, r *http.Request) string {
	if d := r.Header.Get("X-Device-ID"); d != "" && len(d) <= 128 {
		return d
	}
	if c, err := r.Cookie(deviceCookie); err == nil && c.Value != "" && len(c.Value) <= 64 {
		return c.Value
	}
	var b [16]byte
	rand.Read(b[:])
	d := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: d, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return d
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, code string) {
	w.Header().Set("Vary", "Accept")
	html := wantsHTML(r)
	fail := func(pr *Problem) {
		if html {
			s.errorPage(w, r, pr)
			return
		}
		writeProblem(w, r, pr)
	}
	scan, pr := scanOf(r)
	if pr != nil {
		fail(pr)
		return
	}
	audience := tnt.ForConsumer
	if _, given := credential(r); given {
		p := s.optionalPartner(r)
		if p == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tnt", charset="UTF-8"`)
			fail(problem("unauthorized", http.StatusUnauthorized, "the API key or bearer token is not valid"))
			return
		}
		if info, ok := r.Context().Value(infoKey).(*reqInfo); ok {
			info.partner = p.ID
		}
		scan.Role = tnt.Partner
		if r.URL.Query().Get("role") == "retailer" {
			scan.Role = tnt.Retailer
		}
		intent, ok := intents[r.URL.Query().Get("intent")]
		if !ok {
			fail(problem("bad-request", http.StatusBadRequest, "intent must be status, sell, receive or return"))
			return
		}
		scan.Intent = intent
		if loc := r.URL.Query().Get("location"); loc != "" {
			text := loc
			if len(loc) == 13 && isDigits(loc) {
				text = "(414)" + loc // a site's 13 digits are its GLN, not a GTIN-13
			}
			c, err := tnt.NormalizeID(text)
			if err != nil {
				fail(idProblem(err))
				return
			}
			if !p.OwnsLocation(c) {
				fail(problem("forbidden", http.StatusForbidden, "the location "+loc+" is not one of yours"))
				return
			}
			scan.LocationID = c
		}
		scan.DryRun = r.URL.Query().Get("dry_run") == "true"
		// The partner answer (sites, event hashes) is for products the
		// partner may see, as track decides; others get the consumer's.
		if id, err := tnt.NormalizeID(code); err == nil {
			ok, err := s.canSeeID(r.Context(), p, id)
			if err != nil {
				fail(errorProblem(err))
				return
			}
			if ok {
				audience = tnt.ForPartner
			}
		}
	} else if q := r.URL.Query(); q.Get("intent") != "" || q.Get("location") != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tnt", charset="UTF-8"`) // a 401 names its challenge (RFC 9110)
		fail(problem("unauthorized", http.StatusUnauthorized, "intent and location are for partners: authenticate first"))
		return
	} else {
		// a consumer's status check: the scan is evidence, not custody; it is
		// written in the background and the answer does not wait for the disk
		scan.Background = true
	}
	scan.Device = device(w, r)
	v, err := s.eng.Authenticate(r.Context(), code, scan, audience)
	if err != nil {
		fail(errorProblem(err))
		return
	}
	s.metrics.verdicts.WithLabelValues(v.Kind.String()).Inc()
	w.Header().Set("Cache-Control", "no-store")
	if html {
		s.verdictPage(w, r, v)
		return
	}
	writeRaw(w, http.StatusOK, "application/json", v.JSON)
}

// ---- the consumer page ----

// answer is the part of the signed JSON answer the page shows.
type answer struct {
	Verdict string `json:"verdict"`
	Colour  string `json:"colour"`
	Message string `json:"message"`
	GTIN    string `json:"gtin"`
	Serial  string `json:"serial"`
	Product struct {
		Name  string `json:"name"`
		Brand string `json:"brand"`
	} `json:"product"`
	Reasons []tnt.Reason `json:"reasons"`
	Origin  *struct {
		Time       string `json:"time"`
		BrandOwner string `json:"brand_owner"`
		Site       *place `json:"site"`
		Batch      string `json:"batch"`
		Expiry     string `json:"expiry"`
	} `json:"origin"`
	Journey []struct {
		Time  string `json:"time"`
		Step  string `json:"step"`
		Label string `json:"label"`
		Place *place `json:"place"`
	} `json:"journey"`
	Scans struct {
		Before int `json:"before"`
	} `json:"scans"`
	CheckedAt string `json:"checked_at"`
	KeyID     string `json:"key_id"`
}

type place struct {
	Name    string `json:"name"`
	City    string `json:"city"`
	Country string `json:"country"`
}

func (p *place) String() string {
	if p == nil {
		return ""
	}
	var parts []string
	for _, s := range []string{p.Name, p.City, p.Country} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// headlines say the verdict in plain words.
var headlines = map[string]struct{ title, icon string }{
	"GENUINE":         {"Genuine product", "✓"},
	"GENUINE_CAUTION": {"Genuine, with a warning", "!"},
	"DO_NOT_USE":      {"Do not use this product", "✕"},
	"SUSPECT":         {"This code may be a copy", "!"},
	"COUNTERFEIT":     {"Not genuine", "✕"},
	"UNVERIFIABLE":    {"We could not check this code", "?"},
}

func prettyDate(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if t, err = time.Parse("2006-01-02", s); err != nil {
			return s
		}
	}
	return t.Format("2 January 2006")
}

func prettyTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

func (s *Server) verdictPage(w http.ResponseWriter, r *http.Request, v *tnt.Verdict) {
	var a answer
	if err := json.Unmarshal(v.JSON, &a); err != nil {
		s.errorPage(w, r, errorProblem(errors.New("unreadable answer: "+err.Error())))
		return
	}
	if a.Colour == "" {
		a.Colour = "grey"
	}
	h := headlines[a.Verdict]
	if h.title == "" {
		h = headlines["UNVERIFIABLE"]
	}
	data := map[string]any{"A": a, "Title": h.title, "Icon": h.icon, "JSONLink": r.URL.Path + "?" + withFormat(r, "json")}
	renderPage(w, http.StatusOK, "verdict", data)
}

func withFormat(r *http.Request, f string) string {
	q := r.URL.Query()
	q.Set("format", f)
	return q.Encode()
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, p *Problem) {
	renderPage(w, p.Status, "error", map[string]any{"P": p})
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if !wantsHTML(r) {
		writeJSON(w, http.StatusOK, map[string]any{
			"service": "libtnt track and trace", "libtnt": tnt.LibraryVersion(), "openapi": "/openapi.json",
			"authenticate": "/api/v1/authenticate/{product_id}", "digital_link": "/01/{gtin}/21/{serial}",
		})
		return
	}
	renderPage(w, http.StatusOK, "home", nil)
}
