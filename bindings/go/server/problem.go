package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Code is the library's status name ("TNT_E_INVALID") when it failed.
	Code string `json:"code,omitempty"`
	// Errors are the per-event (or per-record) details of a rejected document.
	Errors []EventProblem `json:"errors,omitempty"`
}

// EventProblem is what was wrong with one event or record of a request.
type EventProblem struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

const problemBase = "https://libtnt.org/problems/"

// Titles by problem type; the type URI is problemBase + the key.
var problemTitles = map[string]string{
	"bad-request":       "Bad request",
	"malformed":         "Malformed document",
	"invalid-events":    "Invalid events",
	"invalid-id":        "Invalid identifier",
	"unauthorized":      "Authentication required",
	"forbidden":         "Not permitted",
	"not-found":         "Not found",
	"method":            "Method not allowed",
	"duplicate":         "Event already captured",
	"too-large":         "Request too large",
	"unsupported-media": "Unsupported media type",
	"not-acceptable":    "Not acceptable",
	"rate-limited":      "Too many requests",
	"timeout":           "Request timed out",
	"unavailable":       "Service unavailable",
	"internal":          "Internal error",
}

func problem(kind string, status int, detail string) *Problem {
	return &Problem{Type: problemBase + kind, Title: problemTitles[kind], Status: status, Detail: detail}
}

// The EPCIS 2.0 REST binding's problem types (its OpenAPI's responses) and
// their titles.
const (
	epcisValidation     = "epcisException:ValidationException"
	epcisQueryParameter = "epcisException:QueryParameterException"
	epcisSecurity       = "epcisException:SecurityException"
	epcisNoSuchName     = "epcisException:NoSuchNameException"
	epcisCaptureLimit   = "epcisException:CaptureLimitExceededException"
	epcisImplementation = "epcisException:ImplementationException"
)

var epcisTitles = map[string]string{
	epcisValidation:     "Invalid request",
	epcisQueryParameter: "Invalid query parameter",
	epcisSecurity:       "Access denied",
	epcisNoSuchName:     "Resource not found",
	epcisCaptureLimit:   "Capture limit exceeded",
	epcisImplementation: "Request cannot be served",
}

// epcisException types a problem of an EPCIS endpoint as the EPCIS 2.0
// REST binding does, by its status (a 400 of a GET is about the query);
// statuses the binding names no exception for (405, 408, 409, 429) keep
// this server's types.
func epcisException(p *Problem, method string) *Problem {
	var t string
	switch p.Status {
	case http.StatusBadRequest:
		t = epcisValidation
		if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
			t = epcisQueryParameter
		}
	case http.StatusUnauthorized, http.StatusForbidden:
		t = epcisSecurity
	case http.StatusNotFound:
		t = epcisNoSuchName
	case http.StatusRequestEntityTooLarge:
		t = epcisCaptureLimit
	case http.StatusNotAcceptable, http.StatusUnsupportedMediaType, http.StatusInternalServerError, http.StatusServiceUnavailable:
		t = epcisImplementation
	default:
		return p
	}
	p.Type, p.Title = t, epcisTitles[t]
	return p
}

func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Instance == "" && r != nil {
		p.Instance = r.URL.RequestURI()
	}
	if r != nil && isEPCISPath(r.URL.Path) {
		epcisException(p, r.Method)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	b, _ := json.Marshal(p)
	w.WriteHeader(p.Status)
	w.Write(append(b, '\n'))
}

// errorProblem maps a failure of the library (or of the request) to a problem.
func errorProblem(err error) *Problem {
	var te *tnt.Error
	var ie *tnt.InvalidIDError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return problem("too-large", http.StatusRequestEntityTooLarge, "the body exceeds the limit of "+strconv.FormatInt(mbe.Limit, 10)+" bytes")
	case errors.As(err, &ie):
		p := problem("invalid-id", http.StatusBadRequest, ie.Error())
		p.Code = "TNT_E_INVALID"
		return p
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return problem("timeout", http.StatusServiceUnavailable, "the request was cancelled: "+err.Error())
	case errors.Is(err, tnt.ErrClosed):
		return problem("unavailable", http.StatusServiceUnavailable, "the server is shutting down")
	case errors.As(err, &te):
		var p *Problem
		switch te.Code {
		case tnt.CodeInvalid, tnt.CodeGCP:
			p = problem("bad-request", http.StatusBadRequest, te.Message)
		case tnt.CodeSyntax:
			p = problem("malformed", http.StatusBadRequest, te.Message)
		case tnt.CodeNotFound:
			p = problem("not-found", http.StatusNotFound, te.Message)
		case tnt.CodeExists:
			p = problem("duplicate", http.StatusConflict, te.Message)
		case tnt.CodeTooBig:
			p = problem("too-large", http.StatusRequestEntityTooLarge, te.Message)
		case tnt.CodeTimeout, tnt.CodeBackend, tnt.CodeConflict, tnt.CodeIO:
			p = problem("unavailable", http.StatusServiceUnavailable, te.Message)
		default:
			p = problem("internal", http.StatusInternalServerError, te.Message)
		}
		p.Code = te.Name
		return p
	}
	return problem("internal", http.StatusInternalServerError, err.Error())
}
