package cloudtrail

import (
	"context"
	"encoding/base64"
	"errors"
	"sort"
	"strings"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/policy"
	"lextrail/internal/services/s3"
	"lextrail/internal/store"
	"lextrail/internal/trail"
)

// trailNamed inputs name one trail (by name or ARN).
type trailNamed interface{ trailID() string }

// trailResource is the resource of an operation on one trail: its ARN
// (for a name, in the caller's account and region).
func trailResource(c *catalog.Call, in any) []catalog.Resource {
	n, ok := in.(trailNamed)
	if !ok {
		return nil
	}
	id := n.trailID()
	if id == "" {
		return nil
	}
	arn := id
	if !trail.IsARN(id) {
		arn = trail.ARN(c.Region, c.AccountID(), id)
	} else if _, err := trail.ParseARN(id); err != nil {
		return nil // the handler reports CloudTrailARNInvalidException
	}
	return []catalog.Resource{{ARN: arn, Type: "AWS::CloudTrail::Trail"}}
}

func write(name string, recordResponse bool) catalog.Operation {
	return catalog.Operation{Name: name, Audited: true, RecordResponse: recordResponse, Resources: trailResource}
}

func read(name string) catalog.Operation {
	return catalog.Operation{Name: name, ReadOnly: true, Audited: true, Resources: trailResource}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// find resolves a trail named by name or ARN as seen from the call's
// region: a name finds the region's own trail; an ARN also finds a
// multi-region trail's shadow (home elsewhere), which only reads may use
// (mutate: InvalidHomeRegionException).
func (s *Service) find(ctx context.Context, c *catalog.Call, id string, mutate bool) (*trail.Trail, error) {
	acct := c.AccountID()
	if strings.TrimSpace(id) == "" {
		return nil, errInvalidName("Trail name or ARN cannot be blank!")
	}
	if trail.IsARN(id) {
		p, err := trail.ParseARN(id)
		if err != nil || p.Type != "trail" {
			return nil, errARNInvalid(id)
		}
		if p.Account != acct {
			return nil, errTrailNotFound(id, acct)
		}
		t, err := trail.ByARN(ctx, c.Tx, id)
		if errors.Is(err, trail.ErrNotFound) {
			return nil, errTrailNotFound(id, acct)
		}
		if err != nil {
			return nil, err
		}
		if t.HomeRegion != c.Region {
			if !t.Settings.MultiRegion {
				return nil, errTrailNotFound(id, acct)
			}
			if mutate {
				return nil, errHomeRegion(t.HomeRegion)
			}
		}
		return t, nil
	}
	if err := trail.ValidateName(id); err != nil {
		return nil, errInvalidName(err.Error())
	}
	t, err := trail.ByName(ctx, c.Tx, acct, c.Region, id)
	if errors.Is(err, trail.ErrNotFound) {
		return nil, errTrailNotFound(id, acct)
	}
	return t, err
}

// CreateTrailInput is CreateTrail's request.
type CreateTrailInput struct {
	Name                       *string     `json:"Name,omitempty"`
	S3BucketName               *string     `json:"S3BucketName,omitempty"`
	S3KeyPrefix                *string     `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               *string     `json:"SnsTopicName,omitempty"`
	IncludeGlobalServiceEvents *bool       `json:"IncludeGlobalServiceEvents,omitempty"`
	IsMultiRegionTrail         *bool       `json:"IsMultiRegionTrail,omitempty"`
	EnableLogFileValidation    *bool       `json:"EnableLogFileValidation,omitempty"`
	CloudWatchLogsLogGroupArn  *string     `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      *string     `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyId                   *string     `json:"KmsKeyId,omitempty"`
	IsOrganizationTrail        *bool       `json:"IsOrganizationTrail,omitempty"`
	TagsList                   []trail.Tag `json:"TagsList,omitempty"`
}

func (in *CreateTrailInput) trailID() string { return str(in.Name) }

// TrailOutput is CreateTrail's and UpdateTrail's response.
type TrailOutput struct {
	Name                       string `json:"Name"`
	S3BucketName               string `json:"S3BucketName"`
	S3KeyPrefix                string `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               string `json:"SnsTopicName,omitempty"`
	SnsTopicARN                string `json:"SnsTopicARN,omitempty"`
	IncludeGlobalServiceEvents bool   `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool   `json:"IsMultiRegionTrail"`
	TrailARN                   string `json:"TrailARN"`
	LogFileValidationEnabled   bool   `json:"LogFileValidationEnabled"`
	KmsKeyId                   string `json:"KmsKeyId,omitempty"`
	IsOrganizationTrail        bool   `json:"IsOrganizationTrail"`
}

func trailOutput(t *trail.Trail) *TrailOutput {
	s := &t.Settings
	return &TrailOutput{Name: t.Name, S3BucketName: s.Bucket, S3KeyPrefix: s.Prefix, SnsTopicName: s.SnsTopicName,
		SnsTopicARN: s.SnsTopicARN, IncludeGlobalServiceEvents: s.IncludeGlobal, IsMultiRegionTrail: s.MultiRegion,
		TrailARN: t.ARN, LogFileValidationEnabled: s.Validation, KmsKeyId: s.KmsKeyID}
}

// Trail is the Trail object of GetTrail and DescribeTrails.
type Trail struct {
	Name                       string `json:"Name"`
	S3BucketName               string `json:"S3BucketName"`
	S3KeyPrefix                string `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               string `json:"SnsTopicName,omitempty"`
	SnsTopicARN                string `json:"SnsTopicARN,omitempty"`
	IncludeGlobalServiceEvents bool   `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool   `json:"IsMultiRegionTrail"`
	HomeRegion                 string `json:"HomeRegion"`
	TrailARN                   string `json:"TrailARN"`
	LogFileValidationEnabled   bool   `json:"LogFileValidationEnabled"`
	KmsKeyId                   string `json:"KmsKeyId,omitempty"`
	HasCustomEventSelectors    bool   `json:"HasCustomEventSelectors"`
	HasInsightSelectors        bool   `json:"HasInsightSelectors"`
	IsOrganizationTrail        bool   `json:"IsOrganizationTrail"`
}

func trailObject(t *trail.Trail) Trail {
	s := &t.Settings
	return Trail{Name: t.Name, S3BucketName: s.Bucket, S3KeyPrefix: s.Prefix, SnsTopicName: s.SnsTopicName,
		SnsTopicARN: s.SnsTopicARN, IncludeGlobalServiceEvents: s.IncludeGlobal, IsMultiRegionTrail: s.MultiRegion,
		HomeRegion: t.HomeRegion, TrailARN: t.ARN, LogFileValidationEnabled: s.Validation, KmsKeyId: s.KmsKeyID,
		HasCustomEventSelectors: s.Selectors.Custom}
}

// settingsInput are the settings members CreateTrail and UpdateTrail share.
type settingsInput struct {
	bucket, prefix, topic, kms, cwGroup, cwRole *string
	global, multi, validation, org              *bool
}

// applySettings validates the supplied members and applies them to s
// (CreateTrail starts from the defaults), checking the bucket policy, the
// topic policy and the KMS key as CloudTrail does.
func (s *Service) applySettings(ctx context.Context, c *catalog.Call, arn string, in settingsInput, st *trail.Settings, creating bool) error {
	if in.org != nil && *in.org {
		return clientError("OrganizationsNotInUseException", "This account is not a member of an organization.")
	}
	if str(in.cwGroup) != "" || str(in.cwRole) != "" {
		if str(in.cwGroup) == "" {
			return clientError("InvalidCloudWatchLogsLogGroupArnException", "You must specify a log group and a role ARN.")
		}
		return clientError("UnsupportedOperationException", "lextrail does not deliver trails to CloudWatch Logs.")
	}
	if in.global != nil {
		st.IncludeGlobal = *in.global
	}
	if in.multi != nil {
		st.MultiRegion = *in.multi
	}
	if in.validation != nil {
		st.Validation = *in.validation
	}
	if st.MultiRegion && !st.IncludeGlobal {
		return errParamCombination("Multi-Region trail must include global service events.")
	}
	checkBucket := creating
	if in.bucket != nil {
		if *in.bucket == "" {
			return clientError("InvalidS3BucketNameException", "S3 bucket name cannot be blank.")
		}
		if !s3.ValidBucketName(*in.bucket) {
			return clientError("InvalidS3BucketNameException", "Bucket name %s is not valid.", *in.bucket)
		}
		st.Bucket, checkBucket = *in.bucket, true
	}
	if in.prefix != nil {
		if err := trail.ValidatePrefix(*in.prefix); err != nil {
			return clientError("InvalidS3PrefixException", "%s", err.Error())
		}
		st.Prefix, checkBucket = *in.prefix, true
	}
	if st.Bucket == "" {
		return clientError("InvalidS3BucketNameException", "S3 bucket name cannot be blank.")
	}
	if checkBucket {
		if err := s.checkBucket(ctx, c, arn, st); err != nil {
			return err
		}
	}
	if in.topic != nil {
		st.SnsTopicName, st.SnsTopicARN = "", ""
		if *in.topic != "" {
			if len(*in.topic) > 256 {
				return clientError("InvalidSnsTopicNameException", "SNS topic name %s is not valid.", *in.topic)
			}
			if s.cfg.Topics == nil {
				return errTopicPolicy()
			}
			topicARN := *in.topic
			if !strings.HasPrefix(topicARN, "arn:") {
				topicARN = "arn:aws:sns:" + c.Region + ":" + c.AccountID() + ":" + topicARN
			}
			if err := s.cfg.Topics.CheckPublish(ctx, topicARN, arn, c.AccountID()); err != nil {
				return errTopicPolicy()
			}
			name := *in.topic
			if i := strings.LastIndexByte(name, ':'); trail.IsARN(name) && i >= 0 {
				name = name[i+1:]
			}
			st.SnsTopicName, st.SnsTopicARN = name, topicARN
		}
	}
	if in.kms != nil {
		st.KmsKeyID = ""
		if *in.kms != "" {
			if len(*in.kms) > 350 {
				return clientError("InvalidKmsKeyIdException", "KMS key ID %s is not valid.", *in.kms)
			}
			if s.cfg.Keys == nil {
				return clientError("KmsKeyNotFoundException", "KMS key %s not found: this lextrail serves no KMS.", *in.kms)
			}
			keyARN, err := s.cfg.Keys.ResolveKey(ctx, c.Tx, *in.kms, c.AccountID(), c.Region)
			if err != nil {
				if e := awserr.As(err); e.Client() && e.Code != "NotFoundException" && e.Code != "KmsKeyNotFoundException" {
					return clientError("InvalidKmsKeyIdException", "KMS key ID %s is not valid: %s", *in.kms, e.Message)
				}
				return clientError("KmsKeyNotFoundException", "KMS key %s not found.", *in.kms)
			}
			if err := s.cfg.Keys.AuthorizeTrail(ctx, c.Tx, keyARN, arn, c.AccountID(), c.Region); err != nil {
				if e := awserr.As(err); !e.Client() {
					return err
				}
				return clientError("InsufficientEncryptionPolicyException", "Insufficient permissions to access S3 bucket %s or KMS key %s.", st.Bucket, keyARN)
			}
			st.KmsKeyID = keyARN
		}
	}
	return nil
}

// checkBucket checks that the bucket exists and that its policy lets
// CloudTrail check its ACL and write the trail's log files (and digests)
// with the bucket-owner-full-control ACL, as this trail.
func (s *Service) checkBucket(ctx context.Context, c *catalog.Call, arn string, st *trail.Settings) error {
	if s.cfg.Buckets == nil {
		return errBucketMissing(st.Bucket)
	}
	principal := &policy.Principal{Service: trail.ServicePrincipal}
	cond := map[string][]string{"aws:sourcearn": {arn}, "aws:sourceaccount": {c.AccountID()}}
	if err := s.cfg.Buckets.Authorize(ctx, st.Bucket, "", "s3:GetBucketAcl", principal, cond); err != nil {
		if awserr.As(err).Code == "NoSuchBucket" {
			return errBucketMissing(st.Bucket)
		}
		if !awserr.As(err).Client() {
			return err
		}
		return errBucketPolicy(st.Bucket)
	}
	put := map[string][]string{"aws:sourcearn": {arn}, "aws:sourceaccount": {c.AccountID()}, "s3:x-amz-acl": {"bucket-owner-full-control"}}
	keys := []string{trail.LogKey(st.Prefix, c.AccountID(), c.Region, c.Now, trail.Unique("check", c.AccountID(), c.Region, 0, 0))}
	if st.Validation {
		keys = append(keys, trail.DigestKey(st.Prefix, c.AccountID(), c.Region, arn[strings.LastIndexByte(arn, '/')+1:], c.Region, c.Now))
	}
	for _, k := range keys {
		if err := s.cfg.Buckets.Authorize(ctx, st.Bucket, k, "s3:PutObject", principal, put); err != nil {
			if !awserr.As(err).Client() {
				return err
			}
			return errBucketPolicy(st.Bucket)
		}
	}
	return nil
}

// Tag limits.
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

func validTags(tags []trail.Tag) error {
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > maxTagKeyLen {
			return errTagParam("Tag key must be 1 to %d characters long.", maxTagKeyLen)
		}
		if len(t.Value) > maxTagValueLen {
			return errTagParam("Tag value must be at most %d characters long.", maxTagValueLen)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return errTagParam("Tag keys starting with aws: are reserved.")
		}
	}
	return nil
}

// mergeTags sets tags over old (same key: new value).
func mergeTags(old, add []trail.Tag) []trail.Tag {
	out := append([]trail.Tag(nil), old...)
	for _, t := range add {
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, found = t.Value, true
			}
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

func (s *Service) createTrail(ctx context.Context, c *catalog.Call, in *CreateTrailInput) (*TrailOutput, error) {
	name := str(in.Name)
	if err := trail.ValidateName(name); err != nil {
		return nil, errInvalidName(err.Error())
	}
	acct := c.AccountID()
	arn := trail.ARN(c.Region, acct, name)
	if len(in.TagsList) > maxTags {
		return nil, clientError("TagsLimitExceededException", "The number of tags on the resource is over the limit of %d.", maxTags)
	}
	if err := validTags(in.TagsList); err != nil {
		return nil, err
	}
	if _, err := trail.ByName(ctx, c.Tx, acct, c.Region, name); err == nil {
		return nil, errTrailExists(name, acct)
	} else if !errors.Is(err, trail.ErrNotFound) {
		return nil, err
	}
	// A multi-region trail's shadow takes its name in every region.
	existing, err := trail.ListAccount(ctx, c.Tx, acct)
	if err != nil {
		return nil, err
	}
	for _, t := range existing {
		if t.Name == name && t.Settings.MultiRegion {
			return nil, errTrailExists(name, acct)
		}
	}
	st := trail.Settings{IncludeGlobal: true, Selectors: trail.DefaultSelectors()}
	if err := s.applySettings(ctx, c, arn, settingsInput{
		bucket: in.S3BucketName, prefix: in.S3KeyPrefix, topic: in.SnsTopicName, kms: in.KmsKeyId,
		cwGroup: in.CloudWatchLogsLogGroupArn, cwRole: in.CloudWatchLogsRoleArn,
		global: in.IncludeGlobalServiceEvents, multi: in.IsMultiRegionTrail, validation: in.EnableLogFileValidation, org: in.IsOrganizationTrail,
	}, &st, true); err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, c, st.MultiRegion); err != nil {
		return nil, err
	}
	t := &trail.Trail{ID: uuid.NewString(), AccountID: acct, HomeRegion: c.Region, Name: name, ARN: arn,
		Settings: st, Tags: mergeTags(nil, in.TagsList), CreatedMs: store.Millis(c.Now)}
	if err := trail.Insert(ctx, c.Tx, t); err != nil {
		if errors.Is(err, trail.ErrExists) {
			return nil, errTrailExists(name, acct)
		}
		return nil, err
	}
	return trailOutput(t), nil
}

// checkQuota enforces 5 trails per region: the call's region, and for a
// multi-region trail every region where the account has trails.
func (s *Service) checkQuota(ctx context.Context, c *catalog.Call, multi bool) error {
	regions := []string{c.Region}
	if multi {
		all, err := trail.ListAccount(ctx, c.Tx, c.AccountID())
		if err != nil {
			return err
		}
		for _, t := range all {
			regions = append(regions, t.HomeRegion)
		}
	}
	for _, r := range regions {
		n, err := trail.CountIn(ctx, c.Tx, c.AccountID(), r)
		if err != nil {
			return err
		}
		if n >= s.cfg.MaxTrailsPerRegion {
			return clientError("MaximumNumberOfTrailsExceededException", "User: %s already has %d trails in %s.", c.AccountID(), n, r)
		}
	}
	return nil
}

// UpdateTrailInput is UpdateTrail's request.
type UpdateTrailInput struct {
	Name                       *string `json:"Name,omitempty"`
	S3BucketName               *string `json:"S3BucketName,omitempty"`
	S3KeyPrefix                *string `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               *string `json:"SnsTopicName,omitempty"`
	IncludeGlobalServiceEvents *bool   `json:"IncludeGlobalServiceEvents,omitempty"`
	IsMultiRegionTrail         *bool   `json:"IsMultiRegionTrail,omitempty"`
	EnableLogFileValidation    *bool   `json:"EnableLogFileValidation,omitempty"`
	CloudWatchLogsLogGroupArn  *string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      *string `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyId                   *string `json:"KmsKeyId,omitempty"`
	IsOrganizationTrail        *bool   `json:"IsOrganizationTrail,omitempty"`
}

func (in *UpdateTrailInput) trailID() string { return str(in.Name) }

func (s *Service) updateTrail(ctx context.Context, c *catalog.Call, in *UpdateTrailInput) (*TrailOutput, error) {
	t, err := s.find(ctx, c, str(in.Name), true)
	if err != nil {
		return nil, err
	}
	st := t.Settings
	wasMulti, wasValidating := st.MultiRegion, st.Validation
	if err := s.applySettings(ctx, c, t.ARN, settingsInput{
		bucket: in.S3BucketName, prefix: in.S3KeyPrefix, topic: in.SnsTopicName, kms: in.KmsKeyId,
		cwGroup: in.CloudWatchLogsLogGroupArn, cwRole: in.CloudWatchLogsRoleArn,
		global: in.IncludeGlobalServiceEvents, multi: in.IsMultiRegionTrail, validation: in.EnableLogFileValidation, org: in.IsOrganizationTrail,
	}, &st, false); err != nil {
		return nil, err
	}
	if st.Validation && !wasValidating && in.S3BucketName == nil && in.S3KeyPrefix == nil {
		// Digests need the digest path too.
		if err := s.checkBucket(ctx, c, t.ARN, &st); err != nil {
			return nil, err
		}
	}
	if st.MultiRegion && !wasMulti {
		if err := s.checkQuotaOthers(ctx, c, t); err != nil {
			return nil, err
		}
	}
	if err := trail.SaveSettings(ctx, c.Tx, t, st, store.Millis(c.Now)); err != nil {
		return nil, err
	}
	return trailOutput(t), nil
}

// checkQuotaOthers: a trail becoming multi-region counts in every region.
func (s *Service) checkQuotaOthers(ctx context.Context, c *catalog.Call, self *trail.Trail) error {
	all, err := trail.ListAccount(ctx, c.Tx, c.AccountID())
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, t := range all {
		if t.ID == self.ID {
			continue
		}
		if t.Name == self.Name && t.HomeRegion != self.HomeRegion {
			return errTrailExists(self.Name, c.AccountID())
		}
		counts[t.HomeRegion]++
	}
	for r, n := range counts {
		if n >= s.cfg.MaxTrailsPerRegion {
			return clientError("MaximumNumberOfTrailsExceededException", "User: %s already has %d trails in %s.", c.AccountID(), n, r)
		}
	}
	return nil
}

// NameInput names one trail.
type NameInput struct {
	Name *string `json:"Name,omitempty"`
}

func (in *NameInput) trailID() string { return str(in.Name) }

func (s *Service) deleteTrail(ctx context.Context, c *catalog.Call, in *NameInput) (*struct{}, error) {
	t, err := s.find(ctx, c, str(in.Name), true)
	if err != nil {
		return nil, err
	}
	if err := trail.Delete(ctx, c.Tx, t, store.Millis(c.Now)); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// GetTrailOutput is GetTrail's response.
type GetTrailOutput struct {
	Trail Trail `json:"Trail"`
}

func (s *Service) getTrail(ctx context.Context, c *catalog.Call, in *NameInput) (*GetTrailOutput, error) {
	t, err := s.find(ctx, c, str(in.Name), false)
	if err != nil {
		return nil, err
	}
	return &GetTrailOutput{Trail: trailObject(t)}, nil
}

// DescribeTrailsInput is DescribeTrails' request (lower-case members).
type DescribeTrailsInput struct {
	TrailNameList       []string `json:"trailNameList,omitempty"`
	IncludeShadowTrails *bool    `json:"includeShadowTrails,omitempty"`
}

// DescribeTrailsOutput is DescribeTrails' response.
type DescribeTrailsOutput struct {
	TrailList []Trail `json:"trailList"`
}

func (s *Service) describeTrails(ctx context.Context, c *catalog.Call, in *DescribeTrailsInput) (*DescribeTrailsOutput, error) {
	shadows := in.IncludeShadowTrails == nil || *in.IncludeShadowTrails
	all, err := trail.ListAccount(ctx, c.Tx, c.AccountID())
	if err != nil {
		return nil, err
	}
	out := &DescribeTrailsOutput{TrailList: []Trail{}}
	visible := func(t *trail.Trail) bool {
		return t.HomeRegion == c.Region || (shadows && t.Settings.MultiRegion)
	}
	if len(in.TrailNameList) == 0 {
		for _, t := range all {
			if visible(t) {
				out.TrailList = append(out.TrailList, trailObject(t))
			}
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, id := range in.TrailNameList {
		if trail.IsARN(id) {
			if p, err := trail.ParseARN(id); err != nil || p.Type != "trail" {
				return nil, errARNInvalid(id)
			}
		} else if err := trail.ValidateName(id); err != nil {
			return nil, errInvalidName(err.Error())
		}
		for _, t := range all {
			match := t.ARN == id && visible(t) || t.Name == id && t.HomeRegion == c.Region
			if match && !seen[t.ID] {
				seen[t.ID] = true
				out.TrailList = append(out.TrailList, trailObject(t))
			}
		}
	}
	return out, nil
}

// ListTrailsInput is ListTrails' request.
type ListTrailsInput struct {
	NextToken *string `json:"NextToken,omitempty"`
}

// TrailInfo is a ListTrails entry.
type TrailInfo struct {
	TrailARN   string `json:"TrailARN"`
	Name       string `json:"Name"`
	HomeRegion string `json:"HomeRegion"`
}

// ListTrailsOutput is ListTrails' response.
type ListTrailsOutput struct {
	Trails    []TrailInfo `json:"Trails"`
	NextToken string      `json:"NextToken,omitempty"`
}

func (s *Service) listTrails(ctx context.Context, c *catalog.Call, in *ListTrailsInput) (*ListTrailsOutput, error) {
	all, err := trail.ListAccount(ctx, c.Tx, c.AccountID())
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ARN < all[j].ARN })
	after := ""
	if tok := str(in.NextToken); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || !trail.IsARN(string(b)) {
			return nil, clientError("InvalidNextTokenException", "Invalid NextToken.")
		}
		after = string(b)
	}
	out := &ListTrailsOutput{Trails: []TrailInfo{}}
	for _, t := range all {
		if t.ARN <= after {
			continue
		}
		if len(out.Trails) == s.cfg.ListTrailsPageSize {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(out.Trails[len(out.Trails)-1].TrailARN))
			break
		}
		out.Trails = append(out.Trails, TrailInfo{TrailARN: t.ARN, Name: t.Name, HomeRegion: t.HomeRegion})
	}
	return out, nil
}
