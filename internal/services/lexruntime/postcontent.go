package lexruntime

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/dialog"
	"lextrail/internal/sigv4"
)

// Input content types PostContent accepts (matched on the media type,
// parameters aside; spec §1.5).
var audioInputs = []string{"audio/l16", "audio/x-l16", "audio/lpcm", "audio/x-cbr-opus-with-preamble"}

// accepted is the response format an Accept header asks for.
type accepted struct {
	audio       bool
	accept      string // the Accept value for the synthesiser
	contentType string
}

func (a accepted) mode() string {
	if a.audio {
		return "Voice"
	}
	return "Text"
}

const textContentType = "text/plain;charset=utf-8"

// accept reads an Accept header: text/plain (also when absent — spec
// §9.5), or audio/mpeg, audio/ogg, audio/pcm, audio/* (= audio/mpeg), which
// need a speech synthesiser; anything else is 406 NotAcceptableException.
func (s *Service) accept(h string) (accepted, error) {
	mt := mediaType(h)
	switch mt {
	case "", "text/plain", "*/*":
		return accepted{contentType: textContentType}, nil
	case "audio/mpeg", "audio/ogg", "audio/pcm", "audio/*":
		if s.cfg.Speech == nil {
			return accepted{}, awserr.New(http.StatusNotAcceptable, "NotAcceptableException",
				"lextrail has no speech synthesiser configured, so it cannot answer %s. Ask for text/plain; charset=utf-8.", clipText(h))
		}
		if mt == "audio/*" {
			mt = "audio/mpeg"
		}
		if sc, ok := s.cfg.Speech.(SpeechChecker); ok {
			if err := sc.CheckAccept(mt); err != nil {
				return accepted{}, speechError(err, http.StatusNotAcceptable, "NotAcceptableException", "The speech synthesiser cannot produce %s.", mt)
			}
		}
		return accepted{audio: true, accept: mt, contentType: mt}, nil
	}
	return accepted{}, awserr.New(http.StatusNotAcceptable, "NotAcceptableException",
		"The Accept value %s is not supported. Use text/plain; charset=utf-8, audio/mpeg, audio/ogg, audio/pcm or audio/*.", clipText(h))
}

// mediaType is the lower-cased media type of a Content-Type or Accept
// value, without parameters.
func mediaType(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// headerText renders a message for x-amz-lex-message (only when it is
// printable ASCII: HTTP headers carry no other text safely) and for
// x-amz-lex-encoded-message (always: base64 of the UTF-8 text).
func headerText(s string) (plain, encoded string) {
	plain = s
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			plain = ""
			break
		}
	}
	return plain, b64(s)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// speak synthesises the answer's message when audio was accepted.
func (s *Service) speak(ctx context.Context, cv *conv, r *dialog.Response, a accepted) (io.ReadCloser, string, error) {
	if !a.audio {
		return nil, a.contentType, nil
	}
	text := ""
	if r.Message != nil {
		text = *r.Message
	}
	audio, ct, err := s.cfg.Speech.Synthesize(ctx, SynthesizeRequest{Text: text, MessageFormat: r.MessageFormat, Accept: a.accept, Locale: cv.bot.Locale, VoiceID: cv.bot.VoiceID})
	var ae *awserr.Error
	switch {
	case errors.As(err, &ae):
		return nil, "", ae
	case errors.Is(err, ErrUnsupportedAudio):
		return nil, "", awserr.New(http.StatusNotAcceptable, "NotAcceptableException", "The speech synthesiser cannot produce %s.", a.accept)
	case err != nil:
		return nil, "", awserr.New(http.StatusBadGateway, "BadGatewayException", "Speech synthesis failed: %v", err)
	}
	if ct == "" {
		ct = a.contentType
	}
	return audio, ct, nil
}

// readBody reads a RawBody request body through the SigV4 payload check,
// up to max bytes (413 beyond).
func readBody(c *catalog.Call, body io.Reader, max int64) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	if c.Payload != nil {
		body = c.Payload(body)
	}
	b, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return nil, se.AWS(sigv4.FlavorJSON)
		}
		return nil, badRequest("The request body could not be read: %v", err)
	}
	if int64(len(b)) > max {
		return nil, awserr.New(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body exceeds %d bytes.", max)
	}
	return b, nil
}

// checkHeaderSizes applies PostContent's header limits: 16 KB of headers
// in all, 12 KB of session and request attribute headers (spec §5.6).
func checkHeaderSizes(h http.Header) error {
	total, attrs := 0, 0
	for k, vs := range h {
		for _, v := range vs {
			total += len(k) + len(v)
			if lk := strings.ToLower(k); lk == "x-amz-lex-session-attributes" || lk == "x-amz-lex-request-attributes" {
				attrs += len(v)
			}
		}
	}
	if attrs > MaxAttrBytes {
		return badRequest("The session and request attribute headers are %d bytes together; the limit is %d.", attrs, MaxAttrBytes)
	}
	if total > MaxHeaders {
		return badRequest("The request headers are %d bytes; the limit is %d.", total, MaxHeaders)
	}
	return nil
}

func (s *Service) postContent(ctx context.Context, c *catalog.Call, in *PostContentInput) (*PostContentOutput, error) {
	k := keyOf(c, in)
	if err := checkKey(k.bot, k.alias, k.user); err != nil {
		return nil, err
	}
	if err := checkHeaderSizes(c.Request.Header); err != nil {
		return nil, err
	}
	if err := checkAttrs(in.SessionAttributes, in.RequestAttributes); err != nil {
		return nil, err
	}
	if err := checkContexts(in.ActiveContexts); err != nil {
		return nil, err
	}
	accept, err := s.accept(in.Accept)
	if err != nil {
		return nil, err
	}
	mt := mediaType(in.ContentType)
	speech := false
	switch {
	case mt == "text/plain":
	case contains(audioInputs, mt):
		if s.cfg.Speech == nil {
			return nil, awserr.New(http.StatusUnsupportedMediaType, "UnsupportedMediaTypeException",
				"lextrail has no speech recogniser configured, so it cannot take %s input. Send text with Content-Type text/plain; charset=utf-8.", clipText(in.ContentType))
		}
		if sc, ok := s.cfg.Speech.(SpeechChecker); ok {
			if err := sc.CheckInput(in.ContentType); err != nil {
				return nil, speechError(err, http.StatusUnsupportedMediaType, "UnsupportedMediaTypeException", "The speech recogniser cannot decode %s.", clipText(in.ContentType))
			}
		}
		speech = true
	case mt == "":
		return nil, badRequest("1 validation error detected: Value null at 'contentType' failed to satisfy constraint: Member must not be null")
	default:
		return nil, awserr.New(http.StatusUnsupportedMediaType, "UnsupportedMediaTypeException",
			"The Content-Type %s is not supported. Use text/plain; charset=utf-8, audio/l16, audio/x-l16, audio/lpcm or audio/x-cbr-opus-with-preamble.", clipText(in.ContentType))
	}
	limit := int64(4*MaxInputText + 1)
	if speech {
		limit = MaxAudio
	}
	body, err := readBody(c, in.InputStream, limit)
	if err != nil {
		return nil, err
	}
	ts := &turnSpec{op: "PostContent", class: "PostContent", record: true, mode: "Text", requestAttrs: in.RequestAttributes}
	if speech {
		ts.mode, ts.audio, ts.audioType = "Speech", body, in.ContentType
	} else {
		if !utf8.Valid(body) {
			return nil, badRequest("The text/plain input is not valid UTF-8.")
		}
		ts.text = strings.TrimSpace(string(body))
		if err := checkText(ts.text); err != nil {
			return nil, err
		}
	}
	ts.run = func(cv *conv) (*dialog.Response, error) {
		if speech {
			rr := RecognizeRequest{Audio: bytes.NewReader(body), ContentType: in.ContentType, Locale: cv.bot.Locale,
				AccountID: cv.k.acct, Region: cv.k.region, BotName: cv.bot.Name, BotVersion: cv.bot.Version, Phrases: cv.bot.Phrases(), Spec: cv.bot.Spec,
				FollowUp: cv.state.FollowUp != nil}
			if a := cv.state.Action; a != nil {
				rr.DialogState, rr.IntentName, rr.SlotToElicit = a.Type, a.IntentName, a.SlotToElicit
			}
			text, err := s.cfg.Speech.Recognize(ctx, rr)
			var ae *awserr.Error
			switch {
			case errors.As(err, &ae):
				return nil, ae
			case errors.Is(err, ErrUnsupportedAudio):
				return nil, awserr.New(http.StatusUnsupportedMediaType, "UnsupportedMediaTypeException", "The speech recogniser cannot decode %s.", clipText(in.ContentType))
			case errors.Is(err, ErrSpeechTooLong):
				return nil, awserr.New(http.StatusRequestTimeout, "RequestTimeoutException", "The input speech is longer than 15 seconds.")
			case err != nil:
				return nil, awserr.New(http.StatusBadGateway, "BadGatewayException", "Speech recognition failed: %v", err)
			}
			if len([]rune(text)) > MaxInputText {
				text = string([]rune(text)[:MaxInputText])
			}
			ts.text = text
		}
		return s.engine.Turn(ctx, cv.bot, cv.state, s.input(c, k, ts.text, in.SessionAttributes, in.RequestAttributes, in.ActiveContexts, accept.mode(), cv.now))
	}
	cv, r, err := s.converse(ctx, c, k, ts)
	if err != nil {
		return nil, err
	}
	out := &PostContentOutput{
		ContentType: accept.contentType, IntentName: r.IntentName, NluIntentConfidence: r.NluIntentConfidence,
		AlternativeIntents: r.AlternativeIntents, Slots: r.Slots, SessionAttributes: r.SessionAttributes,
		SentimentResponse: sentimentHeader(r.SentimentResponse), MessageFormat: r.MessageFormat, DialogState: r.DialogState,
		SlotToElicit: r.SlotToElicit, BotVersion: cv.rb.Version, SessionID: cv.state.SessionID, ActiveContexts: nonEmpty(r.ActiveContexts),
	}
	if r.Message != nil {
		out.Message, out.EncodedMessage = headerText(*r.Message)
	}
	if ts.text != "" {
		out.InputTranscript, out.EncodedInputTranscript = headerText(ts.text)
	}
	if out.AudioStream, out.ContentType, err = s.speak(ctx, cv, r, accept); err != nil {
		return nil, err
	}
	return out, nil
}

// speechError is a speech backend's check failure: its own AWS error, or
// the given one.
func speechError(err error, status int, code, format string, args ...any) error {
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return awserr.New(status, code, format, args...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
