package mailmsg

import (
	"errors"

	"schulhof/policy"
)

// PolicyLimits are the bounds in force: policy's mime_parts and mime_depth.
func PolicyLimits(e *policy.Engine) Limits {
	return Limits{Parts: int(e.Bound(policy.MIMEParts)), Depth: int(e.Bound(policy.MIMEDepth))}
}

// Refusal is the LIMIT-MIME refusal for a *LimitError from ParseLimited
// (naming the bound and its number); any other error, and nil, give
// Allowed.
func Refusal(e *policy.Engine, err error) policy.Decision {
	var le *LimitError
	if !errors.As(err, &le) {
		return policy.Allowed
	}
	key := policy.MIMEParts
	if le.Bound == "depth" {
		key = policy.MIMEDepth
	}
	return e.CheckBound(key, int64(le.N))
}
