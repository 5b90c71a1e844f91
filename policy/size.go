package policy

import (
	"fmt"
	"time"
)

// DefaultMaxTransferBytes is "20 MB" read as 20 MiB (20,971,520 bytes).
const DefaultMaxTransferBytes int64 = 20 << 20

// SizeException lets one account move larger files until it expires; the
// Nutzungsordnung wants exceptions "vorab mit den Administratoren abgesprochen".
type SizeException struct {
	Bytes int64
	Until time.Time
}

// TransferLimit is the largest up- or download allowed for an account now:
// the default limit, or the largest exception in force.
func (e *Engine) TransferLimit(exceptions []SizeException, now time.Time) int64 {
	limit := e.MaxTransferBytes
	for _, x := range exceptions {
		if now.Before(x.Until) && x.Bytes > limit {
			limit = x.Bytes
		}
	}
	return limit
}

// CheckTransfer applies SIZE-20MB to one transfer of size bytes.
func (e *Engine) CheckTransfer(size int64, exceptions []SizeException, now time.Time) Decision {
	limit := e.TransferLimit(exceptions, now)
	if size > limit {
		return Deny(Size20MB, "Übertragungen über %s sind nicht erlaubt (%s); Ausnahmen vergeben die Administratoren.",
			FormatBytes(limit), FormatBytes(size))
	}
	return Allowed
}

// FormatBytes renders a size for people: "20 MiB", "512 KiB", "17 B".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
