package convlogs

import "github.com/prometheus/client_golang/prometheus"

// metrics are the service's Prometheus series:
//
//	lextrail_convlogs_enqueued_total{type}              entries queued by turns (type text|audio)
//	lextrail_convlogs_delivered_total{type}             entries written to their log group or bucket
//	lextrail_convlogs_delivery_failures_total{type,reason}  failed delivery attempts (entries stay queued)
//	lextrail_convlogs_dropped_total{type,reason}        entries given up (too old, refused by the log group, ...)
//	lextrail_convlogs_pending{type}                     entries waiting in the queue (sampled by the worker)
type metrics struct {
	enqueued, delivered *prometheus.CounterVec
	failures, dropped   *prometheus.CounterVec
	pending             *prometheus.GaugeVec
	// enqueuedText and enqueuedAudio are enqueued's series, counted on
	// every commit that queues something.
	enqueuedText, enqueuedAudio prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lextrail_convlogs_enqueued_total",
			Help: "Lex conversation-log entries queued by turns, by type (text, audio)."}, []string{"type"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lextrail_convlogs_delivered_total",
			Help: "Lex conversation-log entries written to their log group or bucket, by type."}, []string{"type"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lextrail_convlogs_delivery_failures_total",
			Help: "Failed Lex conversation-log delivery attempts (the entries stay queued and are retried), by type and reason."}, []string{"type", "reason"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lextrail_convlogs_dropped_total",
			Help: "Lex conversation-log entries given up, by type and reason."}, []string{"type", "reason"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lextrail_convlogs_pending",
			Help: "Lex conversation-log entries waiting in the delivery queue, by type (sampled by the worker)."}, []string{"type"}),
	}
	m.enqueuedText, m.enqueuedAudio = m.enqueued.WithLabelValues(kindText), m.enqueued.WithLabelValues(kindAudio)
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.enqueued, m.delivered, m.failures, m.dropped, m.pending}
}
