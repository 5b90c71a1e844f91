package store

import "time"

// EngineStats are bbolt's counters since Open, for profiling the store
// at scale: pages a write touches and writes, and the freelist's size.
type EngineStats struct {
	ReadTx       int           `json:"read_tx"`
	PagesAlloc   int64         `json:"pages_alloc"`   // page allocations of write transactions
	PagesWritten int64         `json:"pages_written"` // page writes of commits
	WriteTime    time.Duration `json:"write_ns"`      // commits' writes, fsync included
	Splits       int64         `json:"splits"`
	Spills       int64         `json:"spills"`
	SpillTime    time.Duration `json:"spill_ns"`
	Rebalances   int64         `json:"rebalances"`
	NodeDerefs   int64         `json:"node_derefs"`
	FreePages    int           `json:"free_pages"`
	PendingPages int           `json:"pending_pages"`
}

// EngineStats reads bbolt's counters.
func (s *Store) EngineStats() EngineStats {
	st := s.db.Stats()
	tx := &st.TxStats
	return EngineStats{
		ReadTx: st.TxN, PagesAlloc: tx.GetPageCount(), PagesWritten: tx.GetWrite(),
		WriteTime: tx.GetWriteTime(), Splits: tx.GetSplit(), Spills: tx.GetSpill(),
		SpillTime: tx.GetSpillTime(), Rebalances: tx.GetRebalance(), NodeDerefs: tx.GetNodeDeref(),
		FreePages: st.FreePageN, PendingPages: st.PendingPageN,
	}
}
