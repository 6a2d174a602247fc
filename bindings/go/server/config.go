// Package server is the reference REST API of libtnt: the B2B interface for
// supply-chain partners (track, history, reports, the EPCIS 2.0 capture and
// query interface, master data), the public B2C interface (authenticity
// checks and GS1 Digital Link pages for consumers), and operations
// (health, readiness, Prometheus metrics). See docs/server.md.
package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the server: section of config.yml (the database:, engine: and
// settings: sections belong to the engine, which reads the same file).
type Config struct {
	Listen      string `yaml:"listen"`       // address to listen on; default 127.0.0.1:8080
	PublicURL   string `yaml:"public_url"`   // how clients reach the server; Digital Links and Location headers use it
	BodyLimit   Size   `yaml:"body_limit"`   // largest request body; default 16M
	AccessLog   *bool  `yaml:"access_log"`   // one log line per request; default true
	LogLevel    string `yaml:"log_level"`    // debug, info, warn, error; default info
	CaptureMax  int    `yaml:"capture_max"`  // events per capture request (GS1-EPCIS-Capture-Limit); default 10000
	CaptureJobs int    `yaml:"capture_jobs"` // capture jobs remembered for GET /capture/{id}; default 10000
	// CaptureJobsBytes bounds the JSON of the jobs remembered (their reports
	// list every event); the oldest are forgotten first; default 64M.
	CaptureJobsBytes Size `yaml:"capture_jobs_bytes"`
	// JobsDir keeps the capture jobs across restarts; tnt-server defaults it
	// to <data dir>/capture-jobs. Empty: in memory only.
	JobsDir string `yaml:"capture_jobs_dir"`

	// DrainDelay is how long /readyz answers 503 at shutdown before the
	// listener closes, for load balancers to stop sending; default 5s, 0: none.
	DrainDelay *Duration `yaml:"drain_delay"`

	Timeouts struct {
		ReadHeader Duration `yaml:"read_header"` // default 5s
		Read       Duration `yaml:"read"`        // the whole request, body included; default 30s
		Write      Duration `yaml:"write"`       // from the end of the headers to the end of the response; default 60s
		Idle       Duration `yaml:"idle"`        // keep-alive; default 120s
		Shutdown   Duration `yaml:"shutdown"`    // drain in-flight requests on SIGTERM; default 30s
	} `yaml:"timeouts"`

	RateLimit struct {
		Public  Rate `yaml:"public"`  // per client address, on the public endpoints; default 20/s, burst 40
		Partner Rate `yaml:"partner"` // per partner, on the B2B endpoints; default 2000/s, burst 4000
	} `yaml:"rate_limit"`

	TrustedProxies []string `yaml:"trusted_proxies"` // CIDRs whose X-Forwarded-For names the client

	Partners []PartnerConfig `yaml:"partners"`

	trusted    []*net.IPNet
	derivedURL bool // PublicURL was made from Listen
}

// SetListen changes the address to listen on (a flag), and the public URL
// with it when that was not configured.
func (c *Config) SetListen(addr string) {
	c.Listen = addr
	if c.derivedURL {
		c.PublicURL = ""
	}
}

// Rate is a token bucket: PerSecond tokens a second, at most Burst saved.
// PerSecond 0 means the default; a negative value turns the limit off.
type Rate struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

// PartnerConfig is one supply-chain partner allowed on the B2B interface.
type PartnerConfig struct {
	ID              string   `yaml:"id"`
	Name            string   `yaml:"name"`
	APIKeys         []string `yaml:"api_keys"`         // X-API-Key values: plain, "sha256:<hex>", or "env:VAR"
	Tokens          []string `yaml:"tokens"`           // Authorization: Bearer values, written the same way
	Locations       []string `yaml:"locations"`        // GLNs it reports from
	CompanyPrefixes []string `yaml:"company_prefixes"` // GS1 company prefixes it owns (its products, locations, logistic units)
	All             bool     `yaml:"all"`              // an operator: reports and sees everything
}

// Duration reads "30s", "5m", "2h" or "1d"; a plain number is seconds.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalText reads a flag's or a variable's value as UnmarshalYAML does.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	*d = Duration(v)
	return err
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	if strings.HasSuffix(s, "d") {
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(f * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (use 500ms, 30s, 5m, 2h or 1d)", s)
	}
	return d, nil
}

// Size reads a byte count: 1048576, "512K", "16M", "1G" (powers of 1024).
type Size int64

func (z *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*z = Size(v)
	return nil
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			s = s[:len(s)-1]
		}
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q (use 1048576, 512K, 16M or 1G)", s)
	}
	return v * mult, nil
}

// LoadConfig reads the server: section of a config.yml ("" for none),
// then the environment overrides, and fills in the defaults.
func LoadConfig(path string) (*Config, error) {
	c := &Config{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var file struct {
			Server yaml.Node `yaml:"server"`
		}
		if err := yaml.Unmarshal(data, &file); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if !file.Server.IsZero() {
			if err := decodeStrict(&file.Server, c); err != nil {
				return nil, fmt.Errorf("%s: server: %w", path, err)
			}
		}
	}
	if err := c.applyEnv(os.Getenv); err != nil {
		return nil, err
	}
	return c, c.finish()
}

// Finish fills in the defaults again after a caller changed the
// configuration (flags), and checks it.
func Finish(c *Config) error {
	c.trusted = nil
	return c.finish()
}

// decodeStrict decodes a node, refusing unknown keys (typos do not pass silently).
func decodeStrict(n *yaml.Node, v any) error {
	data, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// applyEnv applies the TNT_* environment overrides.
func (c *Config) applyEnv(getenv func(string) string) error {
	if v := getenv("TNT_LISTEN"); v != "" {
		c.Listen = v
	}
	if v := getenv("TNT_PUBLIC_URL"); v != "" {
		c.PublicURL = v
	}
	if v := getenv("TNT_BODY_LIMIT"); v != "" {
		n, err := parseSize(v)
		if err != nil {
			return fmt.Errorf("TNT_BODY_LIMIT: %w", err)
		}
		c.BodyLimit = Size(n)
	}
	if v := getenv("TNT_LOG_LEVEL"); v != "" {
		c.LogLevel = v
	}
	if v := getenv("TNT_DRAIN_DELAY"); v != "" {
		c.DrainDelay = new(Duration)
		if err := c.DrainDelay.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("TNT_DRAIN_DELAY: %w", err)
		}
	}
	if v := getenv("TNT_ACCESS_LOG"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("TNT_ACCESS_LOG: %w", err)
		}
		c.AccessLog = &b
	}
	for name, r := range map[string]*Rate{"TNT_RATE_PUBLIC": &c.RateLimit.Public, "TNT_RATE_PARTNER": &c.RateLimit.Partner} {
		if v := getenv(name); v != "" {
			// "per_second[/burst]", e.g. "50/100"; "off" turns the limit off.
			if v == "off" {
				*r = Rate{PerSecond: -1}
				continue
			}
			ps, burst, _ := strings.Cut(v, "/")
			f, err := strconv.ParseFloat(ps, 64)
			if err != nil {
				return fmt.Errorf("%s: bad rate %q", name, v)
			}
			r.PerSecond = f
			if burst != "" {
				if r.Burst, err = strconv.Atoi(burst); err != nil {
					return fmt.Errorf("%s: bad burst %q", name, v)
				}
			}
		}
	}
	return nil
}

// finish fills in the defaults and checks the values.
func (c *Config) finish() error {
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.PublicURL == "" {
		c.derivedURL = true
		host := c.Listen
		if strings.HasPrefix(host, ":") || strings.HasPrefix(host, "0.0.0.0:") {
			host = "localhost:" + host[strings.LastIndex(host, ":")+1:]
		}
		c.PublicURL = "http://" + host
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.BodyLimit == 0 {
		c.BodyLimit = 16 << 20
	}
	if c.AccessLog == nil {
		t := true
		c.AccessLog = &t
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.DrainDelay == nil {
		d := Duration(5 * time.Second)
		c.DrainDelay = &d
	} else if *c.DrainDelay < 0 {
		return fmt.Errorf("server.drain_delay: %s is negative", time.Duration(*c.DrainDelay))
	}
	if c.CaptureMax == 0 {
		c.CaptureMax = 10000
	}
	if c.CaptureJobs == 0 {
		c.CaptureJobs = 10000
	}
	if c.CaptureJobsBytes == 0 {
		c.CaptureJobsBytes = defaultJobsBytes
	}
	def(&c.Timeouts.ReadHeader, 5*time.Second)
	def(&c.Timeouts.Read, 30*time.Second)
	def(&c.Timeouts.Write, 60*time.Second)
	def(&c.Timeouts.Idle, 120*time.Second)
	def(&c.Timeouts.Shutdown, 30*time.Second)
	if c.RateLimit.Public.PerSecond == 0 {
		c.RateLimit.Public = Rate{20, 40}
	}
	if c.RateLimit.Partner.PerSecond == 0 {
		c.RateLimit.Partner = Rate{2000, 4000}
	}
	for _, r := range []*Rate{&c.RateLimit.Public, &c.RateLimit.Partner} {
		if r.Burst <= 0 {
			r.Burst = int(2 * r.PerSecond)
			if r.Burst < 1 {
				r.Burst = 1
			}
		}
	}
	for _, cidr := range c.TrustedProxies {
		if !strings.Contains(cidr, "/") {
			if strings.Contains(cidr, ":") {
				cidr += "/128"
			} else {
				cidr += "/32"
			}
		}
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return fmt.Errorf("server.trusted_proxies: %w", err)
		}
		c.trusted = append(c.trusted, n)
	}
	ids := map[string]bool{}
	for i, p := range c.Partners {
		if p.ID == "" {
			return fmt.Errorf("server.partners[%d]: id is required", i)
		}
		if ids[p.ID] {
			return fmt.Errorf("server.partners[%d]: id %q is used twice", i, p.ID)
		}
		ids[p.ID] = true
		if len(p.APIKeys)+len(p.Tokens) == 0 {
			return fmt.Errorf("server.partners[%d] (%s): give it api_keys or tokens", i, p.ID)
		}
		for _, cred := range append(append([]string{}, p.APIKeys...), p.Tokens...) {
			if _, err := secretDigest(cred); err != nil {
				return fmt.Errorf("server.partners[%d] (%s): %w", i, p.ID, err)
			}
		}
		for _, g := range p.Locations {
			if !isDigits(g) || len(g) != 13 {
				return fmt.Errorf("server.partners[%d] (%s): location %q is not a 13-digit GLN", i, p.ID, g)
			}
		}
		for _, cp := range p.CompanyPrefixes {
			if !isDigits(cp) || len(cp) < 4 || len(cp) > 12 {
				return fmt.Errorf("server.partners[%d] (%s): company prefix %q is not 4 to 12 digits", i, p.ID, cp)
			}
		}
	}
	return nil
}

// secretDigest is the SHA-256 of a configured credential: plain text,
// "sha256:<hex>" (stored hashed), or "env:VAR" (read from the environment).
func secretDigest(s string) ([32]byte, error) {
	var d [32]byte
	switch {
	case strings.HasPrefix(s, "sha256:"):
		b, err := hex.DecodeString(strings.TrimPrefix(s, "sha256:"))
		if err != nil || len(b) != 32 {
			return d, fmt.Errorf("bad sha256 credential")
		}
		copy(d[:], b)
		return d, nil
	case strings.HasPrefix(s, "env:"):
		v := os.Getenv(strings.TrimPrefix(s, "env:"))
		if v == "" {
			return d, fmt.Errorf("credential %s: the variable is empty", s)
		}
		return sha256.Sum256([]byte(v)), nil
	case len(s) < 16:
		return d, fmt.Errorf("a credential must have at least 16 characters")
	}
	return sha256.Sum256([]byte(s)), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
