// End-to-end tests of the reference server, as its users meet it: the
// tnt-server and tnt-demo commands built and run as processes, the demo
// world loaded, the consumer page seen in headless Chromium, and a
// graceful shutdown under load.
package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

var bin string // where the commands are built

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tnt-e2e-")
	if err != nil {
		panic(err)
	}
	bin = dir
	for _, c := range []string{"tnt-server", "tnt-demo"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, c), "./cmd/"+c)
		cmd.Dir = "../../bindings/go"
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", c, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type demo struct {
	Genuine, Recalled, Cloned, Counterfeit, Unit string
	ClonedFar                                    string `json:"cloned_far"`
	keys                                         map[string]string
	data, url, config                            string
}

// loadDemo runs tnt-demo into a fresh data directory for a server at addr.
func loadDemo(t *testing.T, addr string) *demo {
	t.Helper()
	d := &demo{data: filepath.Join(t.TempDir(), "tnt-data"), url: "http://" + addr, keys: map[string]string{}}
	cmd := exec.Command(filepath.Join(bin, "tnt-demo"), "-data", d.data, "-public-url", d.url)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tnt-demo: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(d.data, "demo", "codes.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, d)
	env, _ := os.ReadFile(filepath.Join(d.data, "demo", "partners.env"))
	for _, line := range strings.Split(strings.TrimSpace(string(env)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		d.keys[k] = v
	}
	d.config = filepath.Join(d.data, "demo", "config.yml")
	return d
}

type server struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	addr   string
}

func startServer(t *testing.T, d *demo, addr string, env ...string) *server {
	t.Helper()
	s := &server{addr: addr, stderr: &bytes.Buffer{}}
	s.cmd = exec.Command(filepath.Join(bin, "tnt-server"), "serve", "-config", d.config, "-data", d.data, "-listen", addr)
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	for i := 0; i < 100; i++ {
		if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server did not become ready:\n%s", s.stderr)
	return nil
}

func artefacts(t *testing.T) string {
	dir := os.Getenv("TNT_ARTEFACTS")
	if dir == "" {
		dir = "../../build/test-artefacts/server"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("no chromium (Debian package chromium; scripts/setup.sh installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--disable-extensions", "--user-data-dir=" + t.TempDir(), "--window-size=412,915"}
	out, err := exec.CommandContext(ctx, path, append(base, args...)...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return out
}

var tags = regexp.MustCompile(`<[^>]*>`)

// visibleText is the text of the body as a person reads it, white space folded.
func visibleText(dom []byte) string {
	s := string(dom)
	if i := strings.Index(s, "<body"); i >= 0 {
		s = s[i:]
	}
	s = tags.ReplaceAllString(s, " ")
	return strings.Join(strings.Fields(strings.NewReplacer("&amp;", "&", "&nbsp;", " ", "&#39;", "'", "&quot;", `"`).Replace(s)), " ")
}

// The consumer page, in a phone-sized headless Chromium, for a genuine, a
// recalled, a counterfeit and a cloned product: the verdict in words and
// in its colour, the origin and the journey.
func TestConsumerPage(t *testing.T) {
	addr := freePort(t)
	d := loadDemo(t, addr)
	startServer(t, d, addr)
	out := artefacts(t)
	cases := []struct {
		name, code, headline string
		colour               string
		mustSay              []string
	}{
		{"genuine", d.Genuine, "Genuine product", "green", []string{"Nordhof Dairy", "Hamburg", "Its journey", "Shipped", "Berlin, DE"}},
		{"recalled", d.Recalled, "Do not use this product", "red", []string{"recalled", "Its journey"}},
		{"counterfeit", d.Counterfeit, "Not genuine", "red", []string{"not issued by Nordhof Dairy"}},
		{"cloned", d.ClonedFar, "This code may be a copy", "red", []string{"km from here", "Berlin", "Sold"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dom := chromium(t, "--dump-dom", c.code)
			text := visibleText(dom)
			if !strings.Contains(text, c.headline) {
				t.Fatalf("the page does not say %q:\n%s", c.headline, text)
			}
			for _, s := range c.mustSay {
				if !strings.Contains(text, s) && !strings.Contains(text, strings.ReplaceAll(s, "ã", "a")) {
					t.Errorf("the page does not say %q:\n%s", s, text)
				}
			}
			// No external assets: every src/href stays on this server.
			for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(dom), -1) {
				if strings.Contains(m[1], "://") && !strings.HasPrefix(m[1], d.url) {
					t.Errorf("external asset %s", m[1])
				}
			}
			shot := filepath.Join(out, "consumer-"+c.name+".png")
			chromium(t, "--screenshot="+shot, c.code)
			f, err := os.Open(shot)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			// The banner at the top shows the verdict's colour.
			r, g, b, _ := img.At(img.Bounds().Dx()-20, 12).RGBA()
			got := "grey"
			switch {
			case g > r+0x2000 && g > b+0x2000:
				got = "green"
			case r > g+0x4000 && r > b+0x4000:
				got = "red"
			}
			if got != c.colour {
				t.Errorf("banner colour %s (rgb %d,%d,%d), want %s; see %s", got, r>>8, g>>8, b>>8, c.colour, shot)
			}
		})
	}
	// The same address answers API clients with the signed JSON.
	req, _ := http.NewRequest("GET", d.Genuine, nil)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer map[string]any
	json.NewDecoder(res.Body).Decode(&answer)
	res.Body.Close()
	if answer["verdict"] != "GENUINE" || answer["signature"] == nil || res.Header.Get("Vary") != "Accept" {
		t.Fatalf("JSON answer: %v", answer)
	}
}

// SIGTERM turns /readyz 503 while requests are still served for the drain
// delay, then closes the listener and drains the requests in flight (a
// report still arriving is stored and answered); the engine closes cleanly
// and the store reopens.
func TestGracefulShutdown(t *testing.T) {
	const delay = time.Second
	addr := freePort(t)
	d := loadDemo(t, addr)
	s := startServer(t, d, addr, "TNT_DRAIN_DELAY=1s")
	body := fmt.Sprintf(`[{"product_id":"(01)09506000134352(21)DRAIN1","event_type":"commission","location":"9506000000015","timestamp":%q}]`,
		time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/report HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		d.keys["BRAND_KEY"], len(body))
	half := len(body) / 2
	conn.Write([]byte(body[:half]))
	time.Sleep(300 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGTERM)
	signalled := time.Now()
	time.Sleep(100 * time.Millisecond)
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("readyz during the drain delay: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || res.Header.Get("Content-Type") != "application/problem+json" || !bytes.Contains(b, []byte("shutting down")) {
		t.Fatalf("readyz during the drain delay: %d %s", res.StatusCode, b)
	}
	other := strings.Replace(body, "DRAIN1", "DRAIN2", 1)
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/report", strings.NewReader(other))
	req.Header.Set("X-API-Key", d.keys["BRAND_KEY"])
	req.Header.Set("Content-Type", "application/json")
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatalf("a report during the drain delay: %v", err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || time.Since(signalled) >= delay {
		t.Fatalf("a report during the drain delay: %d %s after %v", res.StatusCode, b, time.Since(signalled))
	}
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			break
		}
		res.Body.Close()
		if time.Since(signalled) > 5*time.Second {
			t.Fatal("new connections are still accepted after the drain delay")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if since := time.Since(signalled); since < delay {
		t.Fatalf("the listener closed %v after SIGTERM, before the drain delay", since)
	}
	conn.Write([]byte(body[half:]))
	res, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request in flight was dropped: %v\n%s", err, s.stderr)
	}
	b, _ = io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Contains(b, []byte(`"accepted":1`)) {
		t.Fatalf("in flight: %d %s", res.StatusCode, b)
	}
	conn.Close()
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), `"msg":"engine closed"`) {
		t.Fatalf("no clean close:\n%s", s.stderr)
	}
	eng, err := tnt.Open(tnt.Config{DataDir: d.data})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for _, serial := range []string{"DRAIN1", "DRAIN2"} {
		if _, err := eng.Track(context.Background(), "(01)09506000134352(21)"+serial); err != nil {
			t.Fatalf("the report of %s is not stored: %v", serial, err)
		}
	}
}

// A second SIGTERM ends the process at once, in the drain delay too.
func TestSecondSignal(t *testing.T) {
	addr := freePort(t)
	d := loadDemo(t, addr)
	s := startServer(t, d, addr, "TNT_DRAIN_DELAY=1m")
	s.cmd.Process.Signal(syscall.SIGTERM)
	for i := 0; ; i++ {
		res, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatalf("readyz during the drain delay: %v", err)
		}
		res.Body.Close()
		if res.StatusCode == 503 {
			break
		}
		if i == 50 {
			t.Fatalf("readyz stays %d after SIGTERM", res.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(3 * time.Second):
		t.Fatalf("still running 3 s after a second SIGTERM:\n%s", s.stderr)
	}
}

// The README's curl tour, as requests: every endpoint answers the demo world.
func TestTour(t *testing.T) {
	addr := freePort(t)
	d := loadDemo(t, addr)
	startServer(t, d, addr)
	base := "http://" + addr
	do := func(method, path, key, ctype, body string, want int) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if key != "" {
			if strings.HasPrefix(key, "demo-shop") {
				req.Header.Set("Authorization", "Bearer "+key)
			} else {
				req.Header.Set("X-API-Key", key)
			}
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		return b
	}
	brand, dc, shop := d.keys["BRAND_KEY"], d.keys["DC_KEY"], d.keys["SHOP_TOKEN"]
	unit := url.PathEscape(d.Unit)
	do("GET", "/api/v1/track/"+unit, brand, "", "", 200)
	do("GET", "/api/v1/track/"+url.PathEscape("(01)09506000134352(21)N000001"), shop, "", "", 200)
	do("GET", "/api/v1/track/"+unit+"/history?limit=3", dc, "", "", 200)
	now := time.Now().UTC().Format(time.RFC3339)
	do("POST", "/api/v1/report", shop, "application/json",
		`{"product_id":"(01)09506000134352(21)N000001","event_type":"sell","location":"4098765000010","timestamp":"`+now+`"}`, 200)
	do("POST", "/api/v1/report", shop, "application/json",
		`{"product_id":"(01)09506000134352(21)N000001","event_type":"receive","location":"4012345000016","timestamp":"`+now+`"}`, 403)
	do("GET", "/events?EQ_bizStep=retail_selling&perPage=5", shop, "", "", 200)
	do("GET", "/api/v1/master/locations/4098765000010", dc, "", "", 200)
	do("GET", "/api/v1/authenticate/"+url.PathEscape("(01)09506000134352(21)N000001"), "", "", "", 200)
	do("GET", "/metrics", "", "", "", 200)
	do("GET", "/openapi.json", "", "", "", 200)
}
