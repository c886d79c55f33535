// Package lexvoice gives the Lex runtime (lexruntime.Speech) its voice:
// it implements the runtime's speech interface with speech.Service —
// choosing the recognition grammar of the bot version and the focus of
// the dialog's last action, and turning the engine's messages (plain
// text, SSML, composite groups) into what is spoken.
package lexvoice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/nlu"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/services/lexruntime"
	"lextrail/internal/speech"
	"lextrail/internal/speech/asr"
	"lextrail/internal/store"
)

// Voice implements lexruntime.Speech.
type Voice struct {
	S *speech.Service
	// DB, when set, is where the grammars compiled at build time are read
	// (GrammarPart); without it, or for a version built without one, the
	// grammar is compiled on the first audio turn.
	DB *store.DB
}

var _ lexruntime.Speech = Voice{}

// New returns the runtime's speech backend.
func New(s *speech.Service, db *store.DB) Voice { return Voice{S: s, DB: db} }

// PartName is the build part holding a bot version's grammar.
const PartName = "speech-grammar"

// GrammarPart compiles a voice bot's recognition grammar when the bot
// version is built (lexmodels.PartCompiler), so that its first audio turn
// does not pay for the compile. A bot with a voiceId is a voice bot; for
// others (and where recognition is not available) nothing is compiled at
// build time and a grammar is made on the first audio turn, if one comes.
type GrammarPart struct{ S *speech.Service }

var _ lexmodels.PartCompiler = GrammarPart{}

// Part names the part.
func (GrammarPart) Part() string { return PartName }

// Wants is true for voice bots when the recogniser is installed.
func (g GrammarPart) Wants(b lexmodels.BuildSettings) bool {
	return b.VoiceID != "" && g.S.Capabilities().Recognition
}

// CompilePart compiles the grammar of a bot version's spec.
func (g GrammarPart) CompilePart(spec nlu.ModelSpec) ([]byte, error) {
	gr, err := g.S.Compile(spec)
	if err != nil {
		return nil, err
	}
	return gr.Marshal(), nil
}

// buildGrammar puts the grammar the bot version's build compiled in the
// recogniser's cache, when there is one for this spec and it is not
// cached yet. Problems only mean the grammar is compiled now instead.
func (v Voice) buildGrammar(ctx context.Context, r lexruntime.RecognizeRequest, spec nlu.ModelSpec) {
	key := asr.Key(spec)
	if v.DB == nil || v.S.HasGrammar(key) {
		return
	}
	var data []byte
	err := v.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		data, err = lexmodels.LoadPart(ctx, tx, r.AccountID, r.Region, r.BotName, r.BotVersion, PartName)
		return err
	})
	if err != nil || data == nil {
		return
	}
	if g, err := asr.Load(data); err == nil && g.Key == key {
		v.S.AddGrammar(g)
	}
}

// Focus maps the dialog action the bot answered last to the recogniser's
// focus: ElicitSlot listens for that slot's answers (or an intent),
// ConfirmIntent and a pending follow-up prompt for yes/no (or an intent),
// everything else for the intents' utterances.
func Focus(r lexruntime.RecognizeRequest) string {
	switch {
	case r.FollowUp:
		return speech.FocusConfirm
	case r.DialogState == "ElicitSlot" && r.IntentName != "" && r.SlotToElicit != "":
		return speech.SlotFocus(r.IntentName, r.SlotToElicit)
	case r.DialogState == "ConfirmIntent":
		return speech.FocusConfirm
	}
	return speech.FocusIntent
}

// Recognize transcribes the request's audio against the bot version's
// grammar (the one its build compiled, else compiled on first use; kept
// in memory, keyed by the version's spec).
// No match is an empty transcript: the engine then answers as for
// unrecognised input. Errors are AWS-shaped; those the runtime has
// sentinels for also wrap them.
func (v Voice) Recognize(ctx context.Context, r lexruntime.RecognizeRequest) (string, error) {
	if err := v.S.CheckInput(r.ContentType); err != nil {
		return "", wrap(err)
	}
	spec := r.Spec
	if spec.Locale == "" {
		spec.Locale = r.Locale
	}
	v.buildGrammar(ctx, r, spec)
	g, err := v.S.Grammar(spec)
	if err != nil {
		return "", awserr.New(http.StatusBadRequest, "BadRequestException", "the bot has nothing to recognise speech against: %v", err)
	}
	t, err := v.S.Recognize(ctx, r.Audio, r.ContentType, g, Focus(r))
	if err != nil {
		return "", wrap(err)
	}
	return t.Text, nil
}

// Synthesize speaks a message for the Accept value.
func (v Voice) Synthesize(ctx context.Context, r lexruntime.SynthesizeRequest) (io.ReadCloser, string, error) {
	sp, err := v.S.Synthesize(ctx, Spoken(r.Text, r.MessageFormat), r.VoiceID, r.Locale, r.Accept)
	if err != nil {
		return nil, "", wrap(err)
	}
	if !sp.Audio {
		return nil, "", nil
	}
	return io.NopCloser(bytes.NewReader(sp.Body)), sp.ContentType, nil
}

// Spoken is the text to speak for a message: PlainText and SSML as they
// are, a Composite group's PlainText and SSML messages one after the
// other, nothing for a CustomPayload (an application's data, not words).
func Spoken(text, format string) string {
	switch format {
	case "CustomPayload":
		return ""
	case "Composite":
		var c struct {
			Messages []struct {
				Type  string `json:"type"`
				Value string `json:"value"`
			} `json:"messages"`
		}
		if json.Unmarshal([]byte(text), &c) != nil {
			return text
		}
		var plain, marked []string
		ssml := false
		for _, m := range c.Messages {
			switch m.Type {
			case "PlainText":
				plain = append(plain, m.Value)
				marked = append(marked, html.EscapeString(m.Value))
			case "SSML":
				ssml = true
				marked = append(marked, stripSpeak(m.Value))
			}
		}
		if ssml {
			return "<speak>" + strings.Join(marked, " ") + "</speak>"
		}
		return strings.Join(plain, " ")
	}
	return text
}

// stripSpeak drops the <speak> wrapper so SSML pieces can be joined.
func stripSpeak(s string) string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(t), "<speak") {
		if i := strings.IndexByte(t, '>'); i >= 0 {
			t = t[i+1:]
		}
		if i := strings.LastIndex(strings.ToLower(t), "</speak>"); i >= 0 {
			t = t[:i]
		}
	}
	return t
}

// sentinel makes an AWS error also match the runtime's sentinels.
type sentinel struct {
	aws *awserr.Error
	is  error
}

func (e sentinel) Error() string   { return e.aws.Error() }
func (e sentinel) Unwrap() []error { return []error{e.aws, e.is} }

func wrap(err error) error {
	var ae *awserr.Error
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case ae.Status == http.StatusUnsupportedMediaType || ae.Status == http.StatusNotAcceptable:
		return sentinel{ae, lexruntime.ErrUnsupportedAudio}
	case ae.Status == http.StatusRequestTimeout:
		return sentinel{ae, lexruntime.ErrSpeechTooLong}
	}
	return ae
}
