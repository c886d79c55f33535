package lexmodels

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"lextrail/internal/awserr"
)

// The lex-models error codes (spec §1.6).
const (
	codeBadRequest         = "BadRequestException"
	codeNotFound           = "NotFoundException"
	codeConflict           = "ConflictException"
	codePreconditionFailed = "PreconditionFailedException"
	codeResourceInUse      = "ResourceInUseException"
	codeLimitExceeded      = "LimitExceededException"
)

func badRequest(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, codeBadRequest, format, args...)
}

func notFound(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusNotFound, codeNotFound, format, args...)
}

func preconditionFailed(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusPreconditionFailed, codePreconditionFailed, format, args...)
}

func conflict(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusConflict, codeConflict, format, args...)
}

// inUse is ResourceInUseException: status 400 and a body of only
// referenceType and exampleReference (spec §1.6, §2.6).
func inUse(refType string, ref ResourceReference) *awserr.Error {
	e := awserr.New(http.StatusBadRequest, codeResourceInUse, "The resource is referred to by %s %s%s.", refType, ref.Name, versionSuffix(ref.Version))
	e.OmitMessage = true
	e.Fields = map[string]any{"referenceType": refType, "exampleReference": ref}
	return e
}

func versionSuffix(v string) string {
	if v == "" {
		return ""
	}
	return " version " + v
}

// checker collects field validation failures and reports them the way AWS
// services do: "2 validation errors detected: Value 'x' at 'name' failed to
// satisfy constraint: ...; ...".
type checker struct{ msgs []string }

func (c *checker) fail(value, field, constraint string) {
	c.msgs = append(c.msgs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", clip(value), field, constraint))
}

func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

// required reports a missing member.
func (c *checker) required(present bool, field string) bool {
	if !present {
		c.msgs = append(c.msgs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", field))
	}
	return present
}

// str checks a string's length in characters and, when re is non-nil, its
// pattern.
func (c *checker) str(field, v string, min, max int, re *regexp.Regexp) {
	n := utf8.RuneCountInString(v)
	if n < min || n > max {
		switch {
		case n < min:
			c.fail(v, field, fmt.Sprintf("Member must have length greater than or equal to %d", min))
		default:
			c.fail(v, field, fmt.Sprintf("Member must have length less than or equal to %d", max))
		}
		return
	}
	if re != nil && !re.MatchString(v) {
		c.fail(v, field, "Member must satisfy regular expression pattern: "+patternText(re))
	}
}

func patternText(re *regexp.Regexp) string {
	s := re.String()
	s = strings.TrimPrefix(s, "^(?:")
	s = strings.TrimSuffix(s, ")$")
	return s
}

// enum checks v is one of allowed.
func (c *checker) enum(field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.fail(v, field, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// intRange checks min <= v <= max.
func (c *checker) intRange(field string, v, min, max int) {
	switch {
	case v < min:
		c.fail(fmt.Sprint(v), field, fmt.Sprintf("Member must have value greater than or equal to %d", min))
	case v > max:
		c.fail(fmt.Sprint(v), field, fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
}

// count checks a list's length.
func (c *checker) count(field string, n, min, max int) {
	switch {
	case n < min:
		c.msgs = append(c.msgs, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", field, min))
	case n > max:
		c.msgs = append(c.msgs, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", field, max))
	}
}

// err returns the collected failures as a BadRequestException, or nil.
func (c *checker) err() error {
	switch len(c.msgs) {
	case 0:
		return nil
	case 1:
		return badRequest("1 validation error detected: %s", c.msgs[0])
	default:
		return badRequest("%d validation errors detected: %s", len(c.msgs), strings.Join(c.msgs, "; "))
	}
}
