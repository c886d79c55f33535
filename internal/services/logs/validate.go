package logs

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Constraint checks answer like CloudWatch Logs' model validation:
// InvalidParameterException "1 validation error detected: Value 'x' at
// 'logGroupName' failed to satisfy constraint: Member must satisfy regular
// expression pattern: [\.\-_/#A-Za-z0-9]+" (several joined by "; ").
type validator struct{ errs []string }

const (
	groupNamePattern  = `[\.\-_/#A-Za-z0-9]+`
	streamNamePattern = `[^:*]*`
)

var (
	groupNameRE  = regexp.MustCompile(`^` + groupNamePattern + `$`)
	groupPatRE   = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]*$`)
	streamNameRE = regexp.MustCompile(`^` + streamNamePattern + `$`)
	identRE      = regexp.MustCompile(`^[\w#+=/:,.@-]*$`)
)

func quoteValue(v string) string {
	if len(v) > 256 {
		v = v[:256] + "..."
	}
	return "'" + v + "'"
}

func (v *validator) add(value, member, constraint string) {
	v.errs = append(v.errs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, member, constraint))
}

func (v *validator) required(member string, present bool) bool {
	if !present {
		v.add("null", member, "Member must not be null")
	}
	return present
}

func (v *validator) length(member, s string, lo, hi int) bool {
	n := utf8.RuneCountInString(s)
	switch {
	case n < lo:
		v.add(quoteValue(s), member, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
		return false
	case n > hi:
		v.add(quoteValue(s), member, fmt.Sprintf("Member must have length less than or equal to %d", hi))
		return false
	}
	return true
}

func (v *validator) pattern(member, s string, re *regexp.Regexp, pattern string) {
	if !re.MatchString(s) {
		v.add(quoteValue(s), member, "Member must satisfy regular expression pattern: "+pattern)
	}
}

func (v *validator) rangeInt(member string, p *int32, lo, hi int32) {
	if p == nil {
		return
	}
	switch {
	case *p < lo:
		v.add(fmt.Sprint(*p), member, fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	case *p > hi:
		v.add(fmt.Sprint(*p), member, fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
}

func (v *validator) nonNegative(member string, p *int64) {
	if p != nil && *p < 0 {
		v.add(fmt.Sprint(*p), member, "Member must have value greater than or equal to 0")
	}
}

// groupName checks a logGroupName member.
func (v *validator) groupName(member string, p *string) {
	if !v.required(member, p != nil) {
		return
	}
	if v.length(member, *p, 1, 512) {
		v.pattern(member, *p, groupNameRE, groupNamePattern)
	}
}

// streamName checks a logStreamName member.
func (v *validator) streamName(member string, p *string) {
	if !v.required(member, p != nil) {
		return
	}
	if v.length(member, *p, 1, 512) {
		v.pattern(member, *p, streamNameRE, streamNamePattern)
	}
}

// groupRef checks the logGroupName / logGroupIdentifier pair of read APIs:
// exactly one of them.
func (v *validator) groupRef(name, ident *string) {
	switch {
	case name != nil && ident != nil:
		v.errs = append(v.errs, mutuallyExclusive)
	case name != nil:
		v.groupName("logGroupName", name)
	case ident != nil:
		if v.length("logGroupIdentifier", *ident, 1, 2048) {
			v.pattern("logGroupIdentifier", *ident, identRE, `[\w#+=/:,.@-]*`)
		}
	default:
		v.errs = append(v.errs, missingGroup)
	}
}

const (
	mutuallyExclusive = "!LogGroup name and LogGroup ARN are mutually exclusive parameters."
	missingGroup      = "!Should provide either a log group name or a log group identifier (ARN)."
)

// err returns the collected errors as one InvalidParameterException, or
// nil. Messages starting with '!' stand alone (not a constraint list).
func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	for _, e := range v.errs {
		if strings.HasPrefix(e, "!") {
			return invalidParam("%s", e[1:])
		}
	}
	word := "error"
	if len(v.errs) > 1 {
		word = "errors"
	}
	return invalidParam("%d validation %s detected: %s", len(v.errs), word, strings.Join(v.errs, "; "))
}

// groupIdent returns the name or identifier given (after groupRef passed).
func groupIdent(name, ident *string) string {
	if name != nil {
		return *name
	}
	if ident != nil {
		return *ident
	}
	return ""
}

// retentionValues are the retentionInDays values AWS accepts.
var retentionValues = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func validRetention(d int32) bool {
	for _, r := range retentionValues {
		if r == d {
			return true
		}
	}
	return false
}

func retentionList() string {
	parts := make([]string, len(retentionValues))
	for i, r := range retentionValues {
		parts[i] = fmt.Sprint(r)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ---- tags ----

var (
	tagKeyRE   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValueRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

const maxTags = 50

// checkTags validates a tag map (member names tags/tags.key).
func (v *validator) tags(member string, tags map[string]string) {
	for k, val := range tags {
		if v.length(member+".member.key", k, 1, 128) {
			v.pattern(member+".member.key", k, tagKeyRE, `^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)
		}
		if v.length(member+".member.value", val, 0, 256) {
			v.pattern(member+".member.value", val, tagValueRE, `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
		}
	}
}

func reservedTag(tags map[string]string) error {
	for k := range tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalidParam("Tag keys starting with 'aws:' are reserved: %s", k)
		}
	}
	return nil
}
