package speech

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/nlu"
	"lextrail/internal/speech/asr"
	"lextrail/internal/speech/audio"
	"lextrail/internal/speech/lexicon"
	"lextrail/internal/speech/proc"
	"lextrail/internal/speech/tts"
)

// Compile builds the recognition grammar of a bot version (the build
// runs it once per version; the result serialises with Marshal and is
// keyed by asr.Key(spec)). Without the recogniser's dictionary English
// words are spelled by rules.
func (s *Service) Compile(spec nlu.ModelSpec) (*asr.Grammar, error) {
	s.compiles.Add(1)
	var cmu *lexicon.CMU
	if s.caps.Recognition && asr.LangOf(spec.Locale) == "en" {
		c, err := lexicon.Shared(s.dictPath)
		if err != nil {
			return nil, fmt.Errorf("speech: dictionary: %w", err)
		}
		cmu = c
	}
	return asr.Compile(spec, cmu)
}

// Grammar returns the compiled grammar of spec from the in-memory cache
// (at most Config.Grammars, least recently used dropped), compiling it
// once when absent; concurrent callers for one version share the compile.
func (s *Service) Grammar(spec nlu.ModelSpec) (*asr.Grammar, error) {
	key := asr.Key(spec)
	s.mu.Lock()
	e, ok := s.grammars[key]
	if !ok {
		e = &grammarEntry{}
		s.grammars[key] = e
	}
	s.touch(key)
	s.mu.Unlock()
	e.once.Do(func() { e.g, e.err = s.Compile(spec) })
	if e.err != nil {
		s.mu.Lock()
		if s.grammars[key] == e {
			delete(s.grammars, key)
		}
		s.mu.Unlock()
	}
	return e.g, e.err
}

// Compiles is how many grammars this service has compiled.
func (s *Service) Compiles() int64 { return s.compiles.Load() }

// HasGrammar says whether the grammar keyed key (asr.Key) is in the
// cache, or being compiled for it.
func (s *Service) HasGrammar(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.grammars[key]
	return ok
}

// AddGrammar puts a grammar compiled elsewhere (loaded from the build's
// artefact) in the cache.
func (s *Service) AddGrammar(g *asr.Grammar) {
	e := &grammarEntry{g: g}
	e.once.Do(func() {})
	s.mu.Lock()
	s.grammars[g.Key] = e
	s.touch(g.Key)
	s.mu.Unlock()
}

// touch moves key to the LRU's end and drops the oldest beyond the limit
// (s.mu held).
func (s *Service) touch(key string) {
	for i, k := range s.order {
		if k == key {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	s.order = append(s.order, key)
	for len(s.order) > s.cfg.Grammars {
		delete(s.grammars, s.order[0])
		s.order = s.order[1:]
	}
}

// Transcript is what Recognize heard.
type Transcript struct {
	// Text is the recognised words; empty when NoMatch.
	Text string
	// NoMatch: silence, noise or speech outside the grammar.
	NoMatch bool
	// Audio and Speech are the input's length and its span of speech.
	Audio, Speech time.Duration
	// Elapsed is the recogniser's wall time.
	Elapsed time.Duration
}

// Recognize decodes an audio body of contentType and recognises it
// against g for the dialog's focus (FocusIntent, SlotFocus(…),
// FocusConfirm, or FocusAny when unsure). Errors are AWS-shaped: 400 bad
// audio, 408 more than 15 s of speech, 415 unsupported format or no
// recogniser, 429 queue full, 502 recogniser failure or timeout.
func (s *Service) Recognize(ctx context.Context, body io.Reader, contentType string, g *asr.Grammar, focus string) (Transcript, error) {
	if err := s.CheckInput(contentType); err != nil {
		return Transcript{}, err
	}
	if !audio.IsAudio(contentType) {
		return Transcript{}, awserr.New(http.StatusBadRequest, "BadRequestException", "Content-Type %q is not audio", contentType)
	}
	if g == nil {
		return Transcript{}, awserr.New(http.StatusBadRequest, "BadRequestException", "the bot has no recognition grammar")
	}
	clip, err := audio.Decode(contentType, body, s.cfg.Limits)
	if err != nil {
		return Transcript{}, err
	}
	t := Transcript{Audio: clip.Duration(), Speech: clip.Speech}
	if clip.Speech == 0 {
		// silence or steady noise: nothing to recognise
		t.NoMatch = true
		return t, nil
	}
	res, err := s.rec.Recognize(ctx, g, focus, clip.Samples)
	if err != nil {
		return Transcript{}, s.toolError("speech recognition", err)
	}
	t.Text, t.NoMatch, t.Elapsed = res.Transcript, res.NoMatch, res.Elapsed
	return t, nil
}

// Speech is a reply to send.
type Speech struct {
	// Audio is false for a text reply (no body).
	Audio       bool
	ContentType string
	Body        []byte
	// Duration is the spoken length.
	Duration time.Duration
}

// Synthesize speaks text for the Accept header with the bot's voiceId
// (the locale's default voice when empty). A text/plain Accept gives no
// audio; empty text gives an empty audio body. Errors: 406 unsupported
// Accept or missing encoder, 400 unknown voice, 429 queue full, 502
// synthesiser failure or timeout.
func (s *Service) Synthesize(ctx context.Context, text, voiceID, locale, accept string) (Speech, error) {
	a, err := s.CheckAccept(accept)
	if err != nil {
		return Speech{}, err
	}
	if !a.Audio {
		return Speech{}, nil
	}
	v, err := tts.VoiceFor(voiceID, locale)
	if err != nil {
		return Speech{}, awserr.New(http.StatusBadRequest, "BadRequestException", "%s", err.Error())
	}
	res, err := s.synth.Synthesize(ctx, text, v, a.Format)
	if err != nil {
		return Speech{}, s.toolError("speech synthesis", err)
	}
	sp := Speech{Audio: true, ContentType: res.ContentType, Body: res.Audio}
	if res.Rate > 0 {
		sp.Duration = time.Duration(res.Samples) * time.Second / time.Duration(res.Rate)
	}
	return sp, nil
}

// toolError maps a process failure to its AWS error and logs the detail.
func (s *Service) toolError(what string, err error) error {
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return err
	}
	switch {
	case errors.Is(err, proc.ErrQueueFull):
		e := awserr.New(http.StatusTooManyRequests, "LimitExceededException", "too many speech requests in progress; retry shortly")
		e.Header = http.Header{"Retry-After": {"1"}}
		e.Err = err
		return e
	case errors.Is(err, proc.ErrTimeout):
		s.log.Warn("speech tool timed out", "what", what, "err", err)
		e := awserr.New(http.StatusBadGateway, "BadGatewayException", "%s did not finish within %s", what, s.runner.Config().Timeout)
		e.Err = err
		return e
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	s.log.Error("speech tool failed", "what", what, "err", err)
	e := awserr.New(http.StatusBadGateway, "BadGatewayException", "%s failed", what)
	e.Err = err
	return e
}
