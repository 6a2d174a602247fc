package tnt_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

func TestAuthenticate(t *testing.T) {
	e := open(t)
	ctx := context.Background()
	pub, secret, err := tnt.Keygen()
	if err != nil || len(pub) != 43 || len(secret) != 86 {
		t.Fatalf("keygen: %q %v", pub, err)
	}
	party := fmt.Sprintf(`{"company_prefix":"9506000","name":"Dairy Co","role":"brand_owner","public_key":%q}`, pub)
	if err := e.MasterPut(ctx, tnt.MasterParty, []byte(party)); err != nil {
		t.Fatal(err)
	}
	e.MasterPut(ctx, tnt.MasterProduct, []byte(`{"gtin":"09506000134352","name":"Greek yoghurt 500 g","brand":"Dairy Co"}`))
	e.MasterPut(ctx, tnt.MasterLocation, []byte(`{"gln":"9506000000015","name":"Plant","city":"Hamburg","country":"DE","latitude":53.55,"longitude":9.99}`))
	at := time.Now().Add(-24 * time.Hour)
	for _, s := range []string{"S1", "S2"} {
		rep, err := e.Ingest(ctx, []byte(report("(01)09506000134352(21)"+s, "commission", "9506000000015", at, `,"batch":"L7"`)))
		if err != nil || rep.Accepted != 1 {
			t.Fatal(rep, err)
		}
	}
	code, err := tnt.SignCode("(01)09506000134352(10)L7(21)S1", secret, "https://brand.example")
	if err != nil || !strings.HasPrefix(code, "https://brand.example/01/09506000134352/") || !strings.Contains(code, "8030=") {
		t.Fatalf("sign: %q %v", code, err)
	}
	v, err := e.Authenticate(ctx, code, &tnt.Scan{Located: true, Latitude: 53.5, Longitude: 10, Device: "phone-1"}, tnt.ForConsumer)
	if err != nil || v.Kind != tnt.Genuine || v.EvidenceLevel < 1 || v.Confidence < 0.9 || len(v.Reasons) == 0 {
		t.Fatalf("genuine: %v %d %v %s", v.Kind, v.EvidenceLevel, err, v.JSON)
	}
	var doc struct {
		Verdict string
		Origin  struct{ Batch string }
		Journey []any
	}
	if json.Unmarshal(v.JSON, &doc) != nil || doc.Verdict != "GENUINE" || doc.Origin.Batch != "L7" || len(doc.Journey) != 1 {
		t.Fatalf("answer %s", v.JSON)
	}
	key, err := e.ServiceKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tnt.VerifyVerdict(v.JSON, key); err != nil {
		t.Fatalf("verify: %v", err)
	}
	forged := strings.Replace(string(v.JSON), "GENUINE", "GENUINE_CAUTION", 1)
	if err := tnt.VerifyVerdict([]byte(forged), key); !errors.Is(err, tnt.ErrInvalid) {
		t.Fatalf("forged answer verified: %v", err)
	}
	if v, err := e.Authenticate(ctx, "(01)09506000134352(21)NEVER", nil, tnt.ForConsumer); err != nil || v.Kind != tnt.Counterfeit || v.Reasons[len(v.Reasons)-1].Code != "SERIAL_UNKNOWN" {
		t.Fatalf("counterfeit: %+v %v", v, err)
	}
	if v, err := e.Authenticate(ctx, "garbage", nil, tnt.ForConsumer); err != nil || v.Kind != tnt.Unverifiable {
		t.Fatalf("garbage: %+v %v", v, err)
	}
	e.Ingest(ctx, []byte(report("(01)09506000134352(21)S2", "recall", "9506000000015", time.Now().Add(-time.Hour), "")))
	if v, err := e.Authenticate(ctx, "(01)09506000134352(21)S2", &tnt.Scan{DryRun: true}, tnt.ForPartner); err != nil || v.Kind != tnt.DoNotUse {
		t.Fatalf("recalled: %+v %v", v, err)
	}
	if _, err := e.Authenticate(ctx, code, &tnt.Scan{Located: true, Latitude: 123}, tnt.ForConsumer); !errors.Is(err, tnt.ErrInvalid) {
		t.Fatalf("latitude 123: %v", err)
	}
	if _, err := tnt.SignCode("(01)09506000134352(21)S1", "not a key", ""); !errors.Is(err, tnt.ErrInvalid) {
		t.Fatalf("bad key: %v", err)
	}
	if tnt.Genuine.String() != "GENUINE" || tnt.DoNotUse.String() != "DO_NOT_USE" {
		t.Fatal("names")
	}
}
