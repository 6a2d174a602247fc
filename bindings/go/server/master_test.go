package server

import (
	"fmt"
	"strings"
	"testing"
)

// The server checks a master-data upload's records before the engine loads
// them, and learns them from the engine, so both see the same records
// however the body is written: one that is not the partner's is refused
// (403), a body the engine cannot read too (400); either way nothing is
// stored.
func TestMasterUploadSeenAsTheEngineSees(t *testing.T) {
	f := newFixture(t, nil)
	otherGTIN := withCheck("0401234500000")
	gtin := func(n int) string { return withCheck(fmt.Sprintf("095060001344%d", n)) } // the brand's, one per case
	cases := []struct {
		name, key, ctype, body string
		status                 int
		stored                 string // a record that must not be there afterwards
	}{
		{"a list named twice: the engine loads both", dcKey, "application/json",
			`{"parties":[{"company_prefix":"9506000","name":"Not the dairy"}],"parties":[]}`, 403, "parties/9506000"},
		{"a key named twice: the engine refuses the record", brandKey, "application/json",
			`{"products":[{"gtin":"` + otherGTIN + `","gtin":"09506000134352","name":"Not theirs"}]}`, 400, "products/" + otherGTIN},
		{"a header with spaces: the engine matches names exactly", dcKey, "text/csv",
			"gtin, gln,name\n" + gtin(1) + "," + dc + ",Not the yoghurt\n", 403, "products/" + gtin(1)},
		{"the last key column counts, as in the engine", dcKey, "text/csv",
			"gln,name,gtin\n" + dc + ",DC North," + gtin(2) + "\n", 403, "products/" + gtin(2)},
		{"a header naming a key column twice", dcKey, "text/csv",
			"gtin,gtin\n," + gtin(3) + "\n", 403, "products/" + gtin(3)},
		{"JSON sent as CSV", dcKey, "text/csv",
			"{\"products\":[{\"name\":\"Not the yoghurt\",\"tags\":[\"a\",\"gln\",\n\"b\"],\"gtin\":\"" + gtin(4) + "\"}]}", 400, "products/" + gtin(4)},
		{"CSV sent as JSON", dcKey, "application/json", "gln,name\n" + dc + ",DC North\n", 400, ""},
		{"a key that is not digits", brandKey, "application/json", `{"parties":[{"company_prefix":"9506000x"}]}`, 400, ""},
		{"a NUL byte: the engine would stop reading there", dcKey, "text/csv", "gln,name\n" + dc + ",DC\x00\n09506000134352,x\n", 400, ""},
		{"a record without its key", brandKey, "application/json", `{"products":[{"name":"nameless"}]}`, 400, ""},
	}
	for _, c := range cases {
		r := f.do("POST", "/api/v1/master", c.key, c.ctype, []byte(c.body))
		if r.status != c.status {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
			continue
		}
		r.problem(t)
		if c.stored != "" {
			if r := f.do("GET", "/api/v1/master/"+c.stored, dcKey, "", nil); r.status != 404 {
				t.Errorf("%s: %s was stored: %d %s", c.name, c.stored, r.status, r.body)
			}
		}
	}
	// What each partner may keep still loads, in either format.
	ok := []struct{ key, ctype, body string }{
		{dcKey, "text/csv", "gln,name,,\n# the DC\n\n" + dc + ",\"DC \"\"North\"\"\",,\n"},
		{brandKey, "application/json", ` {"products":[{"gtin":9506000134352,"name":"Greek yoghurt"}],"parties":[{"company_prefix":"9506000"}]}`},
	}
	for _, c := range ok {
		if r := f.do("POST", "/api/v1/master", c.key, c.ctype, []byte(c.body)); r.status != 200 {
			t.Errorf("%q: %d %s", c.body, r.status, r.body)
		}
	}
	if r := f.do("GET", "/api/v1/master/locations/"+dc, brandKey, "", nil); !strings.Contains(string(r.body), `DC \"North\"`) {
		t.Fatalf("the DC's location: %d %s", r.status, r.body)
	}
}
