package audio

import (
	"math"
	"mime"
	"strconv"
	"strings"
)

// Kind is the container/codec family of a body.
type Kind int

const (
	KindPCM  Kind = iota + 1 // headerless 16-bit PCM
	KindWAV                  // RIFF/WAVE
	KindOpus                 // constant-bit-rate Opus packets after a preamble
)

// Format is a parsed audio Content-Type.
type Format struct {
	Kind      Kind
	MediaType string // lower-case type/subtype
	// PCM parameters (KindPCM).
	Rate      int
	Channels  int
	BigEndian bool
	// Opus parameters (KindOpus).
	Preamble    int     // bytes skipped before the first packet
	BitRate     int     // bits per second
	FrameMillis float64 // milliseconds per packet
}

// PacketBytes is the size of one Opus packet: BitRate·FrameMillis/8000.
func (f Format) PacketBytes() int {
	return int(math.Round(float64(f.BitRate) * f.FrameMillis / 8000))
}

// IsAudio reports whether ct names an audio type (audio/*), the
// PostContent bodies that need the recogniser.
func IsAudio(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "audio/")
	}
	return strings.HasPrefix(mt, "audio/")
}

// ParseContentType parses an audio Content-Type. Unknown audio types and
// unsupported parameters give 415; malformed parameters 400.
func ParseContentType(ct string) (Format, error) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return Format{}, badRequest("malformed Content-Type %q: %v", ct, err)
	}
	f := Format{MediaType: mt, Rate: Rate, Channels: 1}
	intParam := func(names ...string) (int, bool, error) {
		for _, n := range names {
			v, ok := params[n]
			if !ok {
				continue
			}
			i, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || i < 0 {
				return 0, true, badRequest("Content-Type parameter %s=%q is not a non-negative integer", n, v)
			}
			return i, true, nil
		}
		return 0, false, nil
	}
	switch mt {
	case "audio/l16", "audio/x-l16", "audio/lpcm":
		f.Kind = KindPCM
		rate, ok, err := intParam("rate", "sample-rate")
		if err != nil {
			return f, err
		}
		if ok {
			f.Rate = rate
		}
		ch, ok, err := intParam("channels", "channel-count")
		if err != nil {
			return f, err
		}
		if ok {
			f.Channels = ch
		}
		bits, ok, err := intParam("sample-size-bits")
		if err != nil {
			return f, err
		}
		if ok && bits != 16 {
			return f, unsupported("%s with sample-size-bits=%d is not supported: only 16-bit PCM", mt, bits)
		}
		if v, ok := params["is-big-endian"]; ok {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				f.BigEndian = true
			case "false":
			default:
				return f, badRequest("Content-Type parameter is-big-endian=%q is not true or false", v)
			}
		}
		if f.Channels < 1 || f.Channels > 8 {
			return f, unsupported("%d channels are not supported (1 to 8)", f.Channels)
		}
		if f.Rate == 0 {
			return f, badRequest("a sample rate of 0 Hz is not valid")
		}
		if f.Rate < Rate {
			return f, narrowband(strconv.Itoa(f.Rate) + " Hz audio")
		}
		if f.Rate > 192000 {
			return f, unsupported("a sample rate of %d Hz is not supported", f.Rate)
		}
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		f.Kind = KindWAV
	case "audio/x-cbr-opus-with-preamble":
		f.Kind = KindOpus
		f.BitRate, f.FrameMillis = 256000, 4 // the values Lex documents
		p, _, err := intParam("preamble-size")
		if err != nil {
			return f, err
		}
		f.Preamble = p
		br, ok, err := intParam("bit-rate")
		if err != nil {
			return f, err
		}
		if ok {
			f.BitRate = br
		}
		if v, ok := params["frame-size-milliseconds"]; ok {
			ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || ms <= 0 || math.IsInf(ms, 0) || math.IsNaN(ms) {
				return f, badRequest("Content-Type parameter frame-size-milliseconds=%q is not a positive number", v)
			}
			f.FrameMillis = ms
		}
		exact := float64(f.BitRate) * f.FrameMillis / 8000
		if f.BitRate <= 0 || math.Abs(exact-math.Round(exact)) > 1e-6 || exact < 1 {
			return f, badRequest("bit-rate=%d with frame-size-milliseconds=%g does not give a whole number of bytes per Opus packet", f.BitRate, f.FrameMillis)
		}
		if exact > maxOpusPacket {
			return f, unsupported("Opus packets of %.0f bytes are larger than %d bytes", exact, maxOpusPacket)
		}
	default:
		return f, unsupported("Content-Type %q is not supported: send audio/l16, audio/x-l16, audio/lpcm (16-bit PCM), audio/wav, audio/x-cbr-opus-with-preamble or text/plain", mt)
	}
	return f, nil
}
