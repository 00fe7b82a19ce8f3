// Package metrics exposes Sprocket's Prometheus metrics. A Metrics owns its
// registry (no global state); it observes the service by wrapping the store
// (events in, claims, run outcomes and durations, store errors) and the
// webhook handler (rejections), and reads the queue on each scrape.
//
// Metric names (all prefixed sprocket_):
//
//   - events_received_total{source,topic}: events accepted (webhooks, API, scheduler);
//   - runs_finished_total{kind,status}: runs finished, status success or failed;
//   - run_retries_total{kind}: failed attempts rescheduled for a retry;
//   - run_leases_lost_total{kind}: outcomes refused because the lease was lost;
//   - claim_duration_seconds: one claim of a batch of runs;
//   - render_duration_seconds: a task run, from claim to its recorded outcome;
//   - perform_duration_seconds{action_type}: an action run, likewise;
//   - event_run_duration_seconds: an event run, likewise;
//   - queue_runs{kind,state}: runs due, scheduled or running, read at scrape;
//   - queue_oldest_due_age_seconds: how long the oldest due run has waited;
//   - tasks_at_concurrency_limit: tasks whose runs the latest claim left
//     queued because the task had its limit of runs in progress
//     (--task-concurrency);
//   - task_limit_deferrals_total: claims that left a task's runs queued
//     for that reason, counted once per task and claim;
//   - webhook_rejections_total{code}: webhook requests answered 4xx or 5xx;
//   - store_errors_total{op}: store calls failing for reasons other than the
//     caller's input (not found, conflict, invalid, lease lost, cancelled);
//
// plus the Go runtime and process collectors.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sprocketrun/sprocket/store"
)

// maxTopics bounds the topic label's distinct values; later topics are
// counted as "other" (topics come from users and must not blow up the
// series count).
const maxTopics = 500

// Metrics holds the service's collectors and their registry.
type Metrics struct {
	reg            *prometheus.Registry
	eventsReceived *prometheus.CounterVec
	runsFinished   *prometheus.CounterVec
	retries        *prometheus.CounterVec
	leasesLost     *prometheus.CounterVec
	claimSeconds   prometheus.Histogram
	renderSeconds  prometheus.Histogram
	performSeconds *prometheus.HistogramVec
	eventRunSecs   prometheus.Histogram
	webhookRejects *prometheus.CounterVec
	storeErrors    *prometheus.CounterVec
	tasksAtLimit   prometheus.Gauge
	taskDeferrals  prometheus.Counter

	topicsMu sync.Mutex
	topics   map[string]bool
}

// QueueStatser reads the queue for the queue gauges.
type QueueStatser interface {
	// Stats counts due, scheduled and running runs.
	Stats(ctx context.Context) (store.QueueStats, error)
}

// New builds the metrics; queue, when non-nil, is read on each scrape
// (bounded by a 5 second timeout) for the queue gauges.
func New(queue QueueStatser) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		eventsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sprocket_events_received_total",
			Help: "Events accepted, by source and topic."}, []string{"source", "topic"}),
		runsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sprocket_runs_finished_total",
			Help: "Runs finished, by kind and final status."}, []string{"kind", "status"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sprocket_run_retries_total",
			Help: "Failed run attempts rescheduled for a retry, by kind."}, []string{"kind"}),
		leasesLost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sprocket_run_leases_lost_total",
			Help: "Run outcomes refused because the run's lease had been lost, by kind."}, []string{"kind"}),
		claimSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sprocket_claim_duration_seconds",
			Help: "Duration of one claim of due runs.", Buckets: prometheus.ExponentialBuckets(0.0001, 3, 12)}),
		renderSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sprocket_render_duration_seconds",
			Help: "Duration of a task run (render), from claim to recorded outcome.", Buckets: prometheus.ExponentialBuckets(0.0005, 3, 12)}),
		performSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sprocket_perform_duration_seconds",
			Help: "Duration of an action run (perform), from claim to recorded outcome.", Buckets: prometheus.ExponentialBuckets(0.0005, 3, 12)},
			[]string{"action_type"}),
		eventRunSecs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sprocket_event_run_duration_seconds",
			Help: "Duration of an event run (filters and subscriptions), from claim to recorded outcome.", Buckets: prometheus.ExponentialBuckets(0.0005, 3, 12)}),
		webhookRejects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sprocket_webhook_rejections_total",
			Help: "Webhook requests answered with an error status, by status code."}, []string{"code"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sprocket_store_errors_total",
			Help: "Store calls that failed for reasons other than the caller's input, by operation."}, []string{"op"}),
		tasksAtLimit: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sprocket_tasks_at_concurrency_limit",
			Help: "Tasks whose runs the latest claim left queued because the task had its limit of runs in progress (--task-concurrency)."}),
		taskDeferrals: prometheus.NewCounter(prometheus.CounterOpts{Name: "sprocket_task_limit_deferrals_total",
			Help: "Claims that left a task's due runs queued because the task was at its concurrency limit, once per task and claim."}),
		topics: map[string]bool{},
	}
	reg.MustRegister(m.eventsReceived, m.runsFinished, m.retries, m.leasesLost, m.claimSeconds, m.renderSeconds,
		m.performSeconds, m.eventRunSecs, m.webhookRejects, m.storeErrors, m.tasksAtLimit, m.taskDeferrals,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queue != nil {
		reg.MustRegister(&queueCollector{q: queue, errs: m.storeErrors})
	}
	return m
}

// Registry returns the registry, e.g. to register more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: 10 * time.Second, MaxRequestsInFlight: 4})
}

func (m *Metrics) topic(t string) string {
	m.topicsMu.Lock()
	defer m.topicsMu.Unlock()
	if m.topics[t] {
		return t
	}
	if len(m.topics) >= maxTopics {
		return "other"
	}
	m.topics[t] = true
	return t
}

// Webhooks wraps the webhook handler to count rejected requests.
func (m *Metrics) Webhooks(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		if sw.code >= 400 {
			m.webhookRejects.WithLabelValues(strconv.Itoa(sw.code)).Inc()
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wroteHeader {
		s.code, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// storeError counts err under op unless it is the caller's doing.
func (m *Metrics) storeError(op string, err error) {
	if err == nil {
		return
	}
	for _, benign := range []error{store.ErrNotFound, store.ErrConflict, store.ErrInvalid, store.ErrLeaseLost,
		store.ErrNotInteger, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, benign) {
			return
		}
	}
	m.storeErrors.WithLabelValues(op).Inc()
}

// queueCollector reads the queue when scraped.
type queueCollector struct {
	q    QueueStatser
	errs *prometheus.CounterVec
}

var (
	queueRunsDesc = prometheus.NewDesc("sprocket_queue_runs", "Runs in the queue, by kind and state (due, scheduled, running).",
		[]string{"kind", "state"}, nil)
	oldestDueDesc = prometheus.NewDesc("sprocket_queue_oldest_due_age_seconds",
		"How long the longest-waiting due run has been due (0 when none is due).", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueRunsDesc
	ch <- oldestDueDesc
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.q.Stats(ctx)
	if err != nil {
		c.errs.WithLabelValues("stats").Inc()
		ch <- prometheus.NewInvalidMetric(queueRunsDesc, fmt.Errorf("queue stats: %w", err))
		return
	}
	for _, k := range []store.RunKind{store.KindEvent, store.KindTask, store.KindAction} {
		ch <- prometheus.MustNewConstMetric(queueRunsDesc, prometheus.GaugeValue, float64(st.Due[k]), string(k), "due")
		ch <- prometheus.MustNewConstMetric(queueRunsDesc, prometheus.GaugeValue, float64(st.Scheduled[k]), string(k), "scheduled")
		ch <- prometheus.MustNewConstMetric(queueRunsDesc, prometheus.GaugeValue, float64(st.Running[k]), string(k), "running")
	}
	age := 0.0
	if !st.OldestDue.IsZero() {
		age = max(0, time.Since(st.OldestDue).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(oldestDueDesc, prometheus.GaugeValue, age)
}
