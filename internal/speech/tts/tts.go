// Package tts owns speech synthesis: it maps a bot's Polly voiceId to an
// espeak-ng voice (voices.go), speaks the reply with espeak-ng (Debian
// package espeak-ng) and encodes it as PostContent's Accept asks —
// audio/pcm (16 kHz, 16-bit little-endian mono, in Go), audio/mpeg (lame,
// Debian package lame) or audio/ogg (Vorbis, oggenc from vorbis-tools) —
// each tool run as a subprocess under the proc limits.
package tts

import (
	"context"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"lextrail/internal/speech/audio"
	"lextrail/internal/speech/proc"
)

// Output formats (Lex's Accept values and the response Content-Type).
const (
	PCM  = "audio/pcm"
	MPEG = "audio/mpeg"
	Ogg  = "audio/ogg"
)

// Accept is a parsed PostContent Accept header.
type Accept struct {
	// Audio is false for text/plain (and an absent header): no body.
	Audio bool
	// Format is PCM, MPEG or Ogg when Audio.
	Format string
}

// ErrNotAcceptable is returned (wrapped) for an Accept header with no
// value PostContent supports.
type ErrNotAcceptable struct{ Accept string }

func (e *ErrNotAcceptable) Error() string {
	return fmt.Sprintf("Accept %q is not supported: use audio/mpeg, audio/ogg, audio/pcm, audio/* or text/plain; charset=utf-8", e.Accept)
}

// ParseAccept reads an Accept header. Lex accepts audio/mpeg, audio/ogg,
// audio/pcm, audio/* (meaning audio/mpeg) and text/plain; a list takes its
// first supported entry (q-values are not weighed: AWS clients send one
// value).
func ParseAccept(h string) (Accept, error) {
	if strings.TrimSpace(h) == "" {
		return Accept{}, nil
	}
	for _, part := range strings.Split(h, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "audio/mpeg", "audio/mp3", "audio/*":
			return Accept{Audio: true, Format: MPEG}, nil
		case "audio/ogg", "audio/vorbis":
			return Accept{Audio: true, Format: Ogg}, nil
		case "audio/pcm", "audio/l16", "audio/x-l16":
			return Accept{Audio: true, Format: PCM}, nil
		case "text/plain", "text/*", "*/*":
			return Accept{}, nil
		}
	}
	return Accept{}, &ErrNotAcceptable{Accept: h}
}

// Synthesizer speaks text. Paths are of the tools (empty: the format that
// needs it is unavailable).
type Synthesizer struct {
	Espeak, Lame, Oggenc string
	Runner               *proc.Runner
}

// MissingError names the tool and Debian package a format needs.
type MissingError struct {
	Format, Tool, Package string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s replies need %s (Debian package %s), which is not installed", e.Format, e.Tool, e.Package)
}

// Check reports whether format can be produced.
func (s *Synthesizer) Check(format string) error {
	if s.Espeak == "" {
		return &MissingError{Format: format, Tool: "espeak-ng", Package: "espeak-ng"}
	}
	switch format {
	case MPEG:
		if s.Lame == "" {
			return &MissingError{Format: format, Tool: "lame", Package: "lame"}
		}
	case Ogg:
		if s.Oggenc == "" {
			return &MissingError{Format: format, Tool: "oggenc", Package: "vorbis-tools"}
		}
	case PCM:
	default:
		return fmt.Errorf("tts: unknown format %q", format)
	}
	return nil
}

// MaxText bounds the text spoken (Lex messages are at most 1,000
// characters; SSML a little more).
const MaxText = 6000

// Result is a spoken reply.
type Result struct {
	ContentType string
	Audio       []byte
	// Samples and Rate describe the speech before encoding (its length is
	// len(Samples)/Rate seconds).
	Samples int
	Rate    int
}

// Synthesize speaks text with voice v as format. Empty text gives an
// empty body. Text starting with <speak> is SSML.
func (s *Synthesizer) Synthesize(ctx context.Context, text string, v Voice, format string) (Result, error) {
	if err := s.Check(format); err != nil {
		return Result{}, err
	}
	res := Result{ContentType: format}
	text = strings.TrimSpace(text)
	if text == "" {
		return res, nil
	}
	if len(text) > MaxText {
		return Result{}, fmt.Errorf("tts: %d characters is more than the %d spoken", len(text), MaxText)
	}
	args := []string{"--stdout", "-v", v.Espeak, "-p", strconv.Itoa(v.Pitch), "-s", strconv.Itoa(v.Speed)}
	if strings.HasPrefix(strings.ToLower(text), "<speak") {
		args = append(args, "-m")
	}
	args = append(args, "--stdin")
	wav, err := s.Runner.Run(ctx, proc.Cmd{Path: s.Espeak, Args: args, Stdin: []byte(text + "\n")})
	if err != nil {
		return Result{}, err
	}
	samples, rate, err := audio.ParseWAV(wav)
	if err != nil {
		return Result{}, fmt.Errorf("tts: espeak-ng output: %w", err)
	}
	res.Samples, res.Rate = len(samples), rate
	pcm := audio.PCMBytes(samples)
	switch format {
	case PCM:
		s16 := audio.Resample(samples, rate, audio.Rate)
		res.Audio, res.Samples, res.Rate = audio.PCMBytes(s16), len(s16), audio.Rate
	case MPEG:
		khz := strconv.FormatFloat(float64(rate)/1000, 'f', -1, 64)
		res.Audio, err = s.Runner.Run(ctx, proc.Cmd{Path: s.Lame, Stdin: pcm, Args: []string{
			"--silent", "-r", "-s", khz, "--bitwidth", "16", "--signed", "--little-endian", "-m", "m", "-b", "48", "-", "-"}})
	case Ogg:
		res.Audio, err = s.Runner.Run(ctx, proc.Cmd{Path: s.Oggenc, Stdin: pcm, Args: []string{
			"-Q", "-r", "-R", strconv.Itoa(rate), "-C", "1", "-B", "16", "-q", "3", "-"}})
	}
	if err != nil {
		return Result{}, err
	}
	return res, nil
}
