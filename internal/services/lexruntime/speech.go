package lexruntime

import (
	"context"
	"errors"
	"io"

	"lextrail/internal/nlu"
)

// Speech is the audio side of PostContent and PutSession, provided by a
// speech backend (another package; see the speech issue). The runtime
// calls Recognize for PostContent requests whose Content-Type is one of
// the Lex audio input types, and Synthesize when the Accept header asks
// for audio. With Config.Speech nil, audio input answers 415
// UnsupportedMediaTypeException and audio output 406
// NotAcceptableException; text keeps working.
type Speech interface {
	// Recognize returns the transcript of the request's audio. It returns
	// an error wrapping ErrUnsupportedAudio for a format it cannot decode
	// (→ 415) and ErrSpeechTooLong for more than 15 s of speech (→ 408);
	// any other error is 502 BadGatewayException.
	Recognize(ctx context.Context, r RecognizeRequest) (string, error)
	// Synthesize renders a message as audio of the accepted type
	// (audio/mpeg, audio/ogg or audio/pcm; audio/* means audio/mpeg) and
	// returns it with the Content-Type to answer. ErrUnsupportedAudio
	// means it cannot produce that type (→ 406).
	Synthesize(ctx context.Context, r SynthesizeRequest) (audio io.ReadCloser, contentType string, err error)
}

// SpeechChecker is implemented by a Speech that can tell before a turn
// whether it will serve the request: the runtime asks it first, so an
// input it cannot decode or a reply it cannot produce (a missing tool, an
// unsupported format) fails before the conversation moves. The errors are
// answered as they are when they are *awserr.Error.
type SpeechChecker interface {
	CheckInput(contentType string) error
	CheckAccept(accept string) error
}

// RecognizeRequest is one utterance to transcribe.
type RecognizeRequest struct {
	// Audio is the request body: PCM (audio/l16, audio/x-l16, audio/lpcm;
	// little-endian, 8 or 16 kHz) or Opus (audio/x-cbr-opus-with-preamble).
	Audio io.Reader
	// ContentType is the request's Content-Type with its parameters
	// ("audio/l16; rate=16000; channels=1").
	ContentType string
	// Locale is the bot's locale (en-US, es-ES, …).
	Locale string
	// AccountID, Region, BotName and BotVersion identify the bot version
	// (whose build may carry a compiled grammar; see lexmodels.LoadPart).
	AccountID, Region   string
	BotName, BotVersion string
	// Phrases are the bot's sample utterances, for recognisers that
	// build a grammar from them.
	Phrases []string
	// Spec is the bot version's whole language-model spec (intents with
	// their slots and slot-level utterances, custom slot types with values
	// and synonyms), for recognisers that build a grammar from it.
	Spec nlu.ModelSpec
	// DialogState, IntentName and SlotToElicit are the dialog action the
	// bot answered last — what this input answers (empty for a new
	// conversation); FollowUp is true while a follow-up prompt awaits its
	// answer. Recognisers listen for that.
	DialogState, IntentName, SlotToElicit string
	FollowUp                              bool
}

// SynthesizeRequest is one message to speak.
type SynthesizeRequest struct {
	Text string
	// MessageFormat is PlainText, SSML, CustomPayload or Composite.
	MessageFormat string
	// Accept is the request's Accept value (audio/mpeg, audio/ogg,
	// audio/pcm, audio/*).
	Accept  string
	Locale  string
	VoiceID string // the bot's voiceId (a Polly voice name)
}

// Errors a Speech implementation wraps. An error that is (or wraps) an
// *awserr.Error is answered as it is (a 400 for a malformed body, 429 for
// a full queue …).
var (
	ErrUnsupportedAudio = errors.New("lexruntime: unsupported audio type")
	ErrSpeechTooLong    = errors.New("lexruntime: speech longer than 15 seconds")
)
