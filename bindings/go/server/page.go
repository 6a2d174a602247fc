package server

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
)

// The pages for people: mobile first, no external assets (no fonts,
// scripts or images from elsewhere), readable without JavaScript.

const pageCSS = `
*{box-sizing:border-box}
body{margin:0;font:17px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f1f1f;background:#f4f4f2}
main{max-width:36rem;margin:0 auto;padding:0 0 2rem}
.banner{color:#fff;padding:1.5rem 1.25rem 1.25rem;display:flex;gap:1rem;align-items:center}
.green{background:#17692f}.amber{background:#8a5300}.red{background:#a3211a}.grey{background:#545454}
.icon{flex:none;width:3.5rem;height:3.5rem;border-radius:50%;border:3px solid #fff;display:flex;align-items:center;justify-content:center;font-size:2rem;font-weight:700}
h1{margin:0;font-size:1.6rem;line-height:1.2}
.message{margin:.35rem 0 0;font-size:1.05rem}
section{background:#fff;margin:1rem .75rem 0;padding:1rem 1.1rem;border-radius:.75rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1rem;margin:0 0 .5rem;color:#444;text-transform:uppercase;letter-spacing:.04em}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0}
dt{color:#555}dd{margin:0;font-weight:600;overflow-wrap:anywhere}
ol.journey{list-style:none;margin:0;padding:0;border-left:3px solid #c9c9c4;margin-left:.4rem}
ol.journey li{position:relative;padding:0 0 .9rem 1.1rem}
ol.journey li:before{content:"";position:absolute;left:-.55rem;top:.35rem;width:.8rem;height:.8rem;border-radius:50%;background:#545454}
ol.journey li:last-child{padding-bottom:0}
.when{color:#555;font-size:.9rem;display:block}
ul.reasons{margin:0;padding-left:1.2rem}
.warn{color:#7a4a00}.hard{color:#a3211a}
footer{margin:1rem .75rem 0;color:#666;font-size:.85rem}
a{color:#0b57d0}
form{display:flex;gap:.5rem;flex-wrap:wrap}input{flex:1 1 14rem;font:inherit;padding:.6rem;border:1px solid #888;border-radius:.5rem}
button{font:inherit;padding:.6rem 1rem;border:0;border-radius:.5rem;background:#17692f;color:#fff}
`

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"date": prettyDate, "when": prettyTime,
}).Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.}}</title><style>` + pageCSS + `</style></head><body><main>{{end}}

{{define "verdict"}}{{template "head" .Title}}
<header class="banner {{.A.Colour}}" data-verdict="{{.A.Verdict}}">
  <div class="icon" aria-hidden="true">{{.Icon}}</div>
  <div><h1>{{.Title}}</h1><p class="message">{{.A.Message}}</p></div>
</header>
{{with .A}}
{{if ne .Colour "green"}}{{template "why" .}}{{end}}
<section aria-label="Product">
  <h2>Product</h2>
  <dl>
    {{if .Product.Name}}<dt>Name</dt><dd>{{.Product.Name}}</dd>{{end}}
    {{if .Product.Brand}}<dt>Brand</dt><dd>{{.Product.Brand}}</dd>{{end}}
    {{if .GTIN}}<dt>Product number</dt><dd>{{.GTIN}}</dd>{{end}}
    {{if .Serial}}<dt>Serial number</dt><dd>{{.Serial}}</dd>{{end}}
    {{with .Origin}}{{if .Batch}}<dt>Batch</dt><dd>{{.Batch}}</dd>{{end}}
    {{if .Expiry}}<dt>Use by</dt><dd>{{date .Expiry}}</dd>{{end}}{{end}}
  </dl>
</section>
{{with .Origin}}
<section aria-label="Origin">
  <h2>Where it comes from</h2>
  <p>Made{{if .BrandOwner}} by <strong>{{.BrandOwner}}</strong>{{end}}{{with .Site}}{{if .String}} in {{.String}}{{end}}{{end}}{{if .Time}} on {{date .Time}}{{end}}.</p>
</section>
{{end}}
{{if .Journey}}
<section aria-label="Journey">
  <h2>Its journey</h2>
  <ol class="journey">
  {{range .Journey}}<li><span class="when">{{when .Time}}</span><strong>{{if .Label}}{{.Label}}{{else}}{{.Step}}{{end}}</strong>{{with .Place}}{{if .String}} — {{.String}}{{end}}{{end}}</li>
  {{end}}</ol>
</section>
{{end}}
{{if eq .Colour "green"}}{{template "why" .}}{{end}}
<footer>Checked {{when .CheckedAt}}. The answer is signed by this service (key {{.KeyID}}).
{{end}}<a href="{{.JSONLink}}">Signed answer (JSON)</a></footer>
</main></body></html>{{end}}

{{define "why"}}<section aria-label="Why">
  <h2>Why we say so</h2>
  <ul class="reasons">{{range .Reasons}}<li class="{{.Severity}}">{{.Text}}</li>{{end}}</ul>
</section>
{{end}}

{{define "error"}}{{template "head" .P.Title}}
<header class="banner grey"><div class="icon" aria-hidden="true">?</div>
<div><h1>{{.P.Title}}</h1><p class="message">{{.P.Detail}}</p></div></header>
</main></body></html>{{end}}

{{define "home"}}{{template "head" "Is it genuine?"}}
<header class="banner green"><div class="icon" aria-hidden="true">✓</div>
<div><h1>Is it genuine?</h1><p class="message">Scan the QR code on the pack, or type the code printed under it.</p></div></header>
<section><form action="/verify" method="get">
<input name="code" aria-label="Code on the pack" placeholder="(01)09506000134352(21)ABC123" required maxlength="4096">
<button>Check</button></form></section>
</main></body></html>{{end}}
`))

func renderPage(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "page error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
