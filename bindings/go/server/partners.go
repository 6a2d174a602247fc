package server

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

// Partner is an authenticated supply-chain partner and what it may do.
type Partner struct {
	ID, Name  string
	all       bool
	locations map[string]bool // 13-digit GLNs
	prefixes  []string        // company prefixes
}

// partners finds the partner a credential belongs to.
type partners struct {
	byDigest map[[32]byte]*Partner
}

func newPartners(cfg []PartnerConfig) (*partners, error) {
	ps := &partners{byDigest: map[[32]byte]*Partner{}}
	for _, pc := range cfg {
		p := &Partner{ID: pc.ID, Name: pc.Name, all: pc.All, locations: map[string]bool{}, prefixes: pc.CompanyPrefixes}
		for _, g := range pc.Locations {
			p.locations[g] = true
		}
		for _, cred := range append(append([]string{}, pc.APIKeys...), pc.Tokens...) {
			d, err := secretDigest(cred)
			if err != nil {
				return nil, fmt.Errorf("server.partners (%s): %w", pc.ID, err)
			}
			if other, ok := ps.byDigest[d]; ok {
				return nil, fmt.Errorf("server.partners: %s and %s share a credential", other.ID, pc.ID)
			}
			ps.byDigest[d] = p
		}
	}
	return ps, nil
}

// credential is the API key or bearer token of a request, and whether one was given.
func credential(r *http.Request) (string, bool) {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return k, true
	}
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, tok, _ := strings.Cut(a, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", true
		}
		return strings.TrimSpace(tok), true
	}
	return "", false
}

// lookup finds the partner of a credential. Credentials are compared by
// their SHA-256 digests, so the time taken says nothing about a near miss.
func (ps *partners) lookup(cred string) *Partner {
	if cred == "" {
		return nil
	}
	return ps.byDigest[sha256.Sum256([]byte(cred))]
}

// ---- entitlements ----

const canonicalStem = "https://id.gs1.org/"

// keyOf splits a canonical identifier (https://id.gs1.org/<ai>/<value>/…)
// into its primary AI and value.
func keyOf(id string) (ai, value string, ok bool) {
	rest, found := strings.CutPrefix(id, canonicalStem)
	if !found {
		return "", "", false
	}
	ai, rest, _ = strings.Cut(rest, "/")
	value, _, _ = strings.Cut(rest, "/")
	return ai, value, ai != "" && value != ""
}

// companyDigits are the digits of a key that begin with its GS1 company
// prefix (after a GTIN's indicator digit, an SSCC's extension digit or a
// GRAI's leading zero), or "".
func companyDigits(id string) string {
	ai, v, ok := keyOf(id)
	if !ok {
		return ""
	}
	switch ai {
	case "01", "00", "8003", "8006":
		if len(v) > 1 {
			return v[1:]
		}
		return ""
	}
	return v
}

// gln is the GLN of a canonical location identifier (with or without an
// extension), or "".
func gln(id string) string {
	if ai, v, ok := keyOf(id); ok && ai == "414" {
		return v
	}
	return ""
}

func (p *Partner) ownsPrefixOf(digits string) bool {
	if digits == "" {
		return false
	}
	for _, cp := range p.prefixes {
		if strings.HasPrefix(digits, cp) {
			return true
		}
	}
	return false
}

// OwnsLocation: the partner reports from this location (a GLN it was given,
// or one under its company prefixes).
func (p *Partner) OwnsLocation(id string) bool {
	if p.all {
		return true
	}
	g := gln(id)
	return g != "" && (p.locations[g] || p.ownsPrefixOf(g))
}

// OwnsObject: the identifier's company prefix is the partner's.
func (p *Partner) OwnsObject(id string) bool {
	return p.all || p.ownsPrefixOf(companyDigits(id))
}

// Touches: the event happened at one of the partner's locations (read
// point, business location, source or destination) or is about one of its
// objects.
func (p *Partner) Touches(ev *tnt.Event) bool {
	if p.all {
		return true
	}
	for _, l := range ev.Locations() {
		if p.OwnsLocation(l) {
			return true
		}
	}
	for _, o := range ev.Objects() {
		if p.OwnsObject(o) {
			return true
		}
	}
	return false
}

// handledCache remembers which partner has handled which product. Events
// are never taken back, so once handled, always handled; the cache is
// emptied when it grows past its size.
type handledCache struct {
	mu   sync.RWMutex
	m    map[string]bool
	size int
}

func (c *handledCache) get(key string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[key]
}

func (c *handledCache) put(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.size {
		c.m = make(map[string]bool, 1024)
	}
	c.m[key] = true
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
