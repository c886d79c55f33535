package dialog

import (
	"regexp"
	"unicode/utf8"

	"lextrail/internal/awserr"
)

var reContextName = regexp.MustCompile(`^([A-Za-z]_?)+$`)

// Limits on active contexts (lex-runtime model).
const (
	MaxActiveContexts = 20
	maxContextParams  = 10
)

// CheckContext validates an active context from a request or a code hook:
// name 1–100 of ^([A-Za-z]_?)+$, timeToLiveInSeconds 5–86400, turnsToLive
// 1–20, at most 10 parameters (names 1–100, values ≤ 1024 characters).
func CheckContext(ac ActiveContext) *awserr.Error {
	if n := utf8.RuneCountInString(ac.Name); n < 1 || n > 100 || !reContextName.MatchString(ac.Name) {
		return badRequest("The active context name %q must be 1-100 characters matching ^([A-Za-z]_?)+$.", clip(ac.Name))
	}
	if s := ac.TimeToLive.TimeToLiveInSeconds; s != nil && (*s < 5 || *s > 86400) {
		return badRequest("timeToLiveInSeconds of active context %s must be between 5 and 86400.", ac.Name)
	}
	if n := ac.TimeToLive.TurnsToLive; n != nil && (*n < 1 || *n > 20) {
		return badRequest("turnsToLive of active context %s must be between 1 and 20.", ac.Name)
	}
	if len(ac.Parameters) > maxContextParams {
		return badRequest("Active context %s has %d parameters; at most %d are allowed.", ac.Name, len(ac.Parameters), maxContextParams)
	}
	for k, v := range ac.Parameters {
		if n := utf8.RuneCountInString(k); n < 1 || n > 100 {
			return badRequest("Parameter names of active context %s must be 1-100 characters.", ac.Name)
		}
		if utf8.RuneCountInString(v) > 1024 {
			return badRequest("Parameter %s of active context %s is longer than 1024 characters.", clip(k), ac.Name)
		}
	}
	return nil
}

// CheckContexts validates a request's activeContexts list.
func CheckContexts(acs []ActiveContext) *awserr.Error {
	if len(acs) > MaxActiveContexts {
		return badRequest("%d active contexts were sent; at most %d are allowed.", len(acs), MaxActiveContexts)
	}
	seen := map[string]bool{}
	for _, ac := range acs {
		if err := CheckContext(ac); err != nil {
			return err
		}
		if seen[ac.Name] {
			return badRequest("The active context %s is listed twice.", ac.Name)
		}
		seen[ac.Name] = true
	}
	return nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
