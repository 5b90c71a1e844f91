package doctor

import "schulhof/store"

// diskFailBelow: with less free, deliveries and uploads fail soon.
const diskFailBelow = 256 << 20

// checkDisk judges the free space against the data size: less than the
// data itself leaves no room for a backup on the same disk, a compaction
// or a year's growth.
func checkDisk(u store.DiskSpace) Finding {
	const check = "disk"
	free, data := int64(u.FreeBytes), u.DataBytes
	switch {
	case free < diskFailBelow:
		return finding(check, Fail, "disk.full", size(free), size(data))
	case free < data:
		return finding(check, Warn, "disk.low", size(free), size(data))
	default:
		return finding(check, OK, "disk.ok", size(free), size(int64(u.TotalBytes)), size(data))
	}
}
