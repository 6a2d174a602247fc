package server

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	tnt "github.com/libtnt/libtnt/bindings/go"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	events   *prometheus.CounterVec
	verdicts *prometheus.CounterVec
	limited  *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, eng *tnt.Engine) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tnt_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tnt_http_request_duration_seconds", Help: "Time to answer a request, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tnt_http_in_flight_requests", Help: "Requests being answered.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tnt_ingested_events_total", Help: "Events received through the API, by outcome (accepted, duplicate, rejected, forbidden).",
		}, []string{"status"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tnt_verdicts_total", Help: "Authenticity verdicts given, by verdict.",
		}, []string{"verdict"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tnt_rate_limited_total", Help: "Requests refused with 429, by scope (public: per client address; partner).",
		}, []string{"scope"}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.events, m.verdicts, m.limited, engineCollector{eng})
	return m
}

// engineCollector exposes the engine's own counters (tnt_engine_stats) at
// each scrape, as tnt_engine_<section>_<name>.
type engineCollector struct{ eng *tnt.Engine }

func (engineCollector) Describe(chan<- *prometheus.Desc) {} // unchecked: the set follows the library

func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	raw, err := c.eng.Stats(ctx)
	if err != nil {
		return
	}
	var stats map[string]any
	if json.Unmarshal(raw, &stats) != nil {
		return
	}
	for section, v := range stats {
		fields, ok := v.(map[string]any)
		if !ok {
			continue
		}
		for name, x := range fields {
			f, ok := x.(float64)
			if !ok {
				continue
			}
			metric := "tnt_engine_" + sanitize(section) + "_" + sanitize(name)
			desc := prometheus.NewDesc(metric, "libtnt engine statistic "+section+"."+name+".", nil, nil)
			ch <- prometheus.MustNewConstMetric(desc, prometheus.UntypedValue, f)
		}
	}
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
