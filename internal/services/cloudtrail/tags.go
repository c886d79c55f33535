package cloudtrail

import (
	"context"
	"errors"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/trail"
)

// TagsInput is AddTags' and RemoveTags' request.
type TagsInput struct {
	ResourceId *string     `json:"ResourceId,omitempty"`
	TagsList   []trail.Tag `json:"TagsList,omitempty"`
}

func tagResource(c *catalog.Call, in any) []catalog.Resource {
	if t, ok := in.(*TagsInput); ok && t.ResourceId != nil && trail.IsARN(*t.ResourceId) {
		return []catalog.Resource{{ARN: *t.ResourceId, Type: "AWS::CloudTrail::Trail"}}
	}
	return nil
}

func tagResources(c *catalog.Call, in any) []catalog.Resource {
	var out []catalog.Resource
	if t, ok := in.(*ListTagsInput); ok {
		for _, id := range t.ResourceIdList {
			if trail.IsARN(id) {
				out = append(out, catalog.Resource{ARN: id, Type: "AWS::CloudTrail::Trail"})
			}
		}
	}
	return out
}

// tagged resolves a tag operation's resource: a trail ARN of the caller's
// account.
func (s *Service) tagged(ctx context.Context, c *catalog.Call, id string) (*trail.Trail, error) {
	if !trail.IsARN(id) {
		return nil, clientError("CloudTrailARNInvalidException", "%s is not a valid ARN. Tags are set on a trail by its ARN: arn:aws:cloudtrail:<region>:<account>:trail/<name>.", id)
	}
	p, err := trail.ParseARN(id)
	if err != nil {
		return nil, errARNInvalid(id)
	}
	switch p.Type {
	case "trail":
	case "eventdatastore", "channel", "dashboard":
		return nil, clientError("ResourceTypeNotSupportedException", "lextrail has no %s resources: %s", p.Type, id)
	default:
		return nil, errARNInvalid(id)
	}
	t, err := trail.ByARN(ctx, c.Tx, id)
	if errors.Is(err, trail.ErrNotFound) || (err == nil && p.Account != c.AccountID()) {
		return nil, clientError("ResourceNotFoundException", "Resource not found: %s", id)
	}
	return t, err
}

func (s *Service) addTags(ctx context.Context, c *catalog.Call, in *TagsInput) (*struct{}, error) {
	t, err := s.tagged(ctx, c, str(in.ResourceId))
	if err != nil {
		return nil, err
	}
	if err := validTags(in.TagsList); err != nil {
		return nil, err
	}
	tags := mergeTags(t.Tags, in.TagsList)
	if len(tags) > maxTags {
		return nil, clientError("TagsLimitExceededException", "The number of tags on the resource is over the limit of %d.", maxTags)
	}
	if err := trail.SetTags(ctx, c.Tx, t, tags); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) removeTags(ctx context.Context, c *catalog.Call, in *TagsInput) (*struct{}, error) {
	t, err := s.tagged(ctx, c, str(in.ResourceId))
	if err != nil {
		return nil, err
	}
	for _, tg := range in.TagsList {
		if tg.Key == "" || len(tg.Key) > maxTagKeyLen {
			return nil, errTagParam("Tag key must be 1 to %d characters long.", maxTagKeyLen)
		}
	}
	var keep []trail.Tag
	for _, old := range t.Tags {
		drop := false
		for _, tg := range in.TagsList {
			// A tag given with a value is removed only when the value matches.
			if tg.Key == old.Key && (tg.Value == "" || tg.Value == old.Value) {
				drop = true
			}
		}
		if !drop {
			keep = append(keep, old)
		}
	}
	if err := trail.SetTags(ctx, c.Tx, t, keep); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// ListTagsInput is ListTags' request.
type ListTagsInput struct {
	ResourceIdList []string `json:"ResourceIdList,omitempty"`
	NextToken      *string  `json:"NextToken,omitempty"`
}

// ResourceTag is one resource's tags.
type ResourceTag struct {
	ResourceId string      `json:"ResourceId"`
	TagsList   []trail.Tag `json:"TagsList"`
}

// ListTagsOutput is ListTags' response.
type ListTagsOutput struct {
	ResourceTagList []ResourceTag `json:"ResourceTagList"`
}

const maxListTagsResources = 20

func (s *Service) listTags(ctx context.Context, c *catalog.Call, in *ListTagsInput) (*ListTagsOutput, error) {
	if len(in.ResourceIdList) == 0 {
		return nil, awserr.New(400, "InvalidParameterException", "ResourceIdList must name at least one resource.")
	}
	if len(in.ResourceIdList) > maxListTagsResources {
		return nil, awserr.New(400, "InvalidParameterException", "ResourceIdList names %d resources; the limit is %d.", len(in.ResourceIdList), maxListTagsResources)
	}
	if str(in.NextToken) != "" {
		return nil, clientError("InvalidTokenException", "Invalid NextToken.")
	}
	out := &ListTagsOutput{ResourceTagList: []ResourceTag{}}
	for _, id := range in.ResourceIdList {
		t, err := s.tagged(ctx, c, id)
		if err != nil {
			return nil, err
		}
		tags := t.Tags
		if tags == nil {
			tags = []trail.Tag{}
		}
		out.ResourceTagList = append(out.ResourceTagList, ResourceTag{ResourceId: t.ARN, TagsList: tags})
	}
	return out, nil
}
