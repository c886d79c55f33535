package trail

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"lextrail/internal/audit"
)

// Event selectors (spec §5 PutEventSelectors). The types are the wire
// shapes of CloudTrail's API, so the service decodes into them directly.

// EventSelector is a basic event selector.
type EventSelector struct {
	ReadWriteType                 string         `json:"ReadWriteType,omitempty"`
	IncludeManagementEvents       *bool          `json:"IncludeManagementEvents,omitempty"`
	DataResources                 []DataResource `json:"DataResources"`
	ExcludeManagementEventSources []string       `json:"ExcludeManagementEventSources"`
}

// DataResource selects data events of one resource type.
type DataResource struct {
	Type   string   `json:"Type,omitempty"`
	Values []string `json:"Values"`
}

// AdvancedEventSelector is an advanced event selector.
type AdvancedEventSelector struct {
	Name           string          `json:"Name,omitempty"`
	FieldSelectors []FieldSelector `json:"FieldSelectors"`
}

// FieldSelector is one condition of an advanced selector.
type FieldSelector struct {
	Field         string   `json:"Field"`
	Equals        []string `json:"Equals,omitempty"`
	StartsWith    []string `json:"StartsWith,omitempty"`
	EndsWith      []string `json:"EndsWith,omitempty"`
	NotEquals     []string `json:"NotEquals,omitempty"`
	NotStartsWith []string `json:"NotStartsWith,omitempty"`
	NotEndsWith   []string `json:"NotEndsWith,omitempty"`
}

// Selectors are a trail's event selectors: basic or advanced, never both.
// Custom records whether PutEventSelectors was ever applied
// (HasCustomEventSelectors).
type Selectors struct {
	Basic    []EventSelector         `json:"basic,omitempty"`
	Advanced []AdvancedEventSelector `json:"advanced,omitempty"`
	Custom   bool                    `json:"custom,omitempty"`
}

// DefaultSelectors is what a new trail logs: all management events.
func DefaultSelectors() Selectors {
	t := true
	return Selectors{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &t,
		DataResources: []DataResource{}, ExcludeManagementEventSources: []string{}}}}
}

// Limits of PutEventSelectors.
const (
	MaxBasicSelectors   = 5
	MaxDataResourceVals = 250
	MaxAdvancedValues   = 500
	maxFieldValueLen    = 2048
	maxSelectorNameLen  = 1000
)

// SelectorError is why selectors are invalid (InvalidEventSelectorsException).
type SelectorError string

func (e SelectorError) Error() string { return string(e) }

func selErr(format string, args ...any) error { return SelectorError(fmt.Sprintf(format, args...)) }

var (
	readWriteTypes     = []string{"ReadOnly", "WriteOnly", "All"}
	dataResourceTypes  = []string{"AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table"}
	excludableSources  = []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}
	advancedFields     = []string{"eventCategory", "eventSource", "eventName", "readOnly", "resources.type", "resources.ARN"}
	equalsOnlyFields   = []string{"eventCategory", "readOnly", "resources.type"}
	eventCategories    = []string{"Management", "Data"}
	dataResourcePrefix = map[string]string{
		"AWS::S3::Object":       "arn:aws:s3",
		"AWS::Lambda::Function": "arn:aws:lambda",
		"AWS::DynamoDB::Table":  "arn:aws:dynamodb",
	}
)

// NormalizeBasic validates basic selectors and fills their defaults
// (ReadWriteType All, IncludeManagementEvents true, empty lists).
func NormalizeBasic(in []EventSelector) ([]EventSelector, error) {
	if len(in) == 0 {
		return nil, selErr("The event selectors list cannot be empty.")
	}
	if len(in) > MaxBasicSelectors {
		return nil, selErr("You have exceeded the maximum number of event selectors (%d). Specified: %d.", MaxBasicSelectors, len(in))
	}
	out := make([]EventSelector, 0, len(in))
	values := 0
	for _, s := range in {
		if s.ReadWriteType == "" {
			s.ReadWriteType = "All"
		}
		if !slices.Contains(readWriteTypes, s.ReadWriteType) {
			return nil, selErr("Value %s for parameter ReadWriteType is invalid. Valid values are ReadOnly, WriteOnly and All.", s.ReadWriteType)
		}
		if s.IncludeManagementEvents == nil {
			t := true
			s.IncludeManagementEvents = &t
		}
		if s.DataResources == nil {
			s.DataResources = []DataResource{}
		}
		if s.ExcludeManagementEventSources == nil {
			s.ExcludeManagementEventSources = []string{}
		}
		for _, src := range s.ExcludeManagementEventSources {
			if !slices.Contains(excludableSources, src) {
				return nil, selErr("Value %s for ExcludeManagementEventSources is invalid. Valid values are %s.", src, strings.Join(excludableSources, " and "))
			}
		}
		if len(s.ExcludeManagementEventSources) > 0 && !*s.IncludeManagementEvents {
			return nil, selErr("ExcludeManagementEventSources can be specified only when IncludeManagementEvents is true.")
		}
		for _, dr := range s.DataResources {
			if !slices.Contains(dataResourceTypes, dr.Type) {
				return nil, selErr("Value %s for DataResource Type is invalid. Valid values are %s.", dr.Type, strings.Join(dataResourceTypes, ", "))
			}
			if len(dr.Values) == 0 {
				return nil, selErr("The DataResource of type %s must have at least one value.", dr.Type)
			}
			for _, v := range dr.Values {
				if err := validDataValue(dr.Type, v); err != nil {
					return nil, err
				}
			}
			values += len(dr.Values)
		}
		if values > MaxDataResourceVals {
			return nil, selErr("You have exceeded the maximum number of data resource values (%d). Specified: %d.", MaxDataResourceVals, values)
		}
		out = append(out, s)
	}
	return out, nil
}

func validDataValue(typ, v string) error {
	p := dataResourcePrefix[typ]
	switch {
	case v == p, typ == "AWS::S3::Object" && v == "arn:aws:s3:::":
		return nil
	case typ == "AWS::S3::Object" && strings.HasPrefix(v, "arn:aws:s3:::") && strings.Contains(v[len("arn:aws:s3:::"):], "/") && !strings.HasPrefix(v[len("arn:aws:s3:::"):], "/"):
		return nil
	case typ == "AWS::Lambda::Function" && strings.HasPrefix(v, "arn:aws:lambda:") && strings.Contains(v, ":function:"):
		return nil
	case typ == "AWS::DynamoDB::Table" && strings.HasPrefix(v, "arn:aws:dynamodb:") && strings.Contains(v, ":table/"):
		return nil
	}
	return selErr("Value %s for DataResource Values of type %s is invalid.", v, typ)
}

// NormalizeAdvanced validates advanced selectors.
func NormalizeAdvanced(in []AdvancedEventSelector) ([]AdvancedEventSelector, error) {
	if len(in) == 0 {
		return nil, selErr("The advanced event selectors list cannot be empty.")
	}
	values := 0
	for i, s := range in {
		if len(s.Name) > maxSelectorNameLen {
			return nil, selErr("Advanced event selector name exceeds %d characters.", maxSelectorNameLen)
		}
		if len(s.FieldSelectors) == 0 {
			return nil, selErr("Each advanced event selector must have at least one field selector.")
		}
		seen := map[string]bool{}
		category := ""
		hasType := false
		for _, f := range s.FieldSelectors {
			if !slices.Contains(advancedFields, f.Field) {
				return nil, selErr("Field %s is invalid. Valid fields are %s.", f.Field, strings.Join(advancedFields, ", "))
			}
			if seen[f.Field] {
				return nil, selErr("Field %s appears more than once in advanced event selector %d.", f.Field, i+1)
			}
			seen[f.Field] = true
			ops := [][]string{f.Equals, f.StartsWith, f.EndsWith, f.NotEquals, f.NotStartsWith, f.NotEndsWith}
			n := 0
			for _, op := range ops {
				for _, v := range op {
					if v == "" || len(v) > maxFieldValueLen {
						return nil, selErr("Values for field %s must be 1 to %d characters long.", f.Field, maxFieldValueLen)
					}
				}
				n += len(op)
			}
			if n == 0 {
				return nil, selErr("Field selector %s must have at least one operator with a value.", f.Field)
			}
			values += n
			if slices.Contains(equalsOnlyFields, f.Field) && n != len(f.Equals) {
				return nil, selErr("Field %s supports only the Equals operator.", f.Field)
			}
			switch f.Field {
			case "eventCategory":
				for _, v := range f.Equals {
					if !slices.Contains(eventCategories, v) {
						return nil, selErr("Value %s for field eventCategory is invalid. Valid values are Management and Data.", v)
					}
				}
				if len(f.Equals) != 1 {
					return nil, selErr("Field eventCategory must have exactly one value.")
				}
				category = f.Equals[0]
			case "readOnly":
				for _, v := range f.Equals {
					if v != "true" && v != "false" {
						return nil, selErr("Value %s for field readOnly is invalid. Valid values are true and false.", v)
					}
				}
			case "resources.type":
				hasType = true
			}
		}
		if category == "" {
			return nil, selErr("Each advanced event selector must have an eventCategory field selector.")
		}
		if category == "Data" && !hasType {
			return nil, selErr("Advanced event selectors for data events must have a resources.type field selector.")
		}
		if category == "Management" && (seen["resources.type"] || seen["resources.ARN"] || seen["eventName"]) {
			return nil, selErr("Advanced event selectors for management events support only the eventCategory, readOnly and eventSource fields.")
		}
	}
	if values > MaxAdvancedValues {
		return nil, selErr("You have exceeded the maximum number of values (%d) for advanced event selectors. Specified: %d.", MaxAdvancedValues, values)
	}
	return in, nil
}

// Candidate is an event being considered for delivery.
type Candidate struct {
	Category    string
	EventSource string
	EventName   string
	ReadOnly    bool
	Record      []byte

	res    []audit.Resource
	parsed bool
}

func (c *Candidate) resources() []audit.Resource {
	if !c.parsed {
		c.parsed = true
		var r struct {
			Resources []audit.Resource `json:"resources"`
		}
		if json.Unmarshal(c.Record, &r) == nil {
			c.res = r.Resources
		}
	}
	return c.res
}

// Reset prepares c for another event.
func (c *Candidate) Reset(category, source, name string, readOnly bool, record []byte) {
	*c = Candidate{Category: category, EventSource: source, EventName: name, ReadOnly: readOnly, Record: record}
}

// Match reports whether the selectors select the event.
func (s *Selectors) Match(c *Candidate) bool {
	if len(s.Advanced) > 0 {
		for i := range s.Advanced {
			if matchAdvanced(&s.Advanced[i], c) {
				return true
			}
		}
		return false
	}
	basic := s.Basic
	if len(basic) == 0 {
		basic = DefaultSelectors().Basic
	}
	for i := range basic {
		if matchBasic(&basic[i], c) {
			return true
		}
	}
	return false
}

func readWriteMatches(rw string, readOnly bool) bool {
	switch rw {
	case "ReadOnly":
		return readOnly
	case "WriteOnly":
		return !readOnly
	}
	return true
}

func matchBasic(s *EventSelector, c *Candidate) bool {
	if !readWriteMatches(s.ReadWriteType, c.ReadOnly) {
		return false
	}
	if c.Category == audit.CategoryManagement {
		return (s.IncludeManagementEvents == nil || *s.IncludeManagementEvents) &&
			!slices.Contains(s.ExcludeManagementEventSources, c.EventSource)
	}
	if len(s.DataResources) == 0 {
		return false
	}
	for _, r := range c.resources() {
		for _, dr := range s.DataResources {
			if dr.Type != r.Type {
				continue
			}
			for _, v := range dr.Values {
				if v == dataResourcePrefix[dr.Type] || (dr.Type == "AWS::S3::Object" && v == "arn:aws:s3:::") || strings.HasPrefix(r.ARN, v) && (dr.Type == "AWS::S3::Object" || r.ARN == v) {
					return true
				}
			}
		}
	}
	return false
}

func matchAdvanced(s *AdvancedEventSelector, c *Candidate) bool {
	for i := range s.FieldSelectors {
		f := &s.FieldSelectors[i]
		var vals []string
		switch f.Field {
		case "eventCategory":
			vals = []string{c.Category}
		case "eventSource":
			vals = []string{c.EventSource}
		case "eventName":
			vals = []string{c.EventName}
		case "readOnly":
			vals = []string{boolText(c.ReadOnly)}
		case "resources.type":
			for _, r := range c.resources() {
				vals = append(vals, r.Type)
			}
		case "resources.ARN":
			for _, r := range c.resources() {
				vals = append(vals, r.ARN)
			}
		default:
			return false
		}
		if !fieldMatches(f, vals) {
			return false
		}
	}
	return true
}

// fieldMatches: a field selector matches when some value of the field
// satisfies every operator it uses: one of Equals, one of StartsWith, one
// of EndsWith, and none of NotEquals, NotStartsWith, NotEndsWith.
func fieldMatches(f *FieldSelector, vals []string) bool {
	for _, v := range vals {
		if valueMatches(f, v) {
			return true
		}
	}
	return false
}

func valueMatches(f *FieldSelector, v string) bool {
	any := func(list []string, pred func(string) bool) bool {
		for _, x := range list {
			if pred(x) {
				return true
			}
		}
		return false
	}
	eq := func(x string) bool { return v == x }
	sw := func(x string) bool { return strings.HasPrefix(v, x) }
	ew := func(x string) bool { return strings.HasSuffix(v, x) }
	return (len(f.Equals) == 0 || any(f.Equals, eq)) &&
		(len(f.StartsWith) == 0 || any(f.StartsWith, sw)) &&
		(len(f.EndsWith) == 0 || any(f.EndsWith, ew)) &&
		!any(f.NotEquals, eq) && !any(f.NotStartsWith, sw) && !any(f.NotEndsWith, ew)
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// GlobalEventSources are the services whose events CloudTrail records in
// us-east-1 as global service events.
var GlobalEventSources = []string{"iam.amazonaws.com", "sts.amazonaws.com", "cloudfront.amazonaws.com"}

// Covers reports whether a trail with these settings and home region
// takes events of region from source: a multi-region trail every region,
// a single-region trail its home region; global service events (IAM,
// STS, CloudFront, recorded in us-east-1) only with IncludeGlobal.
func (s *Settings) Covers(home, region, source string) bool {
	if !s.MultiRegion && region != home {
		return false
	}
	if region == "us-east-1" && slices.Contains(GlobalEventSources, source) {
		return s.IncludeGlobal
	}
	return true
}
