package audio

import (
	"time"

	"github.com/pion/opus"
)

// maxOpusPacket bounds one CBR packet (RFC 6716 allows 1275 bytes per
// frame and 48 frames per packet; real CBR packets are far smaller).
const maxOpusPacket = 8000

// decodeOpus decodes audio/x-cbr-opus-with-preamble: Format.Preamble bytes
// that are skipped, then back-to-back Opus packets (RFC 6716 §3, each
// beginning with its TOC byte) of exactly Format.PacketBytes bytes — the
// framing a constant bit rate and frame size imply, with no length
// prefixes. Packets are decoded in order by one decoder at 16 kHz mono.
// A packet whose TOC says narrowband or mediumband everywhere means the
// audio was captured at 8–12 kHz, which the recogniser cannot use (415).
func decodeOpus(f Format, body []byte, lim Limits) ([]int16, error) {
	if f.Preamble > len(body) {
		return nil, badRequest("truncated Opus audio: the body (%d bytes) is shorter than preamble-size=%d", len(body), f.Preamble)
	}
	data := body[f.Preamble:]
	size := f.PacketBytes()
	if len(data) == 0 {
		return nil, badRequest("the Opus audio holds no packets after the %d-byte preamble", f.Preamble)
	}
	if len(data)%size != 0 {
		return nil, badRequest("truncated Opus audio: %d bytes after the preamble is not a whole number of %d-byte packets (bit-rate=%d, frame-size-milliseconds=%g)", len(data), size, f.BitRate, f.FrameMillis)
	}
	dec, err := opus.NewDecoderWithOutput(Rate, 1)
	if err != nil {
		return nil, err
	}
	maxSamples := int(lim.MaxAudio / time.Second * Rate)
	buf := make([]int16, 120*Rate/1000) // the longest packet: 120 ms
	out := make([]int16, 0, len(data)/size*320)
	wide := false
	for i := 0; i < len(data); i += size {
		pkt := data[i : i+size]
		if cfg := pkt[0] >> 3; !(cfg <= 7 || (cfg >= 16 && cfg <= 19)) {
			wide = true
		}
		n, err := decodeOpusPacket(&dec, pkt, buf)
		if err != nil {
			return nil, badRequest("invalid Opus packet %d (bytes %d–%d after the preamble): %v", i/size+1, i, i+size-1, err)
		}
		out = append(out, buf[:n]...)
		if len(out) > maxSamples {
			return nil, tooLong("the audio is longer than %s; at most %s of audio is accepted", lim.MaxAudio, lim.MaxAudio)
		}
	}
	if !wide {
		return nil, narrowband("narrowband Opus audio (every packet is narrowband or mediumband, i.e. captured at 8–12 kHz)")
	}
	return out, nil
}

// decodeOpusPacket shields the caller from a decoder panic on hostile
// input: a bad packet is a client error, never a crash.
func decodeOpusPacket(dec *opus.Decoder, pkt []byte, buf []int16) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, errPanic{r}
		}
	}()
	return dec.DecodeToInt16(pkt, buf)
}

type errPanic struct{ v any }

func (e errPanic) Error() string { return "the decoder rejected the packet" }
