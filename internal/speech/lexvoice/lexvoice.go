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
	"lextrail/internal/services/lexruntime"
	"lextrail/internal/speech"
)

// Voice implements lexruntime.Speech.
type Voice struct {
	S *speech.Service
}

var _ lexruntime.Speech = Voice{}

// New returns the runtime's speech backend.
func New(s *speech.Service) Voice { return Voice{S: s} }

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
// grammar (compiled on first use and kept, keyed by the version's spec).
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
