package audio_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/speech/audio"
)

// FuzzDecode: any Content-Type and body either decodes to 16 kHz samples
// or fails with a 400, 408 or 415 AWS error — never a panic, never an
// untyped error. The seed corpus runs as a normal test.
func FuzzDecode(f *testing.F) {
	sp := le16(burst(16000, 200*time.Millisecond))
	wav := wavBytes(1, 2, 22050, 16, le16(stereo(burst(22050, 100*time.Millisecond), burst(22050, 100*time.Millisecond))))
	for _, s := range []struct {
		ct   string
		body []byte
	}{
		{"audio/l16; rate=16000; channels=1", sp},
		{"audio/x-l16; sample-rate=44100; channel-count=2", sp},
		{"audio/lpcm; sample-rate=16000; sample-size-bits=16; channel-count=1; is-big-endian=true", sp},
		{"audio/wav", wav},
		{"audio/wav", wav[:60]},
		{"audio/l16; rate=16000; channels=1", wav},
		{"audio/wav", wavBytes(3, 1, 48000, 32, make([]byte, 400))},
		{"audio/wav", wavBytes(0xFFFE, 1, 48000, 24, make([]byte, 300))},
		{"audio/x-cbr-opus-with-preamble; preamble-size=2; bit-rate=32000; frame-size-milliseconds=20", append([]byte{1, 2}, bytes.Repeat([]byte{0x48, 0x0b, 0xe4, 0x29}, 40)...)},
		{"audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=8000; frame-size-milliseconds=10", bytes.Repeat([]byte{0xfc, 0xff, 0xfe, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}, 20)},
		{"audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=1600; frame-size-milliseconds=10", bytes.Repeat([]byte{0x03, 0x03}, 30)},
		{"audio/ogg", []byte("OggS")},
		{"text/plain", []byte("hello")},
		{"audio/l16; rate=16000; channels=1", nil},
	} {
		f.Add(s.ct, s.body)
	}
	lim := audio.Limits{MaxBytes: 1 << 20, MaxAudio: 20 * time.Second}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		clip, err := audio.Decode(ct, bytes.NewReader(body), lim)
		if err != nil {
			var e *awserr.Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if e.Status != 400 && e.Status != 408 && e.Status != 415 {
				t.Fatalf("status %d: %v", e.Status, err)
			}
			return
		}
		if len(clip.Samples) == 0 || clip.Duration() > lim.MaxAudio {
			t.Fatalf("decoded %d samples", len(clip.Samples))
		}
	})
}
