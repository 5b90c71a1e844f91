package mailmsg

import (
	"errors"

	"schulhof/policy"
)

// PolicyLimits are the bounds in force: policy's mime_parts, mime_depth
// and header_bytes (for the top header and every part's).
func PolicyLimits(e *policy.Engine) Limits {
	hb := e.Bound(policy.HeaderBytes)
	return Limits{Parts: int(e.Bound(policy.MIMEParts)), Depth: int(e.Bound(policy.MIMEDepth)),
		HeaderBytes: hb, PartHeaderBytes: hb}
}

// Refusal is the LIMIT-MIME (or, for the header, LIMIT-HEADER) refusal for
// a *LimitError from ParseLimited, naming the bound and its number; any
// other error, and nil, give Allowed.
func Refusal(e *policy.Engine, err error) policy.Decision {
	var le *LimitError
	if !errors.As(err, &le) {
		return policy.Allowed
	}
	key := policy.MIMEParts
	switch le.Bound {
	case "depth":
		key = policy.MIMEDepth
	case "header":
		key = policy.HeaderBytes
	}
	return e.CheckBound(key, int64(le.N))
}
