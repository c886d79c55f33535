package convlogs

import (
	"bytes"
	"encoding/json"

	"lextrail/internal/dialog"
	"lextrail/internal/services/lexruntime"
)

// Document is the text log of one turn (spec §4.1): a flat JSON object —
// no bot {name, alias, version} object, inputDialogMode rather than
// inputContentType — with its members in this order. Values of obfuscated
// slots are masked as the dialog engine masked them (§4.3): in
// inputTranscript, slots and alternativeIntents, never in botResponse,
// sessionAttributes or requestAttributes.
type Document struct {
	MessageVersion      string              `json:"messageVersion"`
	BotName             string              `json:"botName"`
	BotAlias            string              `json:"botAlias"`
	BotVersion          string              `json:"botVersion"`
	InputTranscript     string              `json:"inputTranscript"`
	BotResponse         *string             `json:"botResponse,omitempty"`
	Intent              string              `json:"intent,omitempty"`
	NluIntentConfidence *float64            `json:"nluIntentConfidence,omitempty"`
	Slots               *map[string]*string `json:"slots,omitempty"`
	AlternativeIntents  []AlternativeIntent `json:"alternativeIntents,omitempty"`
	DeveloperOverride   string              `json:"developerOverride"`
	MissedUtterance     bool                `json:"missedUtterance"`
	InputDialogMode     string              `json:"inputDialogMode"`
	RequestID           string              `json:"requestId"`
	S3PathForAudio      string              `json:"s3PathForAudio,omitempty"`
	UserID              string              `json:"userId"`
	SessionID           string              `json:"sessionId"`
	SentimentResponse   *dialog.Sentiment   `json:"sentimentResponse,omitempty"`
	SlotToElicit        string              `json:"slotToElicit,omitempty"`
	DialogState         string              `json:"dialogState"`
	ResponseCard        *ResponseCard       `json:"responseCard,omitempty"`
	Locale              string              `json:"locale"`
	Timestamp           string              `json:"timestamp"`
	SessionAttributes   map[string]string   `json:"sessionAttributes,omitempty"`
	RequestAttributes   map[string]string   `json:"requestAttributes,omitempty"`
}

// AlternativeIntent is one of a document's alternativeIntents: the key is
// name (not intentName, as in the runtime API) and the confidence a bare
// number.
type AlternativeIntent struct {
	Name                string             `json:"name"`
	NluIntentConfidence *float64           `json:"nluIntentConfidence,omitempty"`
	Slots               map[string]*string `json:"slots"`
}

// ResponseCard is a document's responseCard, members in the documented
// order.
type ResponseCard struct {
	GenericAttachments []dialog.GenericAttachment `json:"genericAttachments"`
	ContentType        string                     `json:"contentType,omitempty"`
	Version            string                     `json:"version,omitempty"`
}

// TimestampLayout is the document's timestamp: ISO-8601 UTC with
// milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// NewDocument builds a turn's text log. s3Path is the audio object's
// "bucket/key" when the turn's audio is logged too ("" otherwise).
func NewDocument(t *lexruntime.Turn, s3Path string) *Document {
	d := &Document{
		MessageVersion: "1.0", BotName: t.BotName, BotAlias: t.BotAlias, BotVersion: t.BotVersion,
		InputTranscript: t.LogTranscript, BotResponse: t.BotResponse, NluIntentConfidence: t.NluIntentConfidence,
		DeveloperOverride: boolString(t.DeveloperOverride), MissedUtterance: t.MissedUtterance,
		InputDialogMode: t.InputDialogMode, RequestID: t.RequestID, S3PathForAudio: s3Path,
		UserID: t.UserID, SessionID: t.SessionID, SentimentResponse: t.SentimentResponse, DialogState: t.DialogState,
		Locale: t.Locale, Timestamp: t.Timestamp.UTC().Format(TimestampLayout),
	}
	if d.InputDialogMode == "" {
		d.InputDialogMode = "Text"
	}
	if !t.MissedUtterance {
		d.Intent, d.SlotToElicit = t.Intent, t.SlotToElicit
		if t.LogSlots != nil {
			slots := t.LogSlots
			d.Slots = &slots
		}
	}
	for _, a := range t.LogAlternativeIntents {
		ai := AlternativeIntent{Name: a.IntentName, Slots: a.Slots}
		if a.NluIntentConfidence != nil {
			ai.NluIntentConfidence = new(a.NluIntentConfidence.Score)
		}
		if ai.Slots == nil {
			ai.Slots = map[string]*string{}
		}
		d.AlternativeIntents = append(d.AlternativeIntents, ai)
	}
	if c := t.ResponseCard; c != nil {
		d.ResponseCard = &ResponseCard{GenericAttachments: c.GenericAttachments, ContentType: c.ContentType, Version: c.Version}
		if d.ResponseCard.GenericAttachments == nil {
			d.ResponseCard.GenericAttachments = []dialog.GenericAttachment{}
		}
	}
	if len(t.SessionAttributes) > 0 {
		d.SessionAttributes = t.SessionAttributes
	}
	if len(t.RequestAttributes) > 0 {
		d.RequestAttributes = t.RequestAttributes
	}
	return d
}

// Marshal renders the document as one compact JSON line, without the
// HTML escaping encoding/json does by default (Lex writes "<" as "<").
func (d *Document) Marshal() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		panic(err) // a Document holds only strings, numbers, booleans, maps and slices
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// audioExt is the audio object's extension for a PostContent input
// Content-Type: raw PCM (audio/l16, audio/x-l16, audio/lpcm) is ".pcm",
// Opus ".opus"; the bytes are stored as they were sent.
func audioExt(contentType string) string {
	mt := contentType
	for i := 0; i < len(mt); i++ {
		if mt[i] == ';' {
			mt = mt[:i]
			break
		}
	}
	mt = string(bytes.ToLower(bytes.TrimSpace([]byte(mt))))
	switch mt {
	case "audio/l16", "audio/x-l16", "audio/lpcm":
		return ".pcm"
	case "audio/x-cbr-opus-with-preamble":
		return ".opus"
	}
	return ".bin"
}

// AudioKey is the S3 key of a turn's audio (spec §4.2, the remainder after
// the prefix being lextrail's choice): <prefix><sessionId>/<requestId>.<ext>.
func AudioKey(prefix, sessionID, requestID, contentType string) string {
	return prefix + sessionID + "/" + requestID + audioExt(contentType)
}
