// Package audio owns the input side of speech: it turns a PostContent body
// of a given Content-Type into 16 kHz mono 16-bit PCM, the only format the
// recogniser takes, and it measures how much speech the body holds.
//
// Accepted Content-Types (Lex V1 PostContent, spec lex-v1.md §5.4):
//
//   - audio/l16; rate=R; channels=C and audio/x-l16; sample-rate=R;
//     channel-count=C: 16-bit little-endian PCM (Lex's byte order; RFC
//     2586's big-endian L16 is not what Lex clients send). Defaults 16000
//     Hz, 1 channel.
//   - audio/lpcm; sample-rate=R; sample-size-bits=16; channel-count=C;
//     is-big-endian=false|true: 16-bit PCM in either byte order.
//   - audio/wav, audio/x-wav, audio/wave, audio/vnd.wave — and any PCM type
//     above whose body starts with a RIFF/WAVE header: the header decides
//     (8/16/24/32-bit integer, 32-bit float, WAVE_FORMAT_EXTENSIBLE).
//   - audio/x-cbr-opus-with-preamble; preamble-size=P; bit-rate=B;
//     frame-size-milliseconds=F: P bytes of preamble, then constant-size
//     Opus packets of B·F/8000 bytes each, decoded in Go (pion/opus).
//
// Every channel layout is mixed down to mono and every rate above 16 kHz
// is resampled to 16 kHz (windowed-sinc). Rates below 16 kHz (8 kHz
// telephone audio, 11.025 and 12 kHz) and narrowband Opus are refused with
// 415: the only acoustic model Debian ships (pocketsphinx en-us) is
// wideband, and 8 kHz input — decoded natively or upsampled — is not
// recognised at all (dependencies.md §8), so refusing is the honest answer.
//
// Errors are *awserr.Error: 400 BadRequestException for malformed,
// truncated or oversized bodies, 415 UnsupportedMediaTypeException for
// formats outside the list, 408 RequestTimeoutException for more than
// Limits.MaxSpeech of speech (Lex's 15 s) or more than Limits.MaxAudio of
// audio in all.
package audio

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"

	"lextrail/internal/awserr"
)

// Rate is the sample rate of decoded audio (Hz).
const Rate = 16000

// Limits bound what Decode accepts. The zero value of each field is its
// documented default.
type Limits struct {
	// MaxBytes is the largest body read (default 16 MiB); a larger body is
	// refused with 400 before it is decoded.
	MaxBytes int64
	// MaxAudio is the longest audio decoded, speech or not (default 60 s);
	// longer → 408.
	MaxAudio time.Duration
	// MaxSpeech is the longest stretch from the first to the last frame of
	// speech (default 15 s, Lex's limit); longer → 408.
	MaxSpeech time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 16 << 20
	}
	if l.MaxAudio <= 0 {
		l.MaxAudio = 60 * time.Second
	}
	if l.MaxSpeech <= 0 {
		l.MaxSpeech = 15 * time.Second
	}
	return l
}

// Clip is decoded audio: 16 kHz mono samples and what they came from.
type Clip struct {
	Samples []int16
	Format  Format
	// SourceRate and SourceChannels describe the body as sent.
	SourceRate     int
	SourceChannels int
	// Speech is the span from the first to the last frame of speech.
	Speech time.Duration
}

// Duration is the clip's length.
func (c *Clip) Duration() time.Duration {
	return time.Duration(len(c.Samples)) * time.Second / Rate
}

// Bytes returns the samples as 16-bit little-endian PCM.
func (c *Clip) Bytes() []byte { return PCMBytes(c.Samples) }

// PCMBytes encodes samples as 16-bit little-endian PCM.
func PCMBytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		b[2*i] = byte(v)
		b[2*i+1] = byte(uint16(v) >> 8)
	}
	return b
}

// Error constructors (Lex runtime codes).

func badRequest(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "BadRequestException", format, args...)
}

func unsupported(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusUnsupportedMediaType, "UnsupportedMediaTypeException", format, args...)
}

func tooLong(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusRequestTimeout, "RequestTimeoutException", format, args...)
}

// narrowband is the refusal of audio below 16 kHz.
func narrowband(what string) *awserr.Error {
	return unsupported("%s is not supported: the recogniser's acoustic model (pocketsphinx en-us) is wideband and does not recognise 8 kHz-class audio; send 16 kHz audio (audio/l16; rate=16000; channels=1)", what)
}

// Decode reads a body of Content-Type ct and returns it as 16 kHz mono PCM.
// It reads at most lim.MaxBytes+1 bytes of r.
func Decode(ct string, r io.Reader, lim Limits) (*Clip, error) {
	lim = lim.withDefaults()
	f, err := ParseContentType(ct)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, badRequest("reading the audio body: %v", err)
	}
	if int64(len(body)) > lim.MaxBytes {
		return nil, badRequest("the audio body is larger than %d bytes", lim.MaxBytes)
	}
	return DecodeBytes(f, body, lim)
}

// DecodeBytes decodes a body already read.
func DecodeBytes(f Format, body []byte, lim Limits) (*Clip, error) {
	lim = lim.withDefaults()
	if len(body) == 0 {
		return nil, badRequest("the audio body is empty")
	}
	if f.Kind == KindPCM && isRIFF(body) {
		f.Kind = KindWAV
	}
	var (
		pcm  *pcmData
		err  error
		clip = &Clip{Format: f}
	)
	switch f.Kind {
	case KindOpus:
		clip.Samples, err = decodeOpus(f, body, lim)
		if err != nil {
			return nil, err
		}
		clip.SourceRate, clip.SourceChannels = Rate, 1
	case KindWAV:
		pcm, err = parseWAV(body)
	default:
		pcm, err = parseRaw(f, body)
	}
	if err != nil {
		return nil, err
	}
	if pcm != nil {
		clip.SourceRate, clip.SourceChannels = pcm.rate, pcm.channels
		if pcm.rate < Rate {
			return nil, narrowband(fmt.Sprintf("audio sampled at %d Hz", pcm.rate))
		}
		if pcm.rate > 192000 {
			return nil, unsupported("a sample rate of %d Hz is not supported", pcm.rate)
		}
		frames := pcm.frames()
		if frames == 0 {
			return nil, badRequest("the audio holds no samples")
		}
		if d := time.Duration(frames) * time.Second / time.Duration(pcm.rate); d > lim.MaxAudio {
			return nil, tooLong("the audio is %s long; at most %s of audio is accepted", d.Round(time.Millisecond), lim.MaxAudio)
		}
		clip.Samples = Resample(pcm.mono(), pcm.rate, Rate)
	}
	if d := clip.Duration(); d > lim.MaxAudio {
		return nil, tooLong("the audio is %s long; at most %s of audio is accepted", d.Round(time.Millisecond), lim.MaxAudio)
	}
	clip.Speech = SpeechSpan(clip.Samples, Rate)
	if clip.Speech > lim.MaxSpeech {
		return nil, tooLong("the input holds %s of speech; Amazon Lex listens to at most %s", clip.Speech.Round(10*time.Millisecond), lim.MaxSpeech)
	}
	return clip, nil
}

func isRIFF(b []byte) bool {
	return len(b) >= 12 && bytes.Equal(b[0:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WAVE"))
}

// pcmData is interleaved integer PCM normalised to int16.
type pcmData struct {
	rate, channels int
	s              []int16 // interleaved
}

func (p *pcmData) frames() int { return len(p.s) / p.channels }

func (p *pcmData) mono() []int16 {
	if p.channels == 1 {
		return p.s
	}
	n := p.frames()
	out := make([]int16, n)
	for i := 0; i < n; i++ {
		sum := 0
		for c := 0; c < p.channels; c++ {
			sum += int(p.s[i*p.channels+c])
		}
		out[i] = int16(sum / p.channels)
	}
	return out
}

func parseRaw(f Format, body []byte) (*pcmData, error) {
	frame := 2 * f.Channels
	if len(body)%frame != 0 {
		return nil, badRequest("truncated audio: %d bytes is not a whole number of %d-byte sample frames (16-bit, %d channel(s))", len(body), frame, f.Channels)
	}
	s := make([]int16, len(body)/2)
	for i := range s {
		if f.BigEndian {
			s[i] = int16(uint16(body[2*i])<<8 | uint16(body[2*i+1]))
		} else {
			s[i] = int16(uint16(body[2*i]) | uint16(body[2*i+1])<<8)
		}
	}
	return &pcmData{rate: f.Rate, channels: f.Channels, s: s}, nil
}
