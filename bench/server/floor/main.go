// The REST figures' floor: Go's net/http answering every GET with the same
// JSON body and nothing else, or with an Ed25519 signature of the body made
// per request (as each verdict of authenticate is signed). No libtnt: what
// bench/bench_server.sh measures for this is what the HTTP stack, the
// kernel's loopback TCP and wrk cost on the machine, without our work.
//
//	floor -listen 127.0.0.1:PORT -size BYTES [-sign]
package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"flag"
	"log"
	"net/http"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "address to listen on")
	size := flag.Int("size", 1500, "bytes in each answer")
	sign := flag.Bool("sign", false, "sign each answer with Ed25519")
	flag.Parse()
	body := bytes.Repeat([]byte("x"), *size)
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		if *sign {
			h.Set("X-Signature", base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, body)))
		}
		w.Write(body)
	})
	srv := &http.Server{Addr: *listen, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
