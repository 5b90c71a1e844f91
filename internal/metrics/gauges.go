package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Usage is the store's size on disk.
type Usage struct {
	DBBytes   int64 // schulhof.db
	Blobs     int64 // blob files
	BlobBytes int64 // their bytes
}

// usageTTL: counting the blob files walks the blob folder, so a scrape
// reuses a count this young instead of walking again.
const usageTTL = 30 * time.Second

// StoreUsage registers the store size gauges, read from usage (at most
// once per usageTTL).
func (m *Metrics) StoreUsage(usage func() (Usage, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&usageCollector{read: usage})
}

var (
	dbBytesDesc   = prometheus.NewDesc("schulhof_store_db_bytes", "Size of the bbolt database file.", nil, nil)
	blobsDesc     = prometheus.NewDesc("schulhof_store_blobs", "Blob files (message bodies and file contents) in the data directory.", nil, nil)
	blobBytesDesc = prometheus.NewDesc("schulhof_store_blob_bytes", "Bytes of the blob files.", nil, nil)
	backupDesc    = prometheus.NewDesc("schulhof_backup_age_seconds", "Seconds since the newest complete backup (absent: no backup yet).", nil, nil)
)

type usageCollector struct {
	read func() (Usage, error)

	mu   sync.Mutex
	last Usage
	at   time.Time
}

func (c *usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dbBytesDesc
	ch <- blobsDesc
	ch <- blobBytesDesc
}

func (c *usageCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if c.at.IsZero() || time.Since(c.at) > usageTTL {
		u, err := c.read()
		if err != nil {
			c.mu.Unlock()
			ch <- prometheus.NewInvalidMetric(dbBytesDesc, err)
			return
		}
		c.last, c.at = u, time.Now()
	}
	u := c.last
	c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(dbBytesDesc, prometheus.GaugeValue, float64(u.DBBytes))
	ch <- prometheus.MustNewConstMetric(blobsDesc, prometheus.GaugeValue, float64(u.Blobs))
	ch <- prometheus.MustNewConstMetric(blobBytesDesc, prometheus.GaugeValue, float64(u.BlobBytes))
}

// BackupAge registers schulhof_backup_age_seconds, read from latest at
// every scrape; ok false (no backup yet) leaves the gauge out.
func (m *Metrics) BackupAge(latest func() (t time.Time, ok bool, err error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(backupCollector(latest))
}

type backupCollector func() (time.Time, bool, error)

func (c backupCollector) Describe(ch chan<- *prometheus.Desc) { ch <- backupDesc }

func (c backupCollector) Collect(ch chan<- prometheus.Metric) {
	t, ok, err := c()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(backupDesc, err)
		return
	}
	if ok {
		ch <- prometheus.MustNewConstMetric(backupDesc, prometheus.GaugeValue, time.Since(t).Seconds())
	}
}
