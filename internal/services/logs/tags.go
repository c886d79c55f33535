package logs

import (
	"context"
	"encoding/json"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
)

// TagLogGroupInput is TagLogGroup's request (deprecated API, still served).
type TagLogGroupInput struct {
	LogGroupName *string           `json:"logGroupName,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
}

func (in *TagLogGroupInput) groupIdent() string { return deref(in.LogGroupName) }

// UntagLogGroupInput is UntagLogGroup's request.
type UntagLogGroupInput struct {
	LogGroupName *string  `json:"logGroupName,omitempty"`
	Tags         []string `json:"tags,omitempty"`
}

func (in *UntagLogGroupInput) groupIdent() string { return deref(in.LogGroupName) }

// TagsOutput is the tags of ListTagsLogGroup and ListTagsForResource.
type TagsOutput struct {
	Tags map[string]string `json:"tags"`
}

// TagResourceInput is TagResource's request.
type TagResourceInput struct {
	ResourceArn *string           `json:"resourceArn,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

func (in *TagResourceInput) resourceARN() string { return deref(in.ResourceArn) }

// UntagResourceInput is UntagResource's request.
type UntagResourceInput struct {
	ResourceArn *string  `json:"resourceArn,omitempty"`
	TagKeys     []string `json:"tagKeys,omitempty"`
}

func (in *UntagResourceInput) resourceARN() string { return deref(in.ResourceArn) }

// ListTagsForResourceInput is ListTagsForResource's request.
type ListTagsForResourceInput struct {
	ResourceArn *string `json:"resourceArn,omitempty"`
}

func (in *ListTagsForResourceInput) resourceARN() string { return deref(in.ResourceArn) }

func (s *Service) tagLogGroup(ctx context.Context, c *catalog.Call, in *TagLogGroupInput) (*Empty, error) {
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	if v.required("tags", in.Tags != nil) && (len(in.Tags) < 1 || len(in.Tags) > maxTags) {
		v.add("map of "+itoa(len(in.Tags))+" tags", "tags", "Member must have length between 1 and 50")
	}
	v.tags("tags", in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	return &Empty{}, s.addTags(ctx, c, g, in.Tags, false)
}

func (s *Service) untagLogGroup(ctx context.Context, c *catalog.Call, in *UntagLogGroupInput) (*Empty, error) {
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	if v.required("tags", in.Tags != nil) && len(in.Tags) < 1 {
		v.add("[]", "tags", "Member must have length greater than or equal to 1")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	return &Empty{}, s.removeTags(ctx, c, g, in.Tags)
}

func (s *Service) listTagsLogGroup(ctx context.Context, c *catalog.Call, in *GroupNameInput) (*TagsOutput, error) {
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	return &TagsOutput{Tags: g.Tags}, nil
}

// tagGroup resolves a tagging API's resourceArn: only log groups are
// taggable here ("arn:aws:logs:REGION:ACCOUNT:log-group:NAME", no ":*").
func (s *Service) tagGroup(ctx context.Context, c *catalog.Call, arn *string) (*group, error) {
	var v validator
	if v.required("resourceArn", arn != nil) {
		v.length("resourceArn", *arn, 1, 1011)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	p := strings.SplitN(*arn, ":", 7)
	if len(p) != 7 || p[0] != "arn" || p[2] != "logs" || p[5] != "log-group" || strings.HasSuffix(p[6], ":*") {
		if len(p) >= 6 && p[5] == "destination" {
			return nil, invalidParam("Tagging destinations is not supported by lextrail.")
		}
		return nil, invalidParam("Invalid resourceArn %q: give a log group ARN without the trailing ':*' (arn:aws:logs:REGION:ACCOUNT:log-group:NAME).", *arn)
	}
	if p[4] != c.AccountID() || p[3] != c.Region {
		return nil, awserr.New(400, "ResourceNotFoundException", "The specified resource does not exist.")
	}
	g, err := loadGroupByName(ctx, c.Tx, p[4], p[3], p[6])
	if err != nil {
		return nil, awserr.New(400, "ResourceNotFoundException", "The specified resource does not exist.")
	}
	return g, nil
}

func (s *Service) tagResource(ctx context.Context, c *catalog.Call, in *TagResourceInput) (*Empty, error) {
	var v validator
	if v.required("tags", in.Tags != nil) && (len(in.Tags) < 1 || len(in.Tags) > maxTags) {
		v.add("map of "+itoa(len(in.Tags))+" tags", "tags", "Member must have length between 1 and 50")
	}
	v.tags("tags", in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := s.tagGroup(ctx, c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return &Empty{}, s.addTags(ctx, c, g, in.Tags, true)
}

func (s *Service) untagResource(ctx context.Context, c *catalog.Call, in *UntagResourceInput) (*Empty, error) {
	var v validator
	if v.required("tagKeys", in.TagKeys != nil) && (len(in.TagKeys) < 1 || len(in.TagKeys) > maxTags) {
		v.add("list of "+itoa(len(in.TagKeys)), "tagKeys", "Member must have length between 1 and 50")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := s.tagGroup(ctx, c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return &Empty{}, s.removeTags(ctx, c, g, in.TagKeys)
}

func (s *Service) listTagsForResource(ctx context.Context, c *catalog.Call, in *ListTagsForResourceInput) (*TagsOutput, error) {
	g, err := s.tagGroup(ctx, c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return &TagsOutput{Tags: g.Tags}, nil
}

// addTags merges tags into the group's (at most 50 in all).
func (s *Service) addTags(ctx context.Context, c *catalog.Call, g *group, tags map[string]string, tooMany bool) error {
	if err := reservedTag(tags); err != nil {
		return err
	}
	merged := map[string]string{}
	for k, v := range g.Tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	if len(merged) > maxTags {
		if tooMany {
			return awserr.New(400, "TooManyTagsException", "A resource can have no more than 50 tags.").With("resourceName", GroupARN(g.Region, g.AccountID, g.Name))
		}
		return invalidParam("A log group can have no more than 50 tags.")
	}
	return s.saveTags(ctx, c, g, merged)
}

func (s *Service) removeTags(ctx context.Context, c *catalog.Call, g *group, keys []string) error {
	for _, k := range keys {
		delete(g.Tags, k)
	}
	return s.saveTags(ctx, c, g, g.Tags)
}

func (s *Service) saveTags(ctx context.Context, c *catalog.Call, g *group, tags map[string]string) error {
	b, _ := json.Marshal(tags)
	_, err := c.Tx.Exec(ctx, `UPDATE logs_groups SET tags = $1 WHERE group_id = $2`, string(b), g.ID)
	return err
}
