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

// utteranceWindow is how far back GetUtterancesView looks (spec §2.14).
const utteranceWindow = 15 * 24 * time.Hour

// RecordUtterance stores one utterance the runtime heard, for
// GetUtterancesView, in tx: missed is true when no intent was recognised.
// The runtime records through the service's UtteranceStats instead (in
// memory, written about once a second); this is for a runtime configured
// without one. Besides these two, only DeleteUtterances writes
// lex_utterance_stats.
func RecordUtterance(ctx context.Context, tx *store.Tx, accountID, region, bot, botVersion, userID, text string, missed bool, at time.Time) error {
	ms := store.Millis(at)
	return upsertUtterances(ctx, tx, []utterRow{{utterKey{accountID, region, bot, botVersion, missed, text, userID, ms - ms%dayMs}, utterCount{1, ms, ms}}}, nil)
}

// Utterances is the service's utterance statistics, which the runtime
// Adds its turns to and which must run as a worker (server.AddWorker).
func (s *Service) Utterances() *UtteranceStats { return s.utter }

// GetUtterancesViewInput is GET /bots/{botname}/utterances?view=aggregation.
type GetUtterancesViewInput struct {
	BotName     string   `location:"uri" locationName:"botname" json:"botName"`
	BotVersions []string `location:"querystring" locationName:"bot_versions" json:"botVersions"`
	StatusType  string   `location:"querystring" locationName:"status_type" json:"statusType"`
}

// UtteranceData is one aggregated utterance.
type UtteranceData struct {
	UtteranceString  string         `json:"utteranceString"`
	Count            int            `json:"count"`
	DistinctUsers    int            `json:"distinctUsers"`
	FirstUtteredDate *protocol.Time `json:"firstUtteredDate,omitempty"`
	LastUtteredDate  *protocol.Time `json:"lastUtteredDate,omitempty"`
}

// UtteranceList is the utterances of one bot version.
type UtteranceList struct {
	BotVersion string          `json:"botVersion"`
	Utterances []UtteranceData `json:"utterances"`
}

// GetUtterancesViewOutput is the result.
type GetUtterancesViewOutput struct {
	BotName    string          `json:"botName"`
	Utterances []UtteranceList `json:"utterances"`
}

// getUtterancesView is a NoTx operation: it flushes this process's
// pending utterance statistics, so that a client sees its own turns, and
// then reads in a transaction of its own.
func (s *Service) getUtterancesView(ctx context.Context, c *catalog.Call, in *GetUtterancesViewInput) (*GetUtterancesViewOutput, error) {
	if err := validUtterancesView(in); err != nil {
		return nil, err
	}
	if err := s.utter.Flush(ctx); err != nil {
		return nil, err
	}
	var out *GetUtterancesViewOutput
	err := c.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = utterancesView(ctx, tx, c, in)
		return err
	})
	return out, err
}

func validUtterancesView(in *GetUtterancesViewInput) error {
	var ck checker
	ck.str("botName", in.BotName, 2, 50, reName)
	if ck.required(len(in.BotVersions) > 0, "botVersions") {
		ck.count("botVersions", len(in.BotVersions), 1, 5)
	}
	for i, v := range in.BotVersions {
		ck.str(fmt.Sprintf("botVersions.%d.member", i+1), v, 1, 64, reVersion)
	}
	if ck.required(in.StatusType != "", "statusType") {
		ck.enum("statusType", in.StatusType, "Detected", "Missed")
	}
	return ck.err()
}

func utterancesView(ctx context.Context, tx *store.Tx, c *catalog.Call, in *GetUtterancesViewInput) (*GetUtterancesViewOutput, error) {
	sc := scopeOf(c)
	out := &GetUtterancesViewOutput{BotName: in.BotName, Utterances: []UtteranceList{}}
	// Not available for child-directed bots or bots that obfuscate slots
	// (spec §2.14): the lists stay empty.
	hidden := false
	if r, err := getResource(ctx, tx, sc, kindBot, in.BotName, latest); err != nil {
		return nil, err
	} else if r != nil {
		var d BotDef
		if err := json.Unmarshal(r.Doc, &d); err != nil {
			return nil, err
		}
		hidden = d.ChildDirected
		if !hidden {
			hidden, err = botObfuscates(ctx, tx, sc, d)
			if err != nil {
				return nil, err
			}
		}
	}
	// A (user, day) row counts whole when its last utterance is inside
	// the window (so the window's start is exact to within a day, like
	// the daily statistics of the real service).
	since := store.Millis(c.Now.Add(-utteranceWindow))
	for _, v := range in.BotVersions {
		list := UtteranceList{BotVersion: v, Utterances: []UtteranceData{}}
		if !hidden {
			rows, err := tx.Query(ctx, `SELECT utterance, CAST(SUM(n) AS BIGINT), COUNT(DISTINCT user_id), MIN(first_ms), MAX(last_ms) FROM lex_utterance_stats
				WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_version=$4 AND missed=$5 AND last_ms >= $6
				GROUP BY utterance ORDER BY SUM(n) DESC, utterance LIMIT 100`,
				sc.acct, sc.region, in.BotName, v, in.StatusType == "Missed", since)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var u UtteranceData
				var first, last int64
				if err := rows.Scan(&u.UtteranceString, &u.Count, &u.DistinctUsers, &first, &last); err != nil {
					rows.Close()
					return nil, err
				}
				u.FirstUtteredDate, u.LastUtteredDate = protocol.TimePtr(store.FromMillis(first)), protocol.TimePtr(store.FromMillis(last))
				list.Utterances = append(list.Utterances, u)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
		out.Utterances = append(out.Utterances, list)
	}
	return out, nil
}

// botObfuscates reports whether any intent of the bot obfuscates a slot.
func botObfuscates(ctx context.Context, tx *store.Tx, sc scope, d BotDef) (bool, error) {
	for _, ir := range d.Intents {
		r, err := getResource(ctx, tx, sc, kindIntent, ir.IntentName, ir.IntentVersion)
		if err != nil || r == nil {
			return false, err
		}
		var idef IntentDef
		if err := json.Unmarshal(r.Doc, &idef); err != nil {
			return false, err
		}
		for _, sl := range idef.Slots {
			if sl.ObfuscationSetting == "DEFAULT_OBFUSCATION" {
				return true, nil
			}
		}
	}
	return false, nil
}

// DeleteUtterancesInput is DELETE /bots/{botName}/utterances/{userId}.
type DeleteUtterancesInput struct {
	BotName string `location:"uri" locationName:"botName" json:"botName"`
	UserID  string `location:"uri" locationName:"userId" json:"userId"`
}

func (s *Service) deleteUtterances(ctx context.Context, c *catalog.Call, in *DeleteUtterancesInput) (*Empty, error) {
	sc := scopeOf(c)
	var ck checker
	ck.str("botName", in.BotName, 2, 50, reName)
	ck.str("userId", in.UserID, 2, 100, reUserID)
	if err := ck.err(); err != nil {
		return nil, err
	}
	ok, err := exists(ctx, c.Tx, sc, kindBot, in.BotName, latest)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("The bot %s does not exist. Check the name and try again.", in.BotName)
	}
	// The user's pending counts go too (and, on PostgreSQL, a flush in
	// progress is waited for, so that its rows are deleted as well).
	if err := s.utter.forget(ctx, c.Tx, sc.acct, sc.region, in.BotName, in.UserID); err != nil {
		return nil, err
	}
	_, err = c.Tx.Exec(ctx, `DELETE FROM lex_utterance_stats WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND user_id=$4`, sc.acct, sc.region, in.BotName, in.UserID)
	return &Empty{}, err
}
