package server

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

// Master data: products, locations and parties, uploaded as JSON or CSV
// and loaded by the engine from a file, all records or none. The server
// checks that every record is the partner's before the engine loads them,
// and learns the records from the engine itself (MasterRecords reads the
// file as MasterLoad will), so that no upload can read one way for the
// check and another for the load.

var masterKinds = map[string]tnt.MasterKind{"products": tnt.MasterProduct, "locations": tnt.MasterLocation, "parties": tnt.MasterParty}

// mayPut: a partner keeps the master data of its own products, locations
// and company.
func mayPut(p *Partner, kind tnt.MasterKind, key string) bool {
	if p.all {
		return true
	}
	switch kind {
	case tnt.MasterProduct:
		if len(key) < 14 && isDigits(key) {
			key = strings.Repeat("0", 14-len(key)) + key
		}
		return len(key) == 14 && p.ownsPrefixOf(key[1:])
	case tnt.MasterLocation:
		return p.locations[key] || p.ownsPrefixOf(key)
	case tnt.MasterParty:
		return p.ownsPrefixOf(key)
	}
	return false
}

// masterUpload stores products, locations and parties: a JSON object of
// lists or a CSV file, all records or none.
func (s *Server) masterUpload(w http.ResponseWriter, r *http.Request, p *Partner) {
	f, pr := bodyFormat(r, formatJSON, formatCSV)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	body, pr := s.readBody(w, r)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	// The engine reads JSON when the first byte that is not white space is
	// {, and CSV otherwise; a body that says otherwise than its
	// Content-Type is a mistake worth naming. A NUL would end its reading.
	t := bytes.TrimLeft(body, " \t\r\n")
	isJSON := len(t) > 0 && t[0] == '{'
	switch {
	case bytes.IndexByte(body, 0) >= 0:
		pr = problem("malformed", http.StatusBadRequest, "the body holds a NUL byte")
	case f == formatCSV && isJSON:
		pr = problem("malformed", http.StatusBadRequest, "the body is JSON, but Content-Type says text/csv")
	case f == formatJSON && !isJSON:
		pr = problem("malformed", http.StatusBadRequest, `the body is not a JSON object (it must start with {): {"products":[…],"locations":[…],"parties":[…]}`)
	}
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	ext := ".json"
	if f == formatCSV {
		ext = ".csv"
	}
	tmp, err := os.CreateTemp("", "tnt-master-*"+ext)
	if err != nil {
		writeProblem(w, r, errorProblem(err))
		return
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		writeProblem(w, r, errorProblem(err))
		return
	}
	engineProblem := func(err error) *Problem {
		pr := errorProblem(err)
		pr.Detail = strings.ReplaceAll(pr.Detail, tmp.Name(), "body")
		return pr
	}
	recs, err := s.eng.MasterRecords(r.Context(), tmp.Name())
	if err != nil {
		writeProblem(w, r, engineProblem(err))
		return
	}
	var forbidden []EventProblem
	for i, rec := range recs {
		if !mayPut(p, rec.Kind, rec.Key) {
			forbidden = append(forbidden, EventProblem{Index: i, Code: "FORBIDDEN",
				Path:    strings.ReplaceAll(rec.Where, tmp.Name(), "body"),
				Message: fmt.Sprintf("the %s %s is not yours", rec.Kind, rec.Key)})
		}
	}
	if len(forbidden) > 0 {
		pr := problem("forbidden", http.StatusForbidden, "some records are not yours to keep; nothing was stored")
		pr.Errors = forbidden
		writeProblem(w, r, pr)
		return
	}
	n, err := s.eng.MasterLoad(r.Context(), tmp.Name())
	if err != nil {
		writeProblem(w, r, engineProblem(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"loaded": n})
}

func (s *Server) masterGet(w http.ResponseWriter, r *http.Request, p *Partner) {
	kind, ok := masterKinds[r.PathValue("kind")]
	if !ok {
		writeProblem(w, r, problem("not-found", http.StatusNotFound, "kind must be products, locations or parties"))
		return
	}
	rec, err := s.eng.MasterGet(r.Context(), kind, r.PathValue("key"))
	if err != nil {
		writeProblem(w, r, errorProblem(err))
		return
	}
	writeRaw(w, http.StatusOK, "application/json", rec)
}
