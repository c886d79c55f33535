package lexruntime

import (
	"context"
	"encoding/json"
	"time"

	"lextrail/internal/dialog"
	"lextrail/internal/store"
)

// TurnObserver is told about every conversation turn (PostText and
// PostContent) after the turn's session write has committed — never for a
// turn that failed or lost a race. It is the hook conversation logs
// (shared/spec/lex-v1.md §4) are written through. ObserveTurn runs on the
// request's goroutine before the response is sent, so it must not block:
// queue the turn and return. The Turn is the observer's to keep, shared
// with the TurnRecorder: neither may change it.
type TurnObserver interface {
	ObserveTurn(t *Turn)
}

// TurnRecorder writes what turns need written in the transaction that
// commits them, so that nothing acknowledged to a client is lost
// (conversation logs' durable delivery queue). PrepareTurn runs on the
// request's goroutine before the commit, for every PostText and
// PostContent turn whose session has conversation-log settings (or when
// an Observer is set too), and returns the turn's prepared write (nil:
// nothing to write). WriteTurns runs inside the commit's transaction with
// the prepared writes of the turns it commits whose session
// compare-and-swap succeeded — never of a turn that lost the race: one on
// PostgreSQL, where each turn commits on its own, up to 64 on SQLite,
// where concurrent turns commit together, so a recorder can write them as
// one row. Its error fails the commit (and every turn in it), so it should
// only return database errors, and it must not block on anything but the
// database. The Turn is the recorder's to keep (shared with the Observer:
// neither may change it).
type TurnRecorder interface {
	PrepareTurn(t *Turn) TurnWrite
	WriteTurns(ctx context.Context, tx *store.Tx, ws []TurnWrite) error
}

// TurnWrite is a TurnRecorder's prepared write for one turn, opaque to
// the runtime.
type TurnWrite any

// Turn is everything one turn's text-log document (spec §4.1) and audio
// log (§4.2) need.
type Turn struct {
	RequestID string
	Timestamp time.Time
	// Operation is PostText or PostContent.
	Operation string
	AccountID string
	Region    string

	BotName    string
	BotAlias   string
	BotVersion string // the version that served the turn ($LATEST or a number)
	Locale     string
	UserID     string
	SessionID  string
	// SessionStarted is when the session began; ConversationLogs is the
	// alias's conversation-log settings (PutBotAlias conversationLogs JSON)
	// as they were when the session began — settings changed later only
	// apply to new sessions (spec §3.3). Nil: no logging configured then.
	SessionStarted   time.Time
	ConversationLogs json.RawMessage
	// ChildDirected bots may not have conversation logs.
	ChildDirected bool

	// InputDialogMode is Text or Speech.
	InputDialogMode string
	// InputTranscript is the text the NLU used (typed text or the speech
	// transcript); LogTranscript is the same with obfuscated slot values
	// masked as {SlotName} (spec §4.3).
	InputTranscript string
	LogTranscript   string
	// Audio is the request audio for Speech turns (for audio logs) and
	// AudioContentType its Content-Type.
	Audio            []byte
	AudioContentType string

	Intent              string // empty when MissedUtterance
	NluIntentConfidence *float64
	// AlternativeIntents are the real values; LogAlternativeIntents have
	// each intent's obfuscated slots masked.
	AlternativeIntents    []dialog.PredictedIntent
	LogAlternativeIntents []dialog.PredictedIntent
	// Slots are the real values; LogSlots are masked per §4.3.
	Slots             map[string]*string
	LogSlots          map[string]*string
	SlotToElicit      string
	DialogState       string
	MissedUtterance   bool
	DeveloperOverride bool
	// BotResponse is the message returned (the Composite JSON when
	// grouped), MessageFormat its format.
	BotResponse       *string
	MessageFormat     string
	ResponseCard      *dialog.ResponseCard
	SentimentResponse *dialog.Sentiment
	SessionAttributes map[string]string
	RequestAttributes map[string]string
	ActiveContexts    []dialog.ActiveContext
}
