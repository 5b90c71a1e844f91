package web

import (
	"schulhof/internal/metrics"
	"schulhof/policy"
)

// refused is the one place where the portal turns a policy decision into
// the text the user sees (refusal, catalog.go); it counts the refusal.
func (p *portal) refused(lang string, d policy.Decision) string {
	p.mtr.Refused(metrics.Web, d)
	return refusal(lang, d)
}
