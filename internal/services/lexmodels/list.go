package lexmodels

import (
	"context"
	"strconv"

	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// ListInput is GET /bots/, /intents/, /slottypes/.
type ListInput struct {
	NextToken    *string `location:"querystring" locationName:"nextToken" json:"nextToken,omitempty"`
	MaxResults   *int    `location:"querystring" locationName:"maxResults" json:"maxResults,omitempty"`
	NameContains *string `location:"querystring" locationName:"nameContains" json:"nameContains,omitempty"`
}

// VersionsInput is GET /{bots|intents|slottypes}/{name}/versions/.
type VersionsInput struct {
	Name       string  `location:"uri" locationName:"name" json:"name"`
	NextToken  *string `location:"querystring" locationName:"nextToken" json:"nextToken,omitempty"`
	MaxResults *int    `location:"querystring" locationName:"maxResults" json:"maxResults,omitempty"`
}

// Metadata is a list item: bots carry status, intents and slot types not.
type Metadata struct {
	Name            string         `json:"name"`
	Description     string         `json:"description,omitempty"`
	Status          string         `json:"status,omitempty"`
	LastUpdatedDate *protocol.Time `json:"lastUpdatedDate,omitempty"`
	CreatedDate     *protocol.Time `json:"createdDate,omitempty"`
	Version         string         `json:"version"`
}

func metadata(r *resource) Metadata {
	m := Metadata{Name: r.Name, Description: r.Description, LastUpdatedDate: protocol.TimePtr(r.Updated),
		CreatedDate: protocol.TimePtr(r.Created), Version: r.Version}
	if r.Kind == kindBot {
		m.Status = r.Status
	}
	return m
}

// listLatest pages the $LATEST rows of kind by name.
func listLatest(ctx context.Context, tx *store.Tx, sc scope, kind string, in *ListInput) ([]Metadata, *string, error) {
	var ck checker
	if in.NameContains != nil {
		max := 100
		if kind == kindBot {
			max = 50
		}
		ck.str("nameContains", *in.NameContains, 1, max, reName)
	}
	if err := ck.err(); err != nil {
		return nil, nil, err
	}
	limit, err := maxResults(in.MaxResults, 10)
	if err != nil {
		return nil, nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, nil, err
	}
	q := `SELECT ` + resourceCols + ` FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND version_num=0 AND name > $4`
	args := []any{sc.acct, sc.region, kind, after}
	if in.NameContains != nil {
		// name_lower is part of lex_resources_list (migration 0350): the
		// engine walks that index in name order, tests each entry's
		// name_lower and fetches a table row only for matches (SQLite
		// defers the row seek; PostgreSQL can use an index-only scan).
		q += ` AND name_lower LIKE $5 ESCAPE '\'`
		args = append(args, likePattern(*in.NameContains))
	}
	q += ` ORDER BY name LIMIT ` + itoa(limit+1)
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out := []Metadata{}
	var next *string
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, nil, err
		}
		if len(out) == limit {
			next = encodeToken(out[limit-1].Name)
			break
		}
		out = append(out, metadata(r))
	}
	return out, next, rows.Err()
}

// listVersions pages every version of (kind, name), $LATEST first, then
// ascending numbers.
func listVersions(ctx context.Context, tx *store.Tx, sc scope, kind string, in *VersionsInput) ([]Metadata, *string, error) {
	var ck checker
	if kind == kindBot {
		ck.str("name", in.Name, 2, 50, reName)
	} else {
		ck.str("name", in.Name, 1, 100, reName)
	}
	if err := ck.err(); err != nil {
		return nil, nil, err
	}
	limit, err := maxResults(in.MaxResults, 10)
	if err != nil {
		return nil, nil, err
	}
	tok, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, nil, err
	}
	after := int64(-1)
	if tok != "" {
		if after, err = strconv.ParseInt(tok, 10, 64); err != nil {
			return nil, nil, badRequest("The nextToken is not valid. Use the nextToken from a previous response.")
		}
	}
	ok, err := exists(ctx, tx, sc, kind, in.Name, latest)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, notFound("%s %s does not exist. Check the name and try again.", kindTitle(kind), in.Name)
	}
	rows, err := tx.Query(ctx, `SELECT `+resourceCols+` FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND name=$4 AND version_num > $5 ORDER BY version_num LIMIT `+itoa(limit+1),
		sc.acct, sc.region, kind, in.Name, after)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out := []Metadata{}
	var next *string
	var last int64
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, nil, err
		}
		if len(out) == limit {
			next = encodeToken(strconv.FormatInt(last, 10))
			break
		}
		out = append(out, metadata(r))
		last = r.VersionNum
	}
	return out, next, rows.Err()
}

// GetBotsOutput is GetBots' and GetBotVersions' result.
type GetBotsOutput struct {
	Bots      []Metadata `json:"bots"`
	NextToken *string    `json:"nextToken,omitempty"`
}

// GetIntentsOutput is GetIntents' and GetIntentVersions' result.
type GetIntentsOutput struct {
	Intents   []Metadata `json:"intents"`
	NextToken *string    `json:"nextToken,omitempty"`
}

// GetSlotTypesOutput is GetSlotTypes' and GetSlotTypeVersions' result.
type GetSlotTypesOutput struct {
	SlotTypes []Metadata `json:"slotTypes"`
	NextToken *string    `json:"nextToken,omitempty"`
}

func (s *Service) getBots(ctx context.Context, c *catalog.Call, in *ListInput) (*GetBotsOutput, error) {
	l, next, err := listLatest(ctx, c.Tx, scopeOf(c), kindBot, in)
	if err != nil {
		return nil, err
	}
	return &GetBotsOutput{Bots: l, NextToken: next}, nil
}

func (s *Service) getIntents(ctx context.Context, c *catalog.Call, in *ListInput) (*GetIntentsOutput, error) {
	l, next, err := listLatest(ctx, c.Tx, scopeOf(c), kindIntent, in)
	if err != nil {
		return nil, err
	}
	return &GetIntentsOutput{Intents: l, NextToken: next}, nil
}

func (s *Service) getSlotTypes(ctx context.Context, c *catalog.Call, in *ListInput) (*GetSlotTypesOutput, error) {
	l, next, err := listLatest(ctx, c.Tx, scopeOf(c), kindSlotType, in)
	if err != nil {
		return nil, err
	}
	return &GetSlotTypesOutput{SlotTypes: l, NextToken: next}, nil
}

func (s *Service) getBotVersions(ctx context.Context, c *catalog.Call, in *VersionsInput) (*GetBotsOutput, error) {
	l, next, err := listVersions(ctx, c.Tx, scopeOf(c), kindBot, in)
	if err != nil {
		return nil, err
	}
	return &GetBotsOutput{Bots: l, NextToken: next}, nil
}

func (s *Service) getIntentVersions(ctx context.Context, c *catalog.Call, in *VersionsInput) (*GetIntentsOutput, error) {
	l, next, err := listVersions(ctx, c.Tx, scopeOf(c), kindIntent, in)
	if err != nil {
		return nil, err
	}
	return &GetIntentsOutput{Intents: l, NextToken: next}, nil
}

func (s *Service) getSlotTypeVersions(ctx context.Context, c *catalog.Call, in *VersionsInput) (*GetSlotTypesOutput, error) {
	l, next, err := listVersions(ctx, c.Tx, scopeOf(c), kindSlotType, in)
	if err != nil {
		return nil, err
	}
	return &GetSlotTypesOutput{SlotTypes: l, NextToken: next}, nil
}
