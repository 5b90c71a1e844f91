package policy

import "time"

// LockRequest are the facts of one WebDAV LOCK (or its refresh).
type LockRequest struct {
	Role Role
	// InGroupFolder: the resource is in a group's folder, shared with the
	// class; otherwise it is in the account's own home folder.
	InGroupFolder bool
	Collection    bool // the resource is a folder
	DepthInfinity bool
	// Timeout is what the client asked for; < 0 is "Infinite", 0 none given.
	Timeout    time.Duration
	OwnerBytes int64 // size of the <owner> XML
	Held       int64 // live locks the account holds already (without this one)
	Refresh    bool  // an existing lock is refreshed: scope and count were checked when it was taken
}

// CheckLock decides a LOCK and returns the timeout to grant. Scope and
// duration follow the role: a lock in a group folder blocks the whole
// class, so a student locks only files there (a folder lock, of any
// depth, would shut out the teacher and every classmate), and a student's
// locks are short. Nobody gets an infinite lock: each is capped.
func (e *Engine) CheckLock(req LockRequest) (Decision, time.Duration) {
	if !req.Refresh {
		if d := e.CheckBound(LockOwnerBytes, req.OwnerBytes); !d.Allow {
			return d, 0
		}
		if d := e.CheckBound(LocksPerAccount, req.Held+1); !d.Allow {
			return d, 0
		}
		if req.Role == Student && req.InGroupFolder && req.Collection {
			return Deny(LimitLock, "Schülerinnen und Schüler können in Gruppenordnern nur einzelne Dateien sperren, keine Ordner."), 0
		}
	}
	capKey := LockTimeoutSeconds
	if req.Role == Student {
		capKey = LockTimeoutStudentSecs
	}
	limit := time.Duration(e.Bound(capKey)) * time.Second
	granted := req.Timeout
	if granted <= 0 || granted > limit {
		granted = limit
	}
	return Allowed, granted
}

// MayBreakLock reports whether an account may remove someone else's lock.
// A teacher owns her class folder: a student's lock there must not keep
// her out of it until it expires, so the group's teachers may UNLOCK
// students' locks in the group folder; admins may remove any lock in a
// group folder they reach. Nobody breaks a lock in someone's home folder
// (nobody else can reach it).
func MayBreakLock(breaker Role, teachesGroup bool, holder Role, inGroupFolder bool) bool {
	if !inGroupFolder {
		return false
	}
	return breaker == Admin || (teachesGroup && holder == Student)
}
