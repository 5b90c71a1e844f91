package policy

// Quota is the storage rule of the file folders: every home folder and
// every group folder holds at most its quota. It is not a clause of the
// Nutzungsordnung but a resource limit of the school's server; it still
// names a rule so the refusal reads like every other one.
const Quota Rule = "QUOTA"

func init() {
	Table = append(Table, RuleInfo{Quota, "Server resources (not in the Nutzungsordnung)", "DAV PUT/COPY/MOVE"})
}

// Quotas are the storage quotas in bytes: home folders by role, and group
// folders. A value < 0 means unlimited.
type Quotas struct {
	Student, Teacher, Admin, Auditor int64
	Group                            int64
}

// DefaultQuotas: 1 GiB for students, 5 GiB for teachers and admins, 100 MiB
// for auditors (they read logs, they do not keep files), 5 GiB per group.
func DefaultQuotas() Quotas {
	return Quotas{Student: 1 << 30, Teacher: 5 << 30, Admin: 5 << 30, Auditor: 100 << 20, Group: 5 << 30}
}

// ForRole is the home folder quota of a role.
func (q Quotas) ForRole(role Role) int64 {
	switch role {
	case Teacher:
		return q.Teacher
	case Admin:
		return q.Admin
	case Auditor:
		return q.Auditor
	}
	return q.Student
}

// CheckQuota decides whether a folder holding used bytes may grow by add
// bytes under quota.
func CheckQuota(used, add, quota int64) Decision {
	if quota >= 0 && add > 0 && used+add > quota {
		return Deny(Quota, "Der Speicherplatz ist voll (%s von %s belegt).", FormatBytes(used), FormatBytes(quota))
	}
	return Allowed
}
