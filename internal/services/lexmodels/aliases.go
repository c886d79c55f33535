package lexmodels

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// alias is one row of lex_aliases.
type alias struct {
	BotName, Name, BotVersion, Description, Checksum string
	ConversationLogs                                 *ConversationLogsRequest
	Created, Updated                                 time.Time
}

const aliasCols = `bot_name, name, bot_version, description, checksum, conversation_logs, created_ms, updated_ms`

func scanAlias(s scanner) (*alias, error) {
	var a alias
	var logs string
	var c, u int64
	if err := s.Scan(&a.BotName, &a.Name, &a.BotVersion, &a.Description, &a.Checksum, &logs, &c, &u); err != nil {
		return nil, err
	}
	if logs != "" {
		a.ConversationLogs = new(ConversationLogsRequest)
		if err := json.Unmarshal([]byte(logs), a.ConversationLogs); err != nil {
			return nil, err
		}
	}
	a.Created, a.Updated = store.FromMillis(c), store.FromMillis(u)
	return &a, nil
}

func getAlias(ctx context.Context, tx *store.Tx, sc scope, bot, name string) (*alias, error) {
	a, err := scanAlias(tx.QueryRow(ctx, `SELECT `+aliasCols+` FROM lex_aliases WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND name=$4`, sc.acct, sc.region, bot, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return a, err
}

// firstAlias names one alias of bot (pointing at version, when given), or
// "" when there is none.
func firstAlias(ctx context.Context, tx *store.Tx, sc scope, bot, version string) (string, error) {
	q := `SELECT name FROM lex_aliases WHERE account_id=$1 AND region=$2 AND bot_name=$3`
	args := []any{sc.acct, sc.region, bot}
	if version != "" {
		q += ` AND bot_version=$4`
		args = append(args, version)
	}
	var name string
	err := tx.QueryRow(ctx, q+` ORDER BY name LIMIT 1`, args...).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return name, err
}

// conversationLogsResponse renders stored settings with their
// resourcePrefix aws/lex/{bot}/{alias}/{version}/ (spec §3.1).
func (a *alias) conversationLogsResponse() *ConversationLogsResponse {
	if a.ConversationLogs == nil {
		return nil
	}
	out := &ConversationLogsResponse{IamRoleArn: a.ConversationLogs.IamRoleArn}
	prefix := "aws/lex/" + a.BotName + "/" + a.Name + "/" + a.BotVersion + "/"
	for _, ls := range a.ConversationLogs.LogSettings {
		out.LogSettings = append(out.LogSettings, LogSettingsResponse{
			Destination: ls.Destination, KmsKeyArn: ls.KmsKeyArn, LogType: ls.LogType,
			ResourceArn: ls.ResourceArn, ResourcePrefix: prefix,
		})
	}
	return out
}

// BotAliasOutput is PutBotAlias's and GetBotAlias's result and a
// GetBotAliases item.
type BotAliasOutput struct {
	Name             string                    `json:"name"`
	Description      string                    `json:"description,omitempty"`
	BotVersion       string                    `json:"botVersion"`
	BotName          string                    `json:"botName"`
	LastUpdatedDate  *protocol.Time            `json:"lastUpdatedDate,omitempty"`
	CreatedDate      *protocol.Time            `json:"createdDate,omitempty"`
	Checksum         string                    `json:"checksum"`
	ConversationLogs *ConversationLogsResponse `json:"conversationLogs,omitempty"`
	Tags             []Tag                     `json:"tags,omitempty"`
}

func (a *alias) output() *BotAliasOutput {
	return &BotAliasOutput{
		Name: a.Name, Description: a.Description, BotVersion: a.BotVersion, BotName: a.BotName,
		LastUpdatedDate: protocol.TimePtr(a.Updated), CreatedDate: protocol.TimePtr(a.Created),
		Checksum: a.Checksum, ConversationLogs: a.conversationLogsResponse(),
	}
}

// PutBotAliasInput is PUT /bots/{botName}/aliases/{name}.
type PutBotAliasInput struct {
	BotName          string                   `location:"uri" locationName:"botName" json:"botName"`
	Name             string                   `location:"uri" locationName:"name" json:"name"`
	BotVersion       *string                  `json:"botVersion,omitempty"`
	Checksum         *string                  `json:"checksum,omitempty"`
	ConversationLogs *ConversationLogsRequest `json:"conversationLogs,omitempty"`
	Description      string                   `json:"description,omitempty"`
	Tags             []Tag                    `json:"tags,omitempty"`
}

func (s *Service) putBotAlias(ctx context.Context, c *catalog.Call, in *PutBotAliasInput) (*BotAliasOutput, error) {
	sc := scopeOf(c)
	var ck checker
	ck.str("botName", in.BotName, 2, 50, reName)
	ck.str("name", in.Name, 1, 100, reName)
	if ck.required(in.BotVersion != nil, "botVersion") {
		ck.str("botVersion", *in.BotVersion, 1, 64, reVersion)
	}
	ck.description("description", in.Description)
	if err := ck.err(); err != nil {
		return nil, err
	}
	if err := validateTags("tags", in.Tags); err != nil {
		return nil, err
	}
	bv, err := getResource(ctx, c.Tx, sc, kindBot, in.BotName, *in.BotVersion)
	if err != nil {
		return nil, err
	} else if bv == nil {
		return nil, badRequest("The bot %s version %s does not exist. Check the bot name and version and try again.", in.BotName, *in.BotVersion)
	}
	if in.ConversationLogs != nil && s.cfg.ConversationLogs != nil {
		if err := s.cfg.ConversationLogs.ValidateConversationLogs(ctx, c, AliasLogs{BotName: in.BotName, AliasName: in.Name,
			BotVersion: *in.BotVersion, ChildDirected: BotChildDirected(bv.Doc), Logs: in.ConversationLogs}); err != nil {
			return nil, err
		}
	}
	old, err := getAlias(ctx, c.Tx, sc, in.BotName, in.Name)
	if err != nil {
		return nil, err
	}
	given := in.Checksum != nil && *in.Checksum != ""
	a := &alias{BotName: in.BotName, Name: in.Name, BotVersion: *in.BotVersion, Description: in.Description,
		Checksum: newChecksum(), ConversationLogs: in.ConversationLogs, Updated: c.Now}
	var logs string
	if in.ConversationLogs != nil {
		logs = string(mustJSON(in.ConversationLogs))
	}
	if old == nil {
		if given {
			return nil, badRequest("Bot alias %s does not exist, so a checksum cannot be given. To create it, omit the checksum.", in.Name)
		}
		var n int
		var other string
		rows, err := c.Tx.Query(ctx, `SELECT name FROM lex_aliases WHERE account_id=$1 AND region=$2 AND bot_name=$3`, sc.acct, sc.region, in.BotName)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var nm string
			if err := rows.Scan(&nm); err != nil {
				rows.Close()
				return nil, err
			}
			n++
			if strings.EqualFold(nm, in.Name) {
				other = nm
			}
		}
		rows.Close()
		if other != "" {
			return nil, badRequest("Bot alias name %s already exists as %s for bot %s. Names are unique regardless of case.", in.Name, other, in.BotName)
		}
		if n >= maxAliasesPerBot {
			return nil, badRequest("Bot %s already has %d aliases, the limit.", in.BotName, n)
		}
		a.Created = c.Now
		_, err = c.Tx.Exec(ctx, `INSERT INTO lex_aliases (account_id, region, bot_name, name, name_lower, bot_version, description, checksum, conversation_logs, created_ms, updated_ms)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`, sc.acct, sc.region, a.BotName, a.Name, strings.ToLower(a.Name), a.BotVersion, a.Description, a.Checksum, logs,
			store.Millis(a.Created), store.Millis(a.Updated))
		if store.IsUniqueViolation(err) {
			return nil, conflict("Another operation created bot alias %s at the same time. Try your request again.", in.Name)
		}
		if err != nil {
			return nil, err
		}
		if len(in.Tags) > 0 {
			if err := putTags(ctx, c.Tx, sc, aliasARN(sc, in.BotName, in.Name), in.Tags); err != nil {
				return nil, err
			}
		}
	} else {
		if !given {
			return nil, preconditionFailed("Bot alias %s already exists. If you are trying to update %s you must specify the checksum.", in.Name, in.Name)
		}
		if *in.Checksum != old.Checksum {
			return nil, preconditionFailed("The checksum value %s does not match the checksum of bot alias %s.", *in.Checksum, in.Name)
		}
		a.Created = old.Created
		res, err := c.Tx.Exec(ctx, `UPDATE lex_aliases SET bot_version=$1, description=$2, checksum=$3, conversation_logs=$4, updated_ms=$5
			WHERE account_id=$6 AND region=$7 AND bot_name=$8 AND name=$9 AND checksum=$10`,
			a.BotVersion, a.Description, a.Checksum, logs, store.Millis(a.Updated), sc.acct, sc.region, a.BotName, a.Name, old.Checksum)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, conflict("There was a conflict processing the request. Try your request again.")
		}
	}
	out := a.output()
	if out.Tags, err = listTags(ctx, c.Tx, sc, aliasARN(sc, in.BotName, in.Name)); err != nil {
		return nil, err
	}
	return out, nil
}

// AliasInput names an alias: GET/DELETE /bots/{botName}/aliases/{name}.
type AliasInput struct {
	BotName string `location:"uri" locationName:"botName" json:"botName"`
	Name    string `location:"uri" locationName:"name" json:"name"`
}

func (in *AliasInput) check() error {
	var ck checker
	ck.str("botName", in.BotName, 2, 50, reName)
	ck.str("name", in.Name, 1, 100, reName)
	return ck.err()
}

func (s *Service) getBotAlias(ctx context.Context, c *catalog.Call, in *AliasInput) (*BotAliasOutput, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	a, err := getAlias(ctx, c.Tx, scopeOf(c), in.BotName, in.Name)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, notFound("There is no alias named %s for the bot named %s", in.Name, in.BotName)
	}
	return a.output(), nil
}

func (s *Service) deleteBotAlias(ctx context.Context, c *catalog.Call, in *AliasInput) (*Empty, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	sc := scopeOf(c)
	res, err := c.Tx.Exec(ctx, `DELETE FROM lex_aliases WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND name=$4`, sc.acct, sc.region, in.BotName, in.Name)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, notFound("There is no alias named %s for the bot named %s", in.Name, in.BotName)
	}
	// lextrail creates no channel associations, so none can block this.
	return &Empty{}, deleteTags(ctx, c.Tx, sc, aliasARN(sc, in.BotName, in.Name))
}

// GetBotAliasesInput is GET /bots/{botName}/aliases/.
type GetBotAliasesInput struct {
	BotName      string  `location:"uri" locationName:"botName" json:"botName"`
	NextToken    *string `location:"querystring" locationName:"nextToken" json:"nextToken,omitempty"`
	MaxResults   *int    `location:"querystring" locationName:"maxResults" json:"maxResults,omitempty"`
	NameContains *string `location:"querystring" locationName:"nameContains" json:"nameContains,omitempty"`
}

// GetBotAliasesOutput keeps the model's capital B.
type GetBotAliasesOutput struct {
	BotAliases []*BotAliasOutput `json:"BotAliases"`
	NextToken  *string           `json:"nextToken,omitempty"`
}

func (s *Service) getBotAliases(ctx context.Context, c *catalog.Call, in *GetBotAliasesInput) (*GetBotAliasesOutput, error) {
	sc := scopeOf(c)
	var ck checker
	ck.str("botName", in.BotName, 2, 50, reName)
	if in.NameContains != nil {
		ck.str("nameContains", *in.NameContains, 1, 100, reName)
	}
	if err := ck.err(); err != nil {
		return nil, err
	}
	limit, err := maxResults(in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + aliasCols + ` FROM lex_aliases WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND name > $4`
	args := []any{sc.acct, sc.region, in.BotName, after}
	if in.NameContains != nil {
		q += ` AND name_lower LIKE $5 ESCAPE '\'`
		args = append(args, likePattern(*in.NameContains))
	}
	q += ` ORDER BY name LIMIT ` + itoa(limit+1)
	rows, err := c.Tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &GetBotAliasesOutput{BotAliases: []*BotAliasOutput{}}
	for rows.Next() {
		a, err := scanAlias(rows)
		if err != nil {
			return nil, err
		}
		if len(out.BotAliases) == limit {
			out.NextToken = encodeToken(out.BotAliases[limit-1].Name)
			break
		}
		out.BotAliases = append(out.BotAliases, a.output())
	}
	return out, rows.Err()
}
