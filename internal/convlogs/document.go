package convlogs

import (
	"bytes"
	"math"
	"strconv"
	"sync"

	"lextrail/internal/dialog"
	"lextrail/internal/jsonenc"
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
	d := new(Document)
	d.fill(t, s3Path)
	return d
}

// fill sets d to t's document (NewDocument).
func (d *Document) fill(t *lexruntime.Turn, s3Path string) {
	*d = Document{
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
}

// Marshal renders the document as one compact JSON line, as
// encoding/json renders Document but without its HTML escaping (Lex
// writes "<" as "<") and about five times faster: it runs on every
// logged turn.
func (d *Document) Marshal() []byte { return d.appendJSON(make([]byte, 0, 1024)) }

// docBufs recycles the buffers PrepareTurn renders documents into.
var docBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// marshalString renders the document as Marshal does, as a string (one
// allocation of its size).
func (d *Document) marshalString() string {
	bp := docBufs.Get().(*[]byte)
	b := d.appendJSON((*bp)[:0])
	s := string(b)
	if cap(b) <= 64<<10 {
		*bp = b
		docBufs.Put(bp)
	}
	return s
}

// appendJSON appends Marshal's rendering to b.
func (d *Document) appendJSON(b []byte) []byte {
	b = append(b, `{"messageVersion":`...)
	b = appendString(b, d.MessageVersion)
	b = appendMember(b, "botName", d.BotName)
	b = appendMember(b, "botAlias", d.BotAlias)
	b = appendMember(b, "botVersion", d.BotVersion)
	b = appendMember(b, "inputTranscript", d.InputTranscript)
	if d.BotResponse != nil {
		b = appendMember(b, "botResponse", *d.BotResponse)
	}
	if d.Intent != "" {
		b = appendMember(b, "intent", d.Intent)
	}
	if d.NluIntentConfidence != nil {
		b = append(b, `,"nluIntentConfidence":`...)
		b = appendFloat(b, *d.NluIntentConfidence)
	}
	if d.Slots != nil {
		b = append(b, `,"slots":`...)
		b = appendSlots(b, *d.Slots)
	}
	if len(d.AlternativeIntents) > 0 {
		b = append(b, `,"alternativeIntents":[`...)
		for i, a := range d.AlternativeIntents {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, a.Name)
			if a.NluIntentConfidence != nil {
				b = append(b, `,"nluIntentConfidence":`...)
				b = appendFloat(b, *a.NluIntentConfidence)
			}
			b = append(b, `,"slots":`...)
			b = appendSlots(b, a.Slots)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendMember(b, "developerOverride", d.DeveloperOverride)
	b = append(b, `,"missedUtterance":`...)
	b = strconv.AppendBool(b, d.MissedUtterance)
	b = appendMember(b, "inputDialogMode", d.InputDialogMode)
	b = appendMember(b, "requestId", d.RequestID)
	if d.S3PathForAudio != "" {
		b = appendMember(b, "s3PathForAudio", d.S3PathForAudio)
	}
	b = appendMember(b, "userId", d.UserID)
	b = appendMember(b, "sessionId", d.SessionID)
	if r := d.SentimentResponse; r != nil {
		b = append(b, `,"sentimentResponse":{`...)
		n := len(b)
		if r.SentimentLabel != "" {
			b = appendMember(b, "sentimentLabel", r.SentimentLabel)
		}
		if r.SentimentScore != "" {
			b = appendMember(b, "sentimentScore", r.SentimentScore)
		}
		if len(b) > n {
			b = append(b[:n], b[n+1:]...) // the first member's comma
		}
		b = append(b, '}')
	}
	if d.SlotToElicit != "" {
		b = appendMember(b, "slotToElicit", d.SlotToElicit)
	}
	b = appendMember(b, "dialogState", d.DialogState)
	if c := d.ResponseCard; c != nil {
		b = append(b, `,"responseCard":{"genericAttachments":[`...)
		for i, g := range c.GenericAttachments {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAttachment(b, g)
		}
		b = append(b, ']')
		if c.ContentType != "" {
			b = appendMember(b, "contentType", c.ContentType)
		}
		if c.Version != "" {
			b = appendMember(b, "version", c.Version)
		}
		b = append(b, '}')
	}
	b = appendMember(b, "locale", d.Locale)
	b = appendMember(b, "timestamp", d.Timestamp)
	if len(d.SessionAttributes) > 0 {
		b = append(b, `,"sessionAttributes":`...)
		b = appendStrings(b, d.SessionAttributes)
	}
	if len(d.RequestAttributes) > 0 {
		b = append(b, `,"requestAttributes":`...)
		b = appendStrings(b, d.RequestAttributes)
	}
	return append(b, '}')
}

// appendMember appends ,"name":"value".
func appendMember(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendAttachment(b []byte, g dialog.GenericAttachment) []byte {
	b = append(b, '{')
	n := len(b)
	for _, m := range [...]struct{ name, v string }{{"title", g.Title}, {"subTitle", g.SubTitle}, {"attachmentLinkUrl", g.AttachmentLinkURL}, {"imageUrl", g.ImageURL}} {
		if m.v != "" {
			b = appendMember(b, m.name, m.v)
		}
	}
	if len(g.Buttons) > 0 {
		b = append(b, `,"buttons":[`...)
		for i, bt := range g.Buttons {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"text":`...)
			b = appendString(b, bt.Text)
			b = appendMember(b, "value", bt.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(b) > n {
		b = append(b[:n], b[n+1:]...)
	}
	return append(b, '}')
}

// appendSlots appends a slot map with sorted keys (unfilled slots null).
func appendSlots(b []byte, m map[string]*string) []byte {
	return jsonenc.AppendMap(b, m, func(b []byte, v *string) []byte {
		if v == nil {
			return append(b, "null"...)
		}
		return appendString(b, *v)
	})
}

func appendStrings(b []byte, m map[string]string) []byte {
	return jsonenc.AppendMap(b, m, appendString)
}

// appendFloat formats a number as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendString appends s as a JSON string (jsonenc.AppendString).
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s) }

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
