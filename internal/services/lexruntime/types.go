package lexruntime

import (
	"io"

	"lextrail/internal/dialog"
)

// Wire shapes of the five lex-runtime operations (spec §1.4, §1.5, §5).
// Header members follow the header catalogue: jsonvalue headers are
// base64 of JSON; x-amz-lex-encoded-* are base64 of text, set by the
// handlers.

// PostTextInput is POST /bot/{botName}/alias/{botAlias}/user/{userId}/text.
type PostTextInput struct {
	BotName           string                 `location:"uri" locationName:"botName" json:"botName"`
	BotAlias          string                 `location:"uri" locationName:"botAlias" json:"botAlias"`
	UserID            string                 `location:"uri" locationName:"userId" json:"userId"`
	InputText         *string                `json:"inputText,omitempty"`
	SessionAttributes map[string]string      `json:"sessionAttributes,omitempty"`
	RequestAttributes map[string]string      `json:"requestAttributes,omitempty"`
	ActiveContexts    []dialog.ActiveContext `json:"activeContexts,omitempty"`
}

// PostTextOutput is PostText's JSON answer.
type PostTextOutput struct {
	IntentName          string                   `json:"intentName,omitempty"`
	NluIntentConfidence *dialog.IntentConfidence `json:"nluIntentConfidence,omitempty"`
	AlternativeIntents  []dialog.PredictedIntent `json:"alternativeIntents,omitempty"`
	// Slots is a pointer so that an intent without slots answers {}.
	Slots             *map[string]*string    `json:"slots,omitempty"`
	SessionAttributes map[string]string      `json:"sessionAttributes"`
	Message           *string                `json:"message,omitempty"`
	SentimentResponse *dialog.Sentiment      `json:"sentimentResponse,omitempty"`
	MessageFormat     string                 `json:"messageFormat,omitempty"`
	DialogState       string                 `json:"dialogState,omitempty"`
	SlotToElicit      string                 `json:"slotToElicit,omitempty"`
	ResponseCard      *dialog.ResponseCard   `json:"responseCard,omitempty"`
	SessionID         string                 `json:"sessionId,omitempty"`
	BotVersion        string                 `json:"botVersion,omitempty"`
	ActiveContexts    []dialog.ActiveContext `json:"activeContexts,omitempty"`
}

// PostContentInput is POST /bot/{botName}/alias/{botAlias}/user/{userId}/content.
type PostContentInput struct {
	BotName           string                 `location:"uri" locationName:"botName" json:"botName"`
	BotAlias          string                 `location:"uri" locationName:"botAlias" json:"botAlias"`
	UserID            string                 `location:"uri" locationName:"userId" json:"userId"`
	ContentType       string                 `location:"header" locationName:"Content-Type" json:"contentType"`
	Accept            string                 `location:"header" locationName:"Accept" json:"accept,omitempty"`
	SessionAttributes map[string]string      `location:"header" locationName:"x-amz-lex-session-attributes" jsonvalue:"true" json:"sessionAttributes,omitempty"`
	RequestAttributes map[string]string      `location:"header" locationName:"x-amz-lex-request-attributes" jsonvalue:"true" json:"requestAttributes,omitempty"`
	ActiveContexts    []dialog.ActiveContext `location:"header" locationName:"x-amz-lex-active-contexts" jsonvalue:"true" json:"activeContexts,omitempty"`
	InputStream       io.ReadCloser          `location:"payload" json:"-"`
}

// PostContentOutput is PostContent's answer: state in headers, audio (or
// nothing) in the body.
type PostContentOutput struct {
	ContentType            string                   `location:"header" locationName:"Content-Type"`
	IntentName             string                   `location:"header" locationName:"x-amz-lex-intent-name"`
	NluIntentConfidence    *dialog.IntentConfidence `location:"header" locationName:"x-amz-lex-nlu-intent-confidence" jsonvalue:"true"`
	AlternativeIntents     []dialog.PredictedIntent `location:"header" locationName:"x-amz-lex-alternative-intents" jsonvalue:"true"`
	Slots                  map[string]*string       `location:"header" locationName:"x-amz-lex-slots" jsonvalue:"true"`
	SessionAttributes      map[string]string        `location:"header" locationName:"x-amz-lex-session-attributes" jsonvalue:"true"`
	SentimentResponse      string                   `location:"header" locationName:"x-amz-lex-sentiment"`
	Message                string                   `location:"header" locationName:"x-amz-lex-message"`
	EncodedMessage         string                   `location:"header" locationName:"x-amz-lex-encoded-message"`
	MessageFormat          string                   `location:"header" locationName:"x-amz-lex-message-format"`
	DialogState            string                   `location:"header" locationName:"x-amz-lex-dialog-state"`
	SlotToElicit           string                   `location:"header" locationName:"x-amz-lex-slot-to-elicit"`
	InputTranscript        string                   `location:"header" locationName:"x-amz-lex-input-transcript"`
	EncodedInputTranscript string                   `location:"header" locationName:"x-amz-lex-encoded-input-transcript"`
	BotVersion             string                   `location:"header" locationName:"x-amz-lex-bot-version"`
	SessionID              string                   `location:"header" locationName:"x-amz-lex-session-id"`
	ActiveContexts         []dialog.ActiveContext   `location:"header" locationName:"x-amz-lex-active-contexts" jsonvalue:"true"`
	AudioStream            io.ReadCloser            `location:"payload"`
}

// GetSessionInput is GET /bot/{botName}/alias/{botAlias}/user/{userId}/session/.
type GetSessionInput struct {
	BotName               string `location:"uri" locationName:"botName" json:"botName"`
	BotAlias              string `location:"uri" locationName:"botAlias" json:"botAlias"`
	UserID                string `location:"uri" locationName:"userId" json:"userId"`
	CheckpointLabelFilter string `location:"querystring" locationName:"checkpointLabelFilter" json:"checkpointLabelFilter,omitempty"`
}

// GetSessionOutput is GetSession's JSON answer.
type GetSessionOutput struct {
	RecentIntentSummaryView []dialog.IntentSummary `json:"recentIntentSummaryView"`
	SessionAttributes       map[string]string      `json:"sessionAttributes"`
	SessionID               string                 `json:"sessionId"`
	DialogAction            *dialog.DialogAction   `json:"dialogAction,omitempty"`
	ActiveContexts          []dialog.ActiveContext `json:"activeContexts"`
}

// PutSessionInput is POST /bot/{botName}/alias/{botAlias}/user/{userId}/session.
type PutSessionInput struct {
	BotName                 string                 `location:"uri" locationName:"botName" json:"botName"`
	BotAlias                string                 `location:"uri" locationName:"botAlias" json:"botAlias"`
	UserID                  string                 `location:"uri" locationName:"userId" json:"userId"`
	Accept                  string                 `location:"header" locationName:"Accept" json:"accept,omitempty"`
	SessionAttributes       map[string]string      `json:"sessionAttributes,omitempty"`
	DialogAction            *dialog.DialogAction   `json:"dialogAction,omitempty"`
	RecentIntentSummaryView []dialog.IntentSummary `json:"recentIntentSummaryView,omitempty"`
	ActiveContexts          []dialog.ActiveContext `json:"activeContexts,omitempty"`
}

// PutSessionOutput is PutSession's answer: PostContent-style headers and
// an audio (or empty) body.
type PutSessionOutput struct {
	ContentType       string                 `location:"header" locationName:"Content-Type"`
	IntentName        string                 `location:"header" locationName:"x-amz-lex-intent-name"`
	Slots             map[string]*string     `location:"header" locationName:"x-amz-lex-slots" jsonvalue:"true"`
	SessionAttributes map[string]string      `location:"header" locationName:"x-amz-lex-session-attributes" jsonvalue:"true"`
	Message           string                 `location:"header" locationName:"x-amz-lex-message"`
	EncodedMessage    string                 `location:"header" locationName:"x-amz-lex-encoded-message"`
	MessageFormat     string                 `location:"header" locationName:"x-amz-lex-message-format"`
	DialogState       string                 `location:"header" locationName:"x-amz-lex-dialog-state"`
	SlotToElicit      string                 `location:"header" locationName:"x-amz-lex-slot-to-elicit"`
	SessionID         string                 `location:"header" locationName:"x-amz-lex-session-id"`
	ActiveContexts    []dialog.ActiveContext `location:"header" locationName:"x-amz-lex-active-contexts" jsonvalue:"true"`
	AudioStream       io.ReadCloser          `location:"payload"`
}

// DeleteSessionInput is DELETE /bot/{botName}/alias/{botAlias}/user/{userId}/session.
type DeleteSessionInput struct {
	BotName  string `location:"uri" locationName:"botName" json:"botName"`
	BotAlias string `location:"uri" locationName:"botAlias" json:"botAlias"`
	UserID   string `location:"uri" locationName:"userId" json:"userId"`
}

// DeleteSessionOutput is DeleteSession's answer (200, not 204).
type DeleteSessionOutput struct {
	BotName   string `json:"botName"`
	BotAlias  string `json:"botAlias"`
	UserID    string `json:"userId"`
	SessionID string `json:"sessionId"`
}
