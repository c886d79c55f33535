// Package trail owns CloudTrail trails as lextrail stores them: a trail's
// settings (bucket, prefix, topic, regions, selectors, validation, KMS
// key), its logging periods in event-sequence terms, its delivery cursor,
// the delivery batch in progress, the log files delivered (the delivery
// record), its digest chains and its GetTrailStatus fields — the tables of
// migration 0700 and every query on them. It also owns the rules shared by
// the API and the workers: trail names and ARNs, S3 key layout (spec §2.1,
// §2.2, §3.1) and event selectors (which events a trail delivers).
//
// The Trails API (internal/services/cloudtrail) changes trails; the
// delivery worker (internal/trail/delivery) and the digest writer
// (internal/trail/digest) move them forward. trail reads events only
// through internal/audit and never touches another package's tables.
package trail

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// ServicePrincipal is the principal trail deliveries act as.
const ServicePrincipal = "cloudtrail.amazonaws.com"

// MaxPerRegion is how many trails an account may have in a region (a
// multi-region trail counts in every region).
const MaxPerRegion = 5

// Settings is a trail's configuration (trails.config).
type Settings struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix,omitempty"`
	// SnsTopicName is the topic as the caller named it, SnsTopicARN its ARN.
	SnsTopicName  string    `json:"snsTopicName,omitempty"`
	SnsTopicARN   string    `json:"snsTopicArn,omitempty"`
	IncludeGlobal bool      `json:"includeGlobal"`
	MultiRegion   bool      `json:"multiRegion"`
	Validation    bool      `json:"validation"`
	KmsKeyID      string    `json:"kmsKeyId,omitempty"` // the key's ARN
	Selectors     Selectors `json:"selectors"`
}

// Tag is a trail tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

// Trail is a trails row.
type Trail struct {
	ID         string
	AccountID  string
	HomeRegion string
	Name       string
	ARN        string
	Settings   Settings
	Tags       []Tag
	CreatedMs  int64

	Deleted        bool
	Logging        bool
	StartLoggingMs int64
	StopLoggingMs  int64
	// DigestEpochMs is when the current digest chain began (0: none).
	DigestEpochMs int64
	// DigestClosingMs is the epoch of the chain that ended last, and
	// DigestCutSeq the sequence number of the last event it covers.
	DigestClosingMs int64
	DigestCutSeq    int64

	CursorSeq    int64
	NextBatch    int64
	WindowMs     int64
	LeaseOwner   string
	LeaseUntilMs int64
	FlushMs      int64

	Status Status
}

// Status holds GetTrailStatus' fields (epoch ms, 0 = never happened).
type Status struct {
	LatestDeliveryMs            int64
	LatestDeliveryAttemptMs     int64
	LatestDeliveryError         string
	LatestNotificationMs        int64
	LatestNotificationAttemptMs int64
	LatestNotificationError     string
	LatestDigestMs              int64
	LatestDigestAttemptMs       int64
	LatestDigestError           string
}

// ARN returns a trail's ARN.
func ARN(region, account, name string) string {
	return "arn:aws:cloudtrail:" + region + ":" + account + ":trail/" + name
}

// ErrNotARN is returned by ParseARN for a string that is not an ARN.
var ErrNotARN = errors.New("trail: not an ARN")

// ParsedARN is a CloudTrail ARN's parts.
type ParsedARN struct {
	Partition, Region, Account, Type, Name string
}

var arnRE = regexp.MustCompile(`^arn:(aws[a-z-]*):cloudtrail:([a-z0-9-]+):(\d{12}):([a-z]+)/(.+)$`)

// IsARN reports whether s looks like an ARN (starts with "arn:").
func IsARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// ParseARN parses a CloudTrail resource ARN
// (arn:aws:cloudtrail:<region>:<account>:<type>/<name>).
func ParseARN(s string) (ParsedARN, error) {
	m := arnRE.FindStringSubmatch(s)
	if m == nil {
		return ParsedARN{}, ErrNotARN
	}
	return ParsedARN{Partition: m[1], Region: m[2], Account: m[3], Type: m[4], Name: m[5]}, nil
}

// NameError is why a trail name is invalid (InvalidTrailNameException).
type NameError string

func (e NameError) Error() string { return string(e) }

// ValidateName applies CloudTrail's trail name rules (spec §5): 3-128
// characters of [A-Za-z0-9._-], starting and ending with a letter or
// digit, no two adjacent '.', '_' or '-', not an IPv4 address.
func ValidateName(name string) error {
	if strings.TrimSpace(name) == "" {
		return NameError("Trail name cannot be blank!")
	}
	if len(name) < 3 {
		return NameError(fmt.Sprintf("Trail name too short. Minimum allowed length: 3 characters. Specified name length: %d characters.", len(name)))
	}
	if len(name) > 128 {
		return NameError(fmt.Sprintf("Trail name too long. Maximum allowed length: 128 characters. Specified name length: %d characters.", len(name)))
	}
	for i := 0; i < len(name); i++ {
		if !nameChar(name[i]) {
			return NameError("Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).")
		}
	}
	if !alnum(name[0]) {
		return NameError("Trail name must starts with a letter or number.")
	}
	if !alnum(name[len(name)-1]) {
		return NameError("Trail name must ends with a letter or number.")
	}
	for i := 1; i < len(name); i++ {
		if !alnum(name[i]) && !alnum(name[i-1]) {
			return NameError("Trail name cannot have adjacent periods (.), hyphens (-), or underscores (_).")
		}
	}
	if a, err := netip.ParseAddr(name); err == nil && a.Is4() {
		return NameError("Trail name cannot be formatted as an IP address.")
	}
	return nil
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func nameChar(c byte) bool { return alnum(c) || c == '.' || c == '_' || c == '-' }

// PrefixError is why an S3 key prefix is invalid (InvalidS3PrefixException).
type PrefixError string

func (e PrefixError) Error() string { return string(e) }

// MaxPrefixLen is the longest S3 key prefix.
const MaxPrefixLen = 200

// ValidatePrefix checks an S3KeyPrefix: at most 200 characters, no
// "AWSLogs" first segment (that tree belongs to CloudTrail's own layout:
// a prefix there would let one account write into another's), nothing
// an object key cannot hold.
func ValidatePrefix(p string) error {
	switch {
	case len(p) > MaxPrefixLen:
		return PrefixError(fmt.Sprintf("Prefix is too long. Maximum allowed length: %d characters. Specified length: %d characters.", MaxPrefixLen, len(p)))
	case p == "AWSLogs" || strings.HasPrefix(p, "AWSLogs/"):
		return PrefixError("Prefix cannot start with AWSLogs/.")
	case strings.HasPrefix(p, "/"):
		return PrefixError("Prefix cannot start with a slash.")
	case strings.Contains(p, "//"):
		return PrefixError("Prefix cannot contain consecutive slashes.")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return PrefixError("Prefix cannot contain a '.' or '..' segment.")
		}
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return PrefixError("Prefix cannot contain control characters.")
		}
	}
	return nil
}
