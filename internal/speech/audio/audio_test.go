package audio_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/speech/audio"
	"lextrail/internal/speech/speechtest"
)

// tone makes a sine of freq Hz at rate, amplitude amp (0..1), for d.
func tone(freq float64, rate int, amp float64, d time.Duration) []int16 {
	n := int(d * time.Duration(rate) / time.Second)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return s
}

// burst is "speech-like": 20 ms-modulated tone bursts over a quiet floor.
func burst(rate int, d time.Duration) []int16 {
	s := tone(440, rate, 0.3, d)
	rnd := rand.New(rand.NewSource(1))
	for i := range s {
		if (i/(rate/5))%3 == 2 { // a 200 ms gap every 600 ms, like words
			s[i] = int16(rnd.Intn(64) - 32)
		}
	}
	return s
}

func silence(rate int, d time.Duration) []int16 {
	return make([]int16, int(d*time.Duration(rate)/time.Second))
}

func le16(s []int16) []byte { return audio.PCMBytes(s) }

func be16(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.BigEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func stereo(l, r []int16) []int16 {
	out := make([]int16, 2*len(l))
	for i := range l {
		out[2*i], out[2*i+1] = l[i], r[i]
	}
	return out
}

// wavBytes writes a WAV of any format: data is the raw sample bytes.
func wavBytes(format, channels, rate, bits int, data []byte, opts ...func([]byte) []byte) []byte {
	var b bytes.Buffer
	fmtChunk := make([]byte, 16)
	binary.LittleEndian.PutUint16(fmtChunk[0:], uint16(format))
	binary.LittleEndian.PutUint16(fmtChunk[2:], uint16(channels))
	binary.LittleEndian.PutUint32(fmtChunk[4:], uint32(rate))
	binary.LittleEndian.PutUint32(fmtChunk[8:], uint32(rate*channels*bits/8))
	binary.LittleEndian.PutUint16(fmtChunk[12:], uint16(channels*bits/8))
	binary.LittleEndian.PutUint16(fmtChunk[14:], uint16(bits))
	if format == 0xFFFE {
		ext := make([]byte, 24)
		binary.LittleEndian.PutUint16(ext[0:], 22)
		binary.LittleEndian.PutUint16(ext[2:], uint16(bits))
		binary.LittleEndian.PutUint16(ext[8:], 1) // KSDATAFORMAT_SUBTYPE_PCM
		fmtChunk = append(fmtChunk, ext...)
	}
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+len(fmtChunk)+8+8+len(data)))
	b.WriteString("WAVE")
	b.WriteString("fmt ")
	binary.Write(&b, binary.LittleEndian, uint32(len(fmtChunk)))
	b.Write(fmtChunk)
	b.WriteString("LIST") // an odd-sized chunk to skip, with its pad byte
	binary.Write(&b, binary.LittleEndian, uint32(3))
	b.WriteString("abc\x00")
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	out := b.Bytes()
	for _, o := range opts {
		out = o(out)
	}
	return out
}

func code(err error) (string, int) {
	var e *awserr.Error
	if errors.As(err, &e) {
		return e.Code, e.Status
	}
	if err != nil {
		return "untyped:" + err.Error(), 0
	}
	return "", 0
}

// dominant returns the frequency (Hz, 10 Hz steps) of the strongest DFT
// bin of the first 4096 samples.
func dominant(s []int16, rate int) float64 {
	n := 4096
	if len(s) < n {
		n = len(s)
	}
	best, bestF := 0.0, 0.0
	for f := 50.0; f < float64(rate)/2; f += 10 {
		a := 2 * math.Pi * f / float64(rate)
		sr, si := math.Cos(a), math.Sin(a)
		cr, ci := 1.0, 0.0 // rotating phasor
		var re, im float64
		for i := 0; i < n; i++ {
			re += float64(s[i]) * cr
			im += float64(s[i]) * ci
			cr, ci = cr*sr-ci*si, cr*si+ci*sr
		}
		if p := re*re + im*im; p > best {
			best, bestF = p, f
		}
	}
	return bestF
}

func rms(s []int16) float64 {
	sum := 0.0
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

func TestParseContentType(t *testing.T) {
	for _, c := range []struct {
		ct       string
		kind     audio.Kind
		rate, ch int
		be       bool
		pkt      int
		code     string
	}{
		{"audio/l16; rate=16000; channels=1", audio.KindPCM, 16000, 1, false, 0, ""},
		{"audio/L16;rate=44100;channels=2", audio.KindPCM, 44100, 2, false, 0, ""},
		{"audio/x-l16; sample-rate=16000; channel-count=1", audio.KindPCM, 16000, 1, false, 0, ""},
		{"audio/lpcm; sample-rate=22050; sample-size-bits=16; channel-count=1; is-big-endian=false", audio.KindPCM, 22050, 1, false, 0, ""},
		{"audio/lpcm; sample-rate=16000; sample-size-bits=16; channel-count=1; is-big-endian=true", audio.KindPCM, 16000, 1, true, 0, ""},
		{"audio/l16", audio.KindPCM, 16000, 1, false, 0, ""},
		{"audio/wav", audio.KindWAV, 16000, 1, false, 0, ""},
		{"audio/x-wav", audio.KindWAV, 16000, 1, false, 0, ""},
		{"audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=256000; frame-size-milliseconds=4", audio.KindOpus, 16000, 1, false, 128, ""},
		{"audio/x-cbr-opus-with-preamble;preamble-size=3;bit-rate=32000;frame-size-milliseconds=20", audio.KindOpus, 16000, 1, false, 80, ""},
		{"audio/x-cbr-opus-with-preamble", audio.KindOpus, 16000, 1, false, 128, ""},
		// refused
		{"audio/lpcm; sample-rate=8000; sample-size-bits=16; channel-count=1; is-big-endian=false", 0, 0, 0, false, 0, "UnsupportedMediaTypeException"},
		{"audio/l16; rate=11025", 0, 0, 0, false, 0, "UnsupportedMediaTypeException"},
		{"audio/lpcm; sample-rate=16000; sample-size-bits=8", 0, 0, 0, false, 0, "UnsupportedMediaTypeException"},
		{"audio/l16; rate=16000; channels=9", 0, 0, 0, false, 0, "UnsupportedMediaTypeException"},
		{"audio/mpeg", 0, 0, 0, false, 0, "UnsupportedMediaTypeException"},
		{"video/mp4", 0, 0, 0, false, 0, "UnsupportedMediaTypeException"},
		{"audio/l16; rate=fast", 0, 0, 0, false, 0, "BadRequestException"},
		{"audio/l16; rate=0", 0, 0, 0, false, 0, "BadRequestException"},
		{"audio/lpcm; is-big-endian=maybe", 0, 0, 0, false, 0, "BadRequestException"},
		{"audio/x-cbr-opus-with-preamble; bit-rate=1000; frame-size-milliseconds=1.1", 0, 0, 0, false, 0, "BadRequestException"},
		{"audio/x-cbr-opus-with-preamble; frame-size-milliseconds=nan", 0, 0, 0, false, 0, "BadRequestException"},
		{"audio/x-cbr-opus-with-preamble; bit-rate=64000000; frame-size-milliseconds=20", 0, 0, 0, false, 0, "UnsupportedMediaTypeException"},
		{";;;", 0, 0, 0, false, 0, "BadRequestException"},
	} {
		f, err := audio.ParseContentType(c.ct)
		got, _ := code(err)
		if got != c.code {
			t.Errorf("%q: error %q (%v), want %q", c.ct, got, err, c.code)
			continue
		}
		if c.code != "" {
			continue
		}
		if f.Kind != c.kind || (c.kind == audio.KindPCM && (f.Rate != c.rate || f.Channels != c.ch || f.BigEndian != c.be)) || (c.kind == audio.KindOpus && f.PacketBytes() != c.pkt) {
			t.Errorf("%q: %+v (packet %d)", c.ct, f, f.PacketBytes())
		}
	}
	if !audio.IsAudio("audio/l16; rate=16000") || audio.IsAudio("text/plain; charset=utf-8") || !audio.IsAudio("AUDIO/whatever;;") {
		t.Error("IsAudio")
	}
}

func TestDecodePCMAndWAV(t *testing.T) {
	sp16 := burst(16000, 2*time.Second)
	sp44 := burst(44100, 2*time.Second)
	sp22 := burst(22050, 2*time.Second)
	f32 := func(s []int16) []byte {
		b := make([]byte, 4*len(s))
		for i, v := range s {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(v)/32768))
		}
		return b
	}
	b24 := func(s []int16) []byte {
		b := make([]byte, 3*len(s))
		for i, v := range s {
			b[3*i+1], b[3*i+2] = byte(v), byte(uint16(v)>>8)
		}
		return b
	}
	b8 := func(s []int16) []byte {
		b := make([]byte, len(s))
		for i, v := range s {
			b[i] = byte(int(v>>8) + 128)
		}
		return b
	}
	b32 := func(s []int16) []byte {
		b := make([]byte, 4*len(s))
		for i, v := range s {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(int32(v)<<16))
		}
		return b
	}
	streamed := func(b []byte) []byte { // espeak-ng --stdout style sizes
		c := append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(c[4:], 0x7ffff024)
		i := bytes.Index(c, []byte("data"))
		binary.LittleEndian.PutUint32(c[i+4:], 0x7ffff000)
		return c
	}
	for _, c := range []struct {
		name, ct string
		body     []byte
		srcRate  int
		srcCh    int
	}{
		{"l16 16k mono", "audio/l16; rate=16000; channels=1", le16(sp16), 16000, 1},
		{"x-l16 44.1k stereo", "audio/x-l16; sample-rate=44100; channel-count=2", le16(stereo(sp44, sp44)), 44100, 2},
		{"lpcm big-endian", "audio/lpcm; sample-rate=16000; sample-size-bits=16; channel-count=1; is-big-endian=true", be16(sp16), 16000, 1},
		{"lpcm 22.05k", "audio/lpcm; sample-rate=22050; sample-size-bits=16; channel-count=1; is-big-endian=false", le16(sp22), 22050, 1},
		{"wav 16-bit 22.05k", "audio/wav", wavBytes(1, 1, 22050, 16, le16(sp22)), 22050, 1},
		{"wav under l16 type", "audio/l16; rate=16000; channels=1", wavBytes(1, 2, 44100, 16, le16(stereo(sp44, sp44))), 44100, 2},
		{"wav float32 44.1k", "audio/x-wav", wavBytes(3, 1, 44100, 32, f32(sp44)), 44100, 1},
		{"wav 24-bit 44.1k", "audio/wav", wavBytes(1, 1, 44100, 24, b24(sp44)), 44100, 1},
		{"wav 32-bit", "audio/wav", wavBytes(1, 1, 16000, 32, b32(sp16)), 16000, 1},
		{"wav 8-bit", "audio/wav", wavBytes(1, 1, 16000, 8, b8(sp16)), 16000, 1},
		{"wav extensible 48k", "audio/wav", wavBytes(0xFFFE, 1, 48000, 16, le16(burst(48000, 2*time.Second))), 48000, 1},
		{"wav streamed sizes", "audio/wav", wavBytes(1, 1, 22050, 16, le16(sp22), streamed), 22050, 1},
	} {
		clip, err := audio.Decode(c.ct, bytes.NewReader(c.body), audio.Limits{})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if clip.SourceRate != c.srcRate || clip.SourceChannels != c.srcCh {
			t.Errorf("%s: source %d Hz × %d", c.name, clip.SourceRate, clip.SourceChannels)
		}
		if d := clip.Duration(); d < 1990*time.Millisecond || d > 2010*time.Millisecond {
			t.Errorf("%s: duration %s", c.name, d)
		}
		if f := dominant(clip.Samples[:4096], audio.Rate); math.Abs(f-440) > 10 {
			t.Errorf("%s: dominant %.0f Hz, want 440", c.name, f)
		}
		if r := rms(clip.Samples[:3200]); r < 0.3*32767/math.Sqrt2*0.9 || r > 0.3*32767/math.Sqrt2*1.1 {
			t.Errorf("%s: rms %.0f", c.name, r)
		}
		if clip.Speech < 1500*time.Millisecond || clip.Speech > 2*time.Second {
			t.Errorf("%s: speech %s", c.name, clip.Speech)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	sp := burst(16000, time.Second)
	good := wavBytes(1, 1, 16000, 16, le16(sp))
	dataAt := bytes.Index(good, []byte("data"))
	long := burst(16000, 17*time.Second)
	for _, c := range []struct {
		name, ct string
		body     []byte
		lim      audio.Limits
		code     string
		status   int
		msg      string
	}{
		{"empty", "audio/l16; rate=16000; channels=1", nil, audio.Limits{}, "BadRequestException", 400, "empty"},
		{"odd length", "audio/l16; rate=16000; channels=1", le16(sp)[:3201], audio.Limits{}, "BadRequestException", 400, "truncated"},
		{"stereo half frame", "audio/l16; rate=16000; channels=2", le16(sp)[:3202], audio.Limits{}, "BadRequestException", 400, "truncated"},
		{"8 kHz lpcm", "audio/lpcm; sample-rate=8000; sample-size-bits=16; channel-count=1; is-big-endian=false", le16(sp), audio.Limits{}, "UnsupportedMediaTypeException", 415, "16 kHz"},
		{"8 kHz wav", "audio/wav", wavBytes(1, 1, 8000, 16, le16(sp)), audio.Limits{}, "UnsupportedMediaTypeException", 415, "8000 Hz"},
		{"11.025 kHz wav", "audio/wav", wavBytes(1, 1, 11025, 16, le16(sp)), audio.Limits{}, "UnsupportedMediaTypeException", 415, "11025 Hz"},
		{"wav header only", "audio/wav", good[:20], audio.Limits{}, "BadRequestException", 400, "truncated"},
		{"wav no data chunk", "audio/wav", good[:dataAt], audio.Limits{}, "BadRequestException", 400, "no data chunk"},
		{"wav truncated data", "audio/wav", good[:len(good)-1000], audio.Limits{}, "BadRequestException", 400, "truncated WAV"},
		{"wav adpcm", "audio/wav", wavBytes(2, 1, 16000, 4, make([]byte, 100)), audio.Limits{}, "UnsupportedMediaTypeException", 415, "format 2"},
		{"wav bad align", "audio/wav", func() []byte {
			b := append([]byte(nil), good...)
			binary.LittleEndian.PutUint16(b[32:], 3)
			return b
		}(), audio.Limits{}, "BadRequestException", 400, "block align"},
		{"not riff", "audio/wav", []byte("this is not a wave file at all"), audio.Limits{}, "BadRequestException", 400, "RIFF"},
		{"too big", "audio/l16; rate=16000; channels=1", make([]byte, 2001), audio.Limits{MaxBytes: 2000}, "BadRequestException", 400, "larger than 2000 bytes"},
		{"too much audio", "audio/l16; rate=16000; channels=1", make([]byte, 16000*2*3), audio.Limits{MaxAudio: 2 * time.Second}, "RequestTimeoutException", 408, "at most 2s"},
		{"too much speech", "audio/l16; rate=16000; channels=1", le16(long), audio.Limits{}, "RequestTimeoutException", 408, "15s"},
		{"unsupported type", "audio/ogg", le16(sp), audio.Limits{}, "UnsupportedMediaTypeException", 415, "audio/ogg"},
		{"opus shorter than preamble", "audio/x-cbr-opus-with-preamble; preamble-size=10; bit-rate=32000; frame-size-milliseconds=20", []byte("short"), audio.Limits{}, "BadRequestException", 400, "preamble"},
		{"opus partial packet", "audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=32000; frame-size-milliseconds=20", make([]byte, 81), audio.Limits{}, "BadRequestException", 400, "whole number of 80-byte packets"},
		{"opus only preamble", "audio/x-cbr-opus-with-preamble; preamble-size=4; bit-rate=32000; frame-size-milliseconds=20", []byte("abcd"), audio.Limits{}, "BadRequestException", 400, "no packets"},
		{"opus invalid packet", "audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=32000; frame-size-milliseconds=20", append([]byte{0x4b, 0x00}, make([]byte, 78)...), audio.Limits{}, "BadRequestException", 400, "invalid Opus packet 1"},
	} {
		_, err := audio.Decode(c.ct, bytes.NewReader(c.body), c.lim)
		got, status := code(err)
		if got != c.code || status != c.status || (err != nil && !strings.Contains(err.Error(), c.msg)) {
			t.Errorf("%s: %v (%s %d), want %s %d containing %q", c.name, err, got, status, c.code, c.status, c.msg)
		}
	}
}

func TestGarbageIsNoise(t *testing.T) {
	// Any byte string of even length is valid 16-bit PCM: it decodes (as
	// noise) and holds no speech; recognition then reports no match.
	rnd := rand.New(rand.NewSource(7))
	b := make([]byte, 32000*3)
	rnd.Read(b)
	clip, err := audio.Decode("audio/l16; rate=16000; channels=1", bytes.NewReader(b), audio.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if clip.Speech != 0 {
		t.Errorf("white noise holds %s of speech", clip.Speech)
	}
	clip, err = audio.Decode("audio/l16; rate=16000; channels=1", bytes.NewReader(make([]byte, 32000)), audio.Limits{})
	if err != nil || clip.Speech != 0 {
		t.Errorf("silence: %v, speech %v", err, clip)
	}
}

func TestResample(t *testing.T) {
	for _, in := range []int{16000, 22050, 24000, 32000, 44100, 48000, 96000, 22051} {
		s := tone(1000, in, 0.5, time.Second)
		out := audio.Resample(s, in, 16000)
		if len(out) < 15999 || len(out) > 16001 {
			t.Errorf("%d Hz: %d samples", in, len(out))
		}
		if f := dominant(out[4000:8096], 16000); math.Abs(f-1000) > 10 {
			t.Errorf("%d Hz: dominant %.0f", in, f)
		}
		if r := rms(out[1000:15000]); math.Abs(r-0.5*32767/math.Sqrt2) > 0.01*32767 {
			t.Errorf("%d Hz: rms %.0f", in, r)
		}
		// a tone above the new Nyquist frequency must not alias into the band
		if in > 20000 {
			hi := audio.Resample(tone(10000, in, 0.5, time.Second), in, 16000)
			if r := rms(hi[1000:15000]); r > 0.5*32767*0.001 { // ≥ 60 dB down
				t.Errorf("%d Hz: 10 kHz tone leaks at rms %.1f", in, r)
			}
		}
	}
}

func TestSpeechSpan(t *testing.T) {
	s := append(silence(16000, time.Second), burst(16000, 3*time.Second)...)
	s = append(s, silence(16000, 2*time.Second)...)
	if d := audio.SpeechSpan(s, 16000); d < 2700*time.Millisecond || d > 3*time.Second {
		t.Errorf("span %s, want about 3s", d)
	}
	if d := audio.SpeechSpan(tone(440, 16000, 0.5, 3*time.Second), 16000); d != 0 {
		t.Errorf("a steady tone holds %s of speech", d)
	}
}

func TestWAVRoundTrip(t *testing.T) {
	s := burst(22050, time.Second)
	got, rate, err := audio.ParseWAV(audio.WAV(s, 22050))
	if err != nil || rate != 22050 || len(got) != len(s) || got[100] != s[100] {
		t.Fatalf("round trip: %v %d %d", err, rate, len(got))
	}
}

// TestOpus decodes opusenc --hard-cbr output framed as Lex's
// audio/x-cbr-opus-with-preamble and compares it with the input.
func TestOpus(t *testing.T) {
	speechtest.Require(t, "opusenc")
	src := burst(16000, 2*time.Second)
	for _, c := range []struct {
		kbps     int
		ms       float64
		preamble int
		extra    []string
	}{
		{32, 20, 0, nil},
		{64, 10, 7, nil},
		{256, 20, 0, nil},
		{128, 5, 3, []string{"--music"}},
		{24, 20, 0, []string{"--speech"}},
	} {
		pkts := speechtest.OpusCBR(t, src, 16000, c.kbps, c.ms, c.extra...)
		pre := bytes.Repeat([]byte{0xA5}, c.preamble)
		body := append(pre, bytes.Join(pkts, nil)...)
		ct := fmt.Sprintf("audio/x-cbr-opus-with-preamble; preamble-size=%d; bit-rate=%d; frame-size-milliseconds=%g", c.preamble, c.kbps*1000, c.ms)
		clip, err := audio.Decode(ct, bytes.NewReader(body), audio.Limits{})
		if err != nil {
			t.Errorf("%s: %v", ct, err)
			continue
		}
		// opusenc adds 6.5 ms of pre-skip and pads the last packet
		if d := clip.Duration(); d < 2*time.Second || d > 2*time.Second+time.Duration(c.ms*2)*time.Millisecond+10*time.Millisecond {
			t.Errorf("%s: duration %s", ct, d)
		}
		if f := dominant(clip.Samples[2000:6096], audio.Rate); math.Abs(f-440) > 10 {
			t.Errorf("%s: dominant %.0f Hz", ct, f)
		}
		if r, want := rms(clip.Samples[1000:3000]), rms(src[1000:3000]); math.Abs(r-want) > 0.15*want {
			t.Errorf("%s: rms %.0f, source %.0f", ct, r, want)
		}
		// a truncated stream: drop the last half packet
		_, err = audio.Decode(ct, bytes.NewReader(body[:len(body)-len(pkts[0])/2]), audio.Limits{})
		if got, _ := code(err); got != "BadRequestException" {
			t.Errorf("%s truncated: %v", ct, err)
		}
	}
	// narrowband Opus (from 8 kHz audio) is refused like 8 kHz PCM
	// (opusenc resamples to 48 kHz and would code wideband: request narrowband, OPUS_SET_BANDWIDTH(NB))
	nb := speechtest.OpusCBR(t, burst(8000, 2*time.Second), 8000, 16, 20, "--set-ctl-int", "4008=1101")
	_, err := audio.Decode("audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=16000; frame-size-milliseconds=20", bytes.NewReader(bytes.Join(nb, nil)), audio.Limits{})
	if got, status := code(err); got != "UnsupportedMediaTypeException" || status != 415 || !strings.Contains(err.Error(), "narrowband") {
		t.Errorf("narrowband opus: %v", err)
	}
}
