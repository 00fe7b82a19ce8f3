package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// shopCollector exposes the Shopify client's rate-limit model and
// counters at scrape time:
//
//   - sprocket_shopify_connected: 1 when a shop is connected;
//   - sprocket_shopify_bucket_available_points, _maximum_points: the cost
//     bucket as the client projects it;
//   - sprocket_shopify_calls_total, _retries_total, _throttled_total
//     (THROTTLED and 429 answers), _waits_total (waits for the bucket
//     before sending) and _wait_seconds_total.
type shopCollector struct {
	shop  *shopConn
	descs map[string]*prometheus.Desc
}

func newShopCollector(shop *shopConn) *shopCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("sprocket_shopify_"+name, help, nil, nil)
	}
	return &shopCollector{shop: shop, descs: map[string]*prometheus.Desc{
		"connected":   d("connected", "1 when a Shopify shop is connected."),
		"available":   d("bucket_available_points", "GraphQL cost points available, as the client projects the shop's bucket."),
		"maximum":     d("bucket_maximum_points", "Size of the shop's GraphQL cost bucket."),
		"calls":       d("calls_total", "Admin API calls made (GraphQL and REST)."),
		"retries":     d("retries_total", "Retries after failed attempts."),
		"throttled":   d("throttled_total", "THROTTLED and HTTP 429 answers."),
		"waits":       d("waits_total", "Waits for the rate limit before sending."),
		"waitSeconds": d("wait_seconds_total", "Time spent waiting for the rate limit and backing off."),
	}}
}

// Describe implements prometheus.Collector.
func (c *shopCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *shopCollector) Collect(ch chan<- prometheus.Metric) {
	conn := c.shop.current()
	if conn == nil {
		ch <- prometheus.MustNewConstMetric(c.descs["connected"], prometheus.GaugeValue, 0)
		return
	}
	s := conn.client.ThrottleState()
	ch <- prometheus.MustNewConstMetric(c.descs["connected"], prometheus.GaugeValue, 1)
	if s.GraphQLKnown {
		ch <- prometheus.MustNewConstMetric(c.descs["available"], prometheus.GaugeValue, s.GraphQLAvailable)
		ch <- prometheus.MustNewConstMetric(c.descs["maximum"], prometheus.GaugeValue, s.GraphQLMaximum)
	}
	ch <- prometheus.MustNewConstMetric(c.descs["calls"], prometheus.CounterValue, float64(s.Calls))
	ch <- prometheus.MustNewConstMetric(c.descs["retries"], prometheus.CounterValue, float64(s.Retries))
	ch <- prometheus.MustNewConstMetric(c.descs["throttled"], prometheus.CounterValue, float64(s.Throttled))
	ch <- prometheus.MustNewConstMetric(c.descs["waits"], prometheus.CounterValue, float64(s.Waits))
	ch <- prometheus.MustNewConstMetric(c.descs["waitSeconds"], prometheus.CounterValue, s.WaitTotal.Seconds())
}
