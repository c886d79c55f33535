package gateway

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the gateway's Prometheus series.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the gateway's series on reg:
//
//	lextrail_requests_total{service,operation,code}   code "" on success
//	lextrail_request_duration_seconds{service,operation}
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lextrail_requests_total",
			Help: "AWS API requests by service, operation and error code (empty code: success).",
		}, []string{"service", "operation", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lextrail_request_duration_seconds",
			Help:    "AWS API request latency by service and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"service", "operation"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *Metrics) observe(service, op, code string, d time.Duration) {
	m.requests.WithLabelValues(service, op, code).Inc()
	m.latency.WithLabelValues(service, op).Observe(d.Seconds())
}
