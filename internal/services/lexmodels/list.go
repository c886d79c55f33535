package lexmodels

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

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

// listLatest pages the $LATEST rows of kind by name. With nameContains
// on SQLite the names come from the cache (names.go), else from the
// listing index, which covers an item (migration 0360).
func (s *Service) listLatest(ctx context.Context, tx *store.Tx, sc scope, kind string, in *ListInput) ([]Metadata, *string, error) {
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
	const cols = `name, description, status, created_ms, updated_ms FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind=$3 AND version_num=0`
	q := `SELECT ` + cols + ` AND name > $4`
	args := []any{sc.acct, sc.region, kind, after}
	switch {
	case in.NameContains != nil && s.names != nil:
		l, err := s.names.names(ctx, tx, sc, kind)
		if err != nil {
			return nil, nil, err
		}
		names := l.match(after, strings.ToLower(*in.NameContains), limit+1)
		if len(names) == 0 {
			return []Metadata{}, nil, nil
		}
		// The matches' items, by the listing index.
		q = `SELECT ` + cols + ` AND name IN (SELECT value FROM json_each($4))`
		b, _ := json.Marshal(names)
		args[3] = string(b)
	case in.NameContains != nil:
		// name_lower is in the listing index: the engine walks it in name
		// order and tests each entry's name_lower (PostgreSQL can use an
		// index-only scan).
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
		var r resource
		var c, u int64
		if err := rows.Scan(&r.Name, &r.Description, &r.Status, &c, &u); err != nil {
			return nil, nil, err
		}
		if len(out) == limit {
			next = encodeToken(out[limit-1].Name)
			break
		}
		r.Kind, r.Version = kind, latest
		r.Created, r.Updated = store.FromMillis(c), store.FromMillis(u)
		out = append(out, metadata(&r))
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
	l, next, err := s.listLatest(ctx, c.Tx, scopeOf(c), kindBot, in)
	if err != nil {
		return nil, err
	}
	return &GetBotsOutput{Bots: l, NextToken: next}, nil
}

func (s *Service) getIntents(ctx context.Context, c *catalog.Call, in *ListInput) (*GetIntentsOutput, error) {
	l, next, err := s.listLatest(ctx, c.Tx, scopeOf(c), kindIntent, in)
	if err != nil {
		return nil, err
	}
	return &GetIntentsOutput{Intents: l, NextToken: next}, nil
}

func (s *Service) getSlotTypes(ctx context.Context, c *catalog.Call, in *ListInput) (*GetSlotTypesOutput, error) {
	l, next, err := s.listLatest(ctx, c.Tx, scopeOf(c), kindSlotType, in)
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
