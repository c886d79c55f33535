package lexruntime

import (
	"encoding/json"
	"time"

	"lextrail/internal/dialog"
)

// TurnObserver is told about every conversation turn (PostText and
// PostContent) after the turn's session write has committed — never for a
// turn that failed or lost a race. It is the hook conversation logs
// (shared/spec/lex-v1.md §4) are written through. ObserveTurn runs on the
// request's goroutine before the response is sent, so it must not block:
// queue the turn and return. The Turn is the observer's to keep.
type TurnObserver interface {
	ObserveTurn(t *Turn)
}

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
	AlternativeIntents  []dialog.PredictedIntent
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
