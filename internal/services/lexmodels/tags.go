package lexmodels

import (
	"context"
	"strings"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

const maxTagsPerResource = 50

func putTags(ctx context.Context, tx *store.Tx, sc scope, arn string, tags []Tag) error {
	for _, t := range tags {
		if _, err := tx.Exec(ctx, `INSERT INTO lex_tags (account_id, region, resource_arn, key_lower, tag_key, tag_value) VALUES ($1,$2,$3,$4,$5,$6)
			ON CONFLICT (account_id, region, resource_arn, key_lower) DO UPDATE SET tag_key=excluded.tag_key, tag_value=excluded.tag_value`,
			sc.acct, sc.region, arn, strings.ToLower(t.Key), t.Key, t.Value); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM lex_tags WHERE account_id=$1 AND region=$2 AND resource_arn=$3`, sc.acct, sc.region, arn).Scan(&n); err != nil {
		return err
	}
	if n > maxTagsPerResource {
		return badRequest("The resource would have %d tags; the limit is %d per resource.", n, maxTagsPerResource)
	}
	return nil
}

func listTags(ctx context.Context, tx *store.Tx, sc scope, arn string) ([]Tag, error) {
	rows, err := tx.Query(ctx, `SELECT tag_key, tag_value FROM lex_tags WHERE account_id=$1 AND region=$2 AND resource_arn=$3 ORDER BY key_lower`, sc.acct, sc.region, arn)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Tag
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func deleteTags(ctx context.Context, tx *store.Tx, sc scope, arn string) error {
	_, err := tx.Exec(ctx, `DELETE FROM lex_tags WHERE account_id=$1 AND region=$2 AND resource_arn=$3`, sc.acct, sc.region, arn)
	return err
}

// taggable checks that arn names an existing bot, alias or channel of the
// caller's account and region (spec §2.15).
func taggable(ctx context.Context, tx *store.Tx, sc scope, arn string) error {
	var ck checker
	ck.str("resourceArn", arn, 1, 1011, nil)
	if err := ck.err(); err != nil {
		return err
	}
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "lex" {
		return badRequest("The resource ARN %s is not a valid Amazon Lex ARN.", arn)
	}
	if parts[3] != sc.region || parts[4] != sc.acct {
		return notFound("The resource %s does not exist.", arn)
	}
	switch {
	case parts[5] == "bot" && len(parts) == 7:
		ok, err := exists(ctx, tx, sc, kindBot, parts[6], latest)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("The bot %s does not exist.", parts[6])
		}
	case parts[5] == "bot" && len(parts) == 8:
		a, err := getAlias(ctx, tx, sc, parts[6], parts[7])
		if err != nil {
			return err
		}
		if a == nil {
			return notFound("There is no alias named %s for the bot named %s", parts[7], parts[6])
		}
	case parts[5] == "bot-channel" && len(parts) == 9:
		return notFound("The bot channel association %s does not exist.", parts[8])
	default:
		return badRequest("Only bots, bot aliases and bot channels can be tagged; %s is not one.", arn)
	}
	return nil
}

// TagsInput names a resource: /tags/{resourceArn}.
type TagsInput struct {
	ResourceArn string `location:"uri" locationName:"resourceArn" json:"resourceArn"`
}

// ListTagsOutput is ListTagsForResource's result.
type ListTagsOutput struct {
	Tags []Tag `json:"tags"`
}

func (s *Service) listTagsForResource(ctx context.Context, c *catalog.Call, in *TagsInput) (*ListTagsOutput, error) {
	sc := scopeOf(c)
	if err := taggable(ctx, c.Tx, sc, in.ResourceArn); err != nil {
		return nil, err
	}
	tags, err := listTags(ctx, c.Tx, sc, in.ResourceArn)
	if tags == nil {
		tags = []Tag{}
	}
	return &ListTagsOutput{Tags: tags}, err
}

// TagResourceInput is POST /tags/{resourceArn}.
type TagResourceInput struct {
	ResourceArn string `location:"uri" locationName:"resourceArn" json:"resourceArn"`
	Tags        []Tag  `json:"tags"`
}

func (s *Service) tagResource(ctx context.Context, c *catalog.Call, in *TagResourceInput) (*Empty, error) {
	sc := scopeOf(c)
	var ck checker
	ck.required(in.Tags != nil, "tags")
	if err := ck.err(); err != nil {
		return nil, err
	}
	if err := validateTags("tags", in.Tags); err != nil {
		return nil, err
	}
	if err := taggable(ctx, c.Tx, sc, in.ResourceArn); err != nil {
		return nil, err
	}
	return &Empty{}, putTags(ctx, c.Tx, sc, in.ResourceArn, in.Tags)
}

// UntagResourceInput is DELETE /tags/{resourceArn}?tagKeys=....
type UntagResourceInput struct {
	ResourceArn string   `location:"uri" locationName:"resourceArn" json:"resourceArn"`
	TagKeys     []string `location:"querystring" locationName:"tagKeys" json:"tagKeys"`
}

func (s *Service) untagResource(ctx context.Context, c *catalog.Call, in *UntagResourceInput) (*Empty, error) {
	sc := scopeOf(c)
	var ck checker
	ck.required(len(in.TagKeys) > 0, "tagKeys")
	ck.count("tagKeys", len(in.TagKeys), 0, 200)
	for i, k := range in.TagKeys {
		ck.str("tagKeys."+itoa(i+1)+".member", k, 1, 128, nil)
	}
	if err := ck.err(); err != nil {
		return nil, err
	}
	if err := taggable(ctx, c.Tx, sc, in.ResourceArn); err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		if _, err := c.Tx.Exec(ctx, `DELETE FROM lex_tags WHERE account_id=$1 AND region=$2 AND resource_arn=$3 AND key_lower=$4`,
			sc.acct, sc.region, in.ResourceArn, strings.ToLower(k)); err != nil {
			return nil, err
		}
	}
	return &Empty{}, nil
}
