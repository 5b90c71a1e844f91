package config

import "fmt"

// Files configures the WebDAV home and group folders ([files]).
type Files struct {
	// Quotas in bytes of home folders by role and of group folders;
	// -1 means unlimited.
	StudentQuotaBytes int64 `toml:"student_quota_bytes"`
	TeacherQuotaBytes int64 `toml:"teacher_quota_bytes"`
	AdminQuotaBytes   int64 `toml:"admin_quota_bytes"`
	AuditorQuotaBytes int64 `toml:"auditor_quota_bytes"`
	GroupQuotaBytes   int64 `toml:"group_quota_bytes"`
}

func defaultFiles() Files {
	return Files{
		StudentQuotaBytes: 1 << 30, TeacherQuotaBytes: 5 << 30, AdminQuotaBytes: 5 << 30,
		AuditorQuotaBytes: 100 << 20, GroupQuotaBytes: 5 << 30,
	}
}

func (f Files) validate() error {
	for name, v := range map[string]int64{
		"student_quota_bytes": f.StudentQuotaBytes, "teacher_quota_bytes": f.TeacherQuotaBytes,
		"admin_quota_bytes": f.AdminQuotaBytes, "auditor_quota_bytes": f.AuditorQuotaBytes,
		"group_quota_bytes": f.GroupQuotaBytes,
	} {
		if v < -1 {
			return fmt.Errorf("config: files.%s must be -1 (unlimited) or at least 0", name)
		}
	}
	return nil
}
