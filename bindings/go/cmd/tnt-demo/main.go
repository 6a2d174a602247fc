// Command tnt-demo loads a small, realistic demo world into a store, so that
// a new user can curl the API and open the consumer page right away:
//
//   - a brand (Nordhof Dairy, company prefix 9506000) with an Ed25519 key
//     pair, whose public key is in its party master data and whose packs
//     carry signed GS1 Digital Links pointing at this server;
//   - its factory in Hamburg, a distribution centre in Hannover, and five
//     shops in Berlin, Munich, Cologne, Frankfurt and Leipzig;
//   - a few hundred units of three products, each with its journey
//     (commissioned, shipped, received, stored, shipped, received, stocked,
//     some sold), with temperature readings;
//   - one recalled batch, and one cloned code (consumer scans of the same
//     code in Berlin and in São Paulo an hour apart).
//
// It writes, under -out (default DATA/demo): config.yml (the server:
// section with the demo partners and their API keys), partners.env (the
// keys as shell variables), codes.json (sample codes: genuine, recalled,
// cloned, counterfeit) and codes.txt (every unit's code), and brand.key
// (the brand's secret key). A second run does nothing unless -force.
//
//	tnt-demo [-data DIR] [-config config.yml] [-public-url URL] [-units N] [-out DIR] [-force]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

type site struct {
	gln, name, city, country string
	lat, lon                 float64
}

type product struct {
	gtin, name string
}

func withCheck(s string) string { return s + fmt.Sprint(tnt.CheckDigit(s)) }

var (
	brandPrefix  = "9506000"
	dcPrefix     = "4012345"
	retailPrefix = "4098765"
	factory      = site{withCheck("950600000001"), "Nordhof Dairy plant", "Hamburg", "DE", 53.5511, 9.9937}
	dc           = site{withCheck("401234500001"), "Rhein Logistik DC", "Hannover", "DE", 52.3759, 9.7320}
	shops        = []site{
		{withCheck("409876500001"), "FreshMart Mitte", "Berlin", "DE", 52.5200, 13.4050},
		{withCheck("409876500002"), "FreshMart Schwabing", "Munich", "DE", 48.1351, 11.5820},
		{withCheck("409876500003"), "FreshMart Altstadt", "Cologne", "DE", 50.9375, 6.9603},
		{withCheck("409876500004"), "FreshMart Westend", "Frankfurt", "DE", 50.1109, 8.6821},
		{withCheck("409876500005"), "FreshMart Zentrum", "Leipzig", "DE", 51.3397, 12.3731},
	}
	products = []product{
		{withCheck("0950600013435"), "Greek yoghurt 500 g"},
		{withCheck("0950600013436"), "Organic whole milk 1 l"},
		{withCheck("0950600013437"), "Skyr natural 450 g"},
	}
)

func main() {
	dataDir := flag.String("data", "", "embedded data directory (default $TNT_DATA or ./tnt-data)")
	configPath := flag.String("config", os.Getenv("TNT_CONFIG"), "config.yml naming the backends")
	publicURL := flag.String("public-url", envOr("TNT_PUBLIC_URL", "http://localhost:8080"), "the server's URL: the packs' Digital Links point there")
	units := flag.Int("units", 300, "units to make")
	out := flag.String("out", "", "where to write the demo's keys and codes (default DATA/demo)")
	force := flag.Bool("force", false, "load again even if the demo was loaded before")
	flag.Parse()
	if *out == "" {
		d := *dataDir
		if d == "" {
			d = envOr("TNT_DATA", "tnt-data")
		}
		*out = filepath.Join(d, "demo")
	}
	if err := run(*dataDir, *configPath, strings.TrimRight(*publicURL, "/"), *units, *out, *force); err != nil {
		fmt.Fprintln(os.Stderr, "tnt-demo:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func randomKey(prefix string) string {
	var b [18]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

type codes struct {
	Genuine     string   `json:"genuine"`
	Recalled    string   `json:"recalled"`
	Cloned      string   `json:"cloned"`
	ClonedFar   string   `json:"cloned_far"` // the cloned code as scanned in São Paulo (lat, lon given)
	Counterfeit string   `json:"counterfeit"`
	Unit        string   `json:"unit"`         // the genuine unit's identifier, for track and history
	RecalledLot string   `json:"recalled_lot"` // the recalled batch
	Units       int      `json:"units"`
	Events      int      `json:"events"`
	Partners    []string `json:"partners"`
}

func run(dataDir, configPath, publicURL string, units int, out string, force bool) error {
	if _, err := os.Stat(filepath.Join(out, "codes.json")); err == nil && !force {
		fmt.Printf("tnt-demo: the demo world is loaded already (%s); -force loads it again\n", out)
		return nil
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	ctx := context.Background()
	eng, err := tnt.Open(tnt.Config{DataDir: dataDir, ConfigPath: configPath})
	if err != nil {
		return err
	}
	defer eng.Close()

	// The brand's keys, and the master data.
	pub, secret, err := tnt.Keygen()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "brand.key"), []byte(secret+"\n"), 0o600); err != nil {
		return err
	}
	if err := loadMaster(ctx, eng, pub, out); err != nil {
		return err
	}

	// The units and their journeys.
	now := time.Now().UTC().Truncate(time.Minute)
	rng := mrand.New(mrand.NewPCG(7, 11))
	lots := []string{"L2401", "L2402", "L2403", "L2404", "L2405", "L2406"}
	recalledLot := "L2403"
	var reports []map[string]any
	var all []string
	c := codes{RecalledLot: recalledLot, Units: units}
	for i := 0; i < units; i++ {
		p := products[i%len(products)]
		lot := lots[i*len(lots)/units]
		serial := fmt.Sprintf("N%06d", i+1)
		made := now.Add(-time.Duration(20*24+rng.IntN(72)) * time.Hour)
		expiry := made.Add(45 * 24 * time.Hour)
		id := fmt.Sprintf("(01)%s(21)%s", p.gtin, serial)
		code, err := tnt.SignCode(fmt.Sprintf("(01)%s(10)%s(21)%s(17)%s", p.gtin, lot, serial, expiry.Format("060102")), secret, publicURL)
		if err != nil {
			return err
		}
		all = append(all, code)
		shop := shops[i%len(shops)]
		temp := func() map[string]any {
			return map[string]any{"temperature": math.Round((3.5+rng.Float64()*2.5)*10) / 10}
		}
		at := made
		step := func(h int, kind string, loc site, extra map[string]any) {
			at = at.Add(time.Duration(h)*time.Hour + time.Duration(rng.IntN(50))*time.Minute)
			r := map[string]any{"product_id": id, "event_type": kind, "location": loc.gln, "timestamp": at.Format(time.RFC3339)}
			for k, v := range extra {
				r[k] = v
			}
			reports = append(reports, r)
		}
		step(0, "commission", factory, map[string]any{"batch": lot, "expiry": expiry.Format("2006-01-02")})
		step(20, "ship", factory, map[string]any{"destination": dc.gln, "condition": temp()})
		step(6, "receive", dc, map[string]any{"source": factory.gln, "condition": temp()})
		step(2, "store", dc, nil)
		step(50+rng.IntN(48), "ship", dc, map[string]any{"destination": shop.gln, "condition": temp()})
		step(8, "receive", shop, map[string]any{"source": dc.gln, "condition": temp()})
		step(3, "stock", shop, nil)
		if i%4 == 3 && lot != recalledLot {
			step(24+rng.IntN(96), "sell", shop, nil)
		}
		switch {
		case c.Genuine == "" && lot != recalledLot && i%4 != 3:
			c.Genuine, c.Unit = code, "https://id.gs1.org/01/"+p.gtin+"/21/"+serial
		case c.Recalled == "" && lot == recalledLot:
			c.Recalled = code
		case c.Cloned == "" && lot == "L2405" && i%4 == 3 && shop.city == "Berlin":
			c.Cloned = code
		}
	}
	// The recall: the whole batch, at the factory, yesterday (one event per product of the lot).
	for _, p := range products {
		reports = append(reports, map[string]any{"product_id": fmt.Sprintf("(01)%s(10)%s", p.gtin, recalledLot),
			"event_type": "recall", "location": factory.gln, "timestamp": now.Add(-26 * time.Hour).Format(time.RFC3339)})
	}
	doc, _ := json.Marshal(reports)
	rep, err := eng.Ingest(ctx, doc)
	if err != nil {
		return err
	}
	if rep.Rejected > 0 {
		for _, r := range rep.Results {
			if len(r.Errors) > 0 {
				return fmt.Errorf("event %d rejected: %s", r.Index, r.Errors[0].Message)
			}
		}
	}
	c.Events = rep.Accepted

	// The cloned code: sold in its shop, then checked by a phone near the
	// shop and, an hour later, by one in São Paulo. The next scan far from
	// the shop is suspect (cloned_far).
	scans := []tnt.Scan{
		{Time: now.Add(-2 * time.Hour), Located: true, Latitude: 52.5208, Longitude: 13.4094, AccuracyM: 50, Device: "demo-phone-berlin"},
		{Time: now.Add(-1 * time.Hour), Located: true, Latitude: -23.5505, Longitude: -46.6333, AccuracyM: 50, Device: "demo-phone-sao-paulo"},
	}
	for i := range scans {
		if _, err := eng.Authenticate(ctx, c.Cloned, &scans[i], tnt.ForConsumer); err != nil {
			return err
		}
	}
	c.ClonedFar = c.Cloned + "&lat=-23.5489&lon=-46.6388"
	// A code the brand never issued: a serial that does not exist, with a copied signature.
	c.Counterfeit = strings.Replace(c.Genuine, "/21/N", "/21/X", 1)

	// The partners of the demo, and their keys.
	keys := map[string]string{}
	for _, p := range []string{"brand", "dc", "shop", "operator"} {
		keys[p] = randomKey("demo-" + p)
		c.Partners = append(c.Partners, p)
	}
	var shopGLNs []string
	for _, s := range shops {
		shopGLNs = append(shopGLNs, fmt.Sprintf("%q", s.gln))
	}
	cfg := fmt.Sprintf(`# The demo world's server settings (made by tnt-demo). Keep the keys secret.
server:
  public_url: %s
  partners:
    - {id: brand, name: Nordhof Dairy, api_keys: [%q], company_prefixes: [%q]}
    - {id: dc, name: Rhein Logistik, api_keys: [%q], locations: [%q]}
    - {id: shop, name: FreshMart, tokens: [%q], locations: [%s]}
    - {id: operator, name: Operations, api_keys: [%q], all: true}
`, publicURL, keys["brand"], brandPrefix, keys["dc"], dc.gln, keys["shop"], strings.Join(shopGLNs, ", "), keys["operator"])
	env := fmt.Sprintf("BRAND_KEY=%s\nDC_KEY=%s\nSHOP_TOKEN=%s\nOPERATOR_KEY=%s\n", keys["brand"], keys["dc"], keys["shop"], keys["operator"])
	var js strings.Builder
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(c)
	for name, content := range map[string]string{"config.yml": cfg, "partners.env": env, "codes.json": js.String(),
		"codes.txt": strings.Join(all, "\n") + "\n"} {
		if err := os.WriteFile(filepath.Join(out, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	fmt.Printf("tnt-demo: %d units, %d events, 1 recalled batch (%s), 1 cloned code; keys and codes in %s\n",
		units, rep.Accepted, recalledLot, out)
	return nil
}

func loadMaster(ctx context.Context, eng *tnt.Engine, brandKey, out string) error {
	type loc struct {
		GLN       string  `json:"gln"`
		Name      string  `json:"name"`
		City      string  `json:"city"`
		Country   string  `json:"country"`
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	}
	world := map[string]any{}
	var prods []map[string]any
	for _, p := range products {
		prods = append(prods, map[string]any{"gtin": p.gtin, "name": p.name, "brand": "Nordhof Dairy", "min_temp": 2, "max_temp": 8, "shelf_life_days": 45})
	}
	var locs []loc
	for _, s := range append([]site{factory, dc}, shops...) {
		locs = append(locs, loc{s.gln, s.name, s.city, s.country, s.lat, s.lon})
	}
	world["products"] = prods
	world["locations"] = locs
	world["parties"] = []map[string]any{
		{"company_prefix": brandPrefix, "name": "Nordhof Dairy", "role": "brand_owner", "public_key": brandKey},
		{"company_prefix": dcPrefix, "name": "Rhein Logistik", "role": "logistics"},
		{"company_prefix": retailPrefix, "name": "FreshMart", "role": "retailer"},
	}
	b, _ := json.MarshalIndent(world, "", "  ")
	path := filepath.Join(out, "world.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	_, err := eng.MasterLoad(ctx, path)
	return err
}
