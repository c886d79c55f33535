package lexmodels

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// optInRegions are the regions where enableModelImprovements defaults to
// false and may be switched off; elsewhere it is forced on (spec §2.3).
var optInRegions = map[string]bool{"us-east-1": true, "us-west-2": true, "ap-southeast-2": true, "eu-west-1": true}

const maxBotsPerAccount = 250

// PutBotInput is PUT /bots/{name}/versions/$LATEST.
type PutBotInput struct {
	Name                         string      `location:"uri" locationName:"name" json:"name"`
	Checksum                     *string     `json:"checksum,omitempty"`
	ChildDirected                *bool       `json:"childDirected,omitempty"`
	Locale                       string      `json:"locale,omitempty"`
	AbortStatement               *Statement  `json:"abortStatement,omitempty"`
	ClarificationPrompt          *Prompt     `json:"clarificationPrompt,omitempty"`
	CreateVersion                *bool       `json:"createVersion,omitempty"`
	Description                  string      `json:"description,omitempty"`
	DetectSentiment              *bool       `json:"detectSentiment,omitempty"`
	EnableModelImprovements      *bool       `json:"enableModelImprovements,omitempty"`
	IdleSessionTTLInSeconds      *int        `json:"idleSessionTTLInSeconds,omitempty"`
	Intents                      []IntentRef `json:"intents,omitempty"`
	NluIntentConfidenceThreshold *float64    `json:"nluIntentConfidenceThreshold,omitempty"`
	ProcessBehavior              string      `json:"processBehavior,omitempty"`
	Tags                         []Tag       `json:"tags,omitempty"`
	VoiceID                      string      `json:"voiceId,omitempty"`
}

// BotOutput is the bot document PutBot, GetBot and CreateBotVersion return.
//
// The booleans the API always returns are pointers that botOutput always
// sets: the audit recorder leaves out non-pointer zero scalars, and
// PutBot's and CreateBotVersion's responseElements must carry
// childDirected:false like the seed's CloudTrailBot record (and
// detectSentiment/enableModelImprovements:false like today's API).
type BotOutput struct {
	Name                         string         `json:"name"`
	Description                  string         `json:"description,omitempty"`
	Intents                      []IntentRef    `json:"intents,omitempty"`
	EnableModelImprovements      *bool          `json:"enableModelImprovements"`
	NluIntentConfidenceThreshold *float64       `json:"nluIntentConfidenceThreshold,omitempty"`
	ClarificationPrompt          *Prompt        `json:"clarificationPrompt,omitempty"`
	AbortStatement               *Statement     `json:"abortStatement,omitempty"`
	Status                       string         `json:"status,omitempty"`
	FailureReason                string         `json:"failureReason,omitempty"`
	LastUpdatedDate              *protocol.Time `json:"lastUpdatedDate,omitempty"`
	CreatedDate                  *protocol.Time `json:"createdDate,omitempty"`
	IdleSessionTTLInSeconds      int            `json:"idleSessionTTLInSeconds"`
	VoiceID                      string         `json:"voiceId,omitempty"`
	Checksum                     string         `json:"checksum"`
	Version                      string         `json:"version"`
	Locale                       string         `json:"locale"`
	ChildDirected                *bool          `json:"childDirected"`
	CreateVersion                *bool          `json:"createVersion,omitempty"`
	DetectSentiment              *bool          `json:"detectSentiment"`
	Tags                         []Tag          `json:"tags,omitempty"`
}

func botOutput(r *resource) (*BotOutput, error) {
	var d BotDef
	if err := json.Unmarshal(r.Doc, &d); err != nil {
		return nil, err
	}
	out := &BotOutput{
		Name: r.Name, Description: d.Description, Intents: d.Intents,
		EnableModelImprovements: new(d.EnableModelImprovements), NluIntentConfidenceThreshold: d.NluIntentConfidenceThreshold,
		ClarificationPrompt: d.ClarificationPrompt, AbortStatement: d.AbortStatement,
		Status: r.Status, LastUpdatedDate: protocol.TimePtr(r.Updated), CreatedDate: protocol.TimePtr(r.Created),
		IdleSessionTTLInSeconds: d.IdleSessionTTLInSeconds, VoiceID: d.VoiceID, Checksum: r.Checksum,
		Version: r.Version, Locale: d.Locale, ChildDirected: new(d.ChildDirected), DetectSentiment: new(d.DetectSentiment),
	}
	if r.Status == statusFailed {
		out.FailureReason = r.FailureReason
	}
	return out, nil
}

func (in *PutBotInput) def(region string) (*BotDef, error) {
	var c checker
	c.required(in.Locale != "", "locale")
	c.required(in.ChildDirected != nil, "childDirected")
	if in.ProcessBehavior != "" {
		c.enum("processBehavior", in.ProcessBehavior, processSave, processBuild)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	d := &BotDef{
		Description: in.Description, Intents: in.Intents, NluIntentConfidenceThreshold: in.NluIntentConfidenceThreshold,
		ClarificationPrompt: in.ClarificationPrompt, AbortStatement: in.AbortStatement,
		IdleSessionTTLInSeconds: defaultIdleTTL, VoiceID: in.VoiceID, Locale: in.Locale,
		ChildDirected: *in.ChildDirected, EnableModelImprovements: !optInRegions[region],
	}
	if in.IdleSessionTTLInSeconds != nil {
		d.IdleSessionTTLInSeconds = *in.IdleSessionTTLInSeconds
	}
	if in.DetectSentiment != nil {
		d.DetectSentiment = *in.DetectSentiment
	}
	if in.EnableModelImprovements != nil {
		if !*in.EnableModelImprovements && !optInRegions[region] {
			return nil, badRequest("You can't set the enableModelImprovements field to false in the %s region.", region)
		}
		d.EnableModelImprovements = *in.EnableModelImprovements
	}
	if d.NluIntentConfidenceThreshold != nil && !d.EnableModelImprovements {
		return nil, badRequest("nluIntentConfidenceThreshold can only be set when enableModelImprovements is true.")
	}
	return d, nil
}

func (s *Service) putBot(ctx context.Context, c *catalog.Call, in *PutBotInput) (*BotOutput, error) {
	d, err := in.def(c.Region)
	if err != nil {
		return nil, err
	}
	if err := validateBot(in.Name, d); err != nil {
		return nil, err
	}
	if err := validateTags("tags", in.Tags); err != nil {
		return nil, err
	}
	build := in.ProcessBehavior != processSave
	out, created, err := s.storeBot(ctx, c.Tx, scopeOf(c), in.Name, d, in.Checksum, build, c.Now)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(c)
	if created && len(in.Tags) > 0 {
		if err := putTags(ctx, c.Tx, sc, botARN(sc, in.Name), in.Tags); err != nil {
			return nil, err
		}
	}
	if in.CreateVersion != nil && *in.CreateVersion {
		if _, err := s.publishBot(ctx, c.Tx, sc, in.Name, nil, c.Now); err != nil {
			return nil, err
		}
	}
	out.CreateVersion = boolPtr(in.CreateVersion != nil && *in.CreateVersion)
	if out.Tags, err = listTags(ctx, c.Tx, sc, botARN(sc, in.Name)); err != nil {
		return nil, err
	}
	return out, nil
}

// storeBot writes a validated bot definition to $LATEST. It reports
// whether the bot was created.
func (s *Service) storeBot(ctx context.Context, tx *store.Tx, sc scope, name string, d *BotDef, checksum *string, build bool, now time.Time) (*BotOutput, bool, error) {
	var deps []ref
	for _, ir := range d.Intents {
		ok, err := exists(ctx, tx, sc, kindIntent, ir.IntentName, ir.IntentVersion)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return nil, false, badRequest("The intent %s version %s does not exist. Check the intent name and version and try again.", ir.IntentName, ir.IntentVersion)
		}
		deps = append(deps, ref{kindIntent, ir.IntentName, ir.IntentVersion})
	}
	r := &resource{Kind: kindBot, Name: name, Description: d.Description, Doc: mustJSON(d), Status: statusNotBuilt}
	if build {
		r.Status = statusBuilding
	}
	if ex, err := exists(ctx, tx, sc, kindBot, name, latest); err != nil {
		return nil, false, err
	} else if !ex {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM lex_resources WHERE account_id=$1 AND region=$2 AND kind='bot' AND version_num=0`, sc.acct, sc.region).Scan(&n); err != nil {
			return nil, false, err
		}
		if n >= maxBotsPerAccount {
			return nil, false, badRequest("The account already has %d bots, the limit.", n)
		}
	}
	old, err := putLatest(ctx, tx, sc, r, checksum, now)
	if err != nil {
		return nil, false, err
	}
	if err := setRefs(ctx, tx, sc, ref{kindBot, name, latest}, deps); err != nil {
		return nil, false, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM lex_models WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_version='$LATEST'`, sc.acct, sc.region, name); err != nil {
		return nil, false, err
	}
	if build {
		tx.AfterCommit(s.wake)
	}
	out, err := botOutput(r)
	return out, old == nil, err
}

// publishBot creates a bot version from $LATEST; the new version is built
// by the worker.
func (s *Service) publishBot(ctx context.Context, tx *store.Tx, sc scope, name string, checksum *string, now time.Time) (*resource, error) {
	cur, err := getResource(ctx, tx, sc, kindBot, name, latest)
	if err != nil {
		return nil, err
	}
	if cur != nil && (cur.Status == statusNotBuilt || cur.Status == statusFailed) {
		return nil, badRequest("The $LATEST version of bot %s has status %s. Build it successfully before creating a version.", name, cur.Status)
	}
	deps, err := outRefs(ctx, tx, sc, ref{kindBot, name, latest})
	if err != nil {
		return nil, err
	}
	v, err := publish(ctx, tx, sc, kindBot, name, checksum, now, deps)
	if err != nil {
		return nil, err
	}
	tx.AfterCommit(s.wake)
	return v, nil
}

func (s *Service) createBotVersion(ctx context.Context, c *catalog.Call, in *CreateVersionInput) (*BotOutput, error) {
	var ck checker
	ck.str("name", in.Name, 2, 50, reName)
	if err := ck.err(); err != nil {
		return nil, err
	}
	v, err := s.publishBot(ctx, c.Tx, scopeOf(c), in.Name, in.Checksum, c.Now)
	if err != nil {
		return nil, err
	}
	return botOutput(v)
}

// GetBotInput is GET /bots/{name}/versions/{versionoralias}.
type GetBotInput struct {
	Name           string `location:"uri" locationName:"name" json:"name"`
	VersionOrAlias string `location:"uri" locationName:"versionoralias" json:"versionOrAlias"`
}

func (s *Service) getBot(ctx context.Context, c *catalog.Call, in *GetBotInput) (*BotOutput, error) {
	sc := scopeOf(c)
	var ck checker
	ck.str("name", in.Name, 2, 50, reName)
	ck.str("versionOrAlias", in.VersionOrAlias, 1, 100, nil)
	if err := ck.err(); err != nil {
		return nil, err
	}
	version := in.VersionOrAlias
	if !reVersion.MatchString(version) {
		a, err := getAlias(ctx, c.Tx, sc, in.Name, version)
		if err != nil {
			return nil, err
		}
		if a == nil {
			if ok, err := exists(ctx, c.Tx, sc, kindBot, in.Name, latest); err != nil {
				return nil, err
			} else if !ok {
				return nil, notFound("The bot %s does not exist. Check the name and try again.", in.Name)
			}
			return nil, notFound("There is no alias named %s for the bot named %s", version, in.Name)
		}
		version = a.BotVersion
	}
	r, err := getResource(ctx, c.Tx, sc, kindBot, in.Name, version)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, notFound("The bot %s version %s does not exist. Check the name and version and try again.", in.Name, version)
	}
	return botOutput(r)
}

func (s *Service) deleteBot(ctx context.Context, c *catalog.Call, in *DeleteInput) (*Empty, error) {
	sc := scopeOf(c)
	var ck checker
	ck.str("name", in.Name, 2, 50, reName)
	if err := ck.err(); err != nil {
		return nil, err
	}
	ok, err := exists(ctx, c.Tx, sc, kindBot, in.Name, latest)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("The bot %s does not exist. Check the name and try again.", in.Name)
	}
	if alias, err := firstAlias(ctx, c.Tx, sc, in.Name, ""); err != nil {
		return nil, err
	} else if alias != "" {
		return nil, inUse("BotAlias", ResourceReference{Name: alias})
	}
	if err := deleteAll(ctx, c.Tx, sc, kindBot, in.Name); err != nil {
		return nil, err
	}
	for _, q := range []string{
		`DELETE FROM lex_models WHERE account_id=$1 AND region=$2 AND bot_name=$3`,
	} {
		if _, err := c.Tx.Exec(ctx, q, sc.acct, sc.region, in.Name); err != nil {
			return nil, err
		}
	}
	return &Empty{}, deleteTags(ctx, c.Tx, sc, botARN(sc, in.Name))
}

func (s *Service) deleteBotVersion(ctx context.Context, c *catalog.Call, in *DeleteVersionInput) (*Empty, error) {
	sc := scopeOf(c)
	var ck checker
	ck.str("name", in.Name, 2, 50, reName)
	ck.str("version", in.Version, 1, 64, reNumVersion)
	if err := ck.err(); err != nil {
		return nil, err
	}
	ok, err := exists(ctx, c.Tx, sc, kindBot, in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("The bot %s version %s does not exist.", in.Name, in.Version)
	}
	if alias, err := firstAlias(ctx, c.Tx, sc, in.Name, in.Version); err != nil {
		return nil, err
	} else if alias != "" {
		return nil, inUse("BotAlias", ResourceReference{Name: alias})
	}
	if err := deleteVersionRow(ctx, c.Tx, sc, kindBot, in.Name, in.Version); err != nil {
		return nil, err
	}
	_, err = c.Tx.Exec(ctx, `DELETE FROM lex_models WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_version=$4`, sc.acct, sc.region, in.Name, in.Version)
	return &Empty{}, err
}

// ARNs (spec §2.1).

func botARN(sc scope, bot string) string {
	return fmt.Sprintf("arn:aws:lex:%s:%s:bot:%s", sc.region, sc.acct, bot)
}

func aliasARN(sc scope, bot, alias string) string {
	return botARN(sc, bot) + ":" + alias
}

func intentARN(sc scope, name string) string {
	return fmt.Sprintf("arn:aws:lex:%s:%s:intent:%s", sc.region, sc.acct, name)
}

func slotTypeARN(sc scope, name string) string {
	return fmt.Sprintf("arn:aws:lex:%s:%s:slottype:%s", sc.region, sc.acct, name)
}

func channelARN(sc scope, bot, alias, channel string) string {
	return fmt.Sprintf("arn:aws:lex:%s:%s:bot-channel:%s:%s:%s", sc.region, sc.acct, bot, alias, channel)
}
