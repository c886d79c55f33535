package tts_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"lextrail/internal/speech/proc"
	"lextrail/internal/speech/speechtest"
	"lextrail/internal/speech/tts"
)

func TestParseAccept(t *testing.T) {
	for _, c := range []struct {
		h      string
		audio  bool
		format string
		bad    bool
	}{
		{"audio/mpeg", true, tts.MPEG, false},
		{"audio/ogg", true, tts.Ogg, false},
		{"audio/pcm", true, tts.PCM, false},
		{"audio/*", true, tts.MPEG, false},
		{"text/plain; charset=utf-8", false, "", false},
		{"", false, "", false},
		{"application/json, audio/ogg", true, tts.Ogg, false},
		{"video/mp4", false, "", true},
		{"audio/flac", false, "", true},
	} {
		a, err := tts.ParseAccept(c.h)
		var na *tts.ErrNotAcceptable
		if c.bad != errors.As(err, &na) || a.Audio != c.audio || a.Format != c.format {
			t.Errorf("%q: %+v %v", c.h, a, err)
		}
	}
}

func TestVoiceFor(t *testing.T) {
	for _, c := range []struct{ id, locale, espeak, gender string }{
		{"Salli", "en-US", "en-us+f3", "Female"},
		{"Joanna", "en-US", "en-us+f2", "Female"},
		{"Kendra", "en-US", "en-us+f4", "Female"},
		{"Kimberly", "en-US", "en-us+f5", "Female"},
		{"Ivy", "en-US", "en-us+f1", "Female"},
		{"Joey", "en-US", "en-us+m3", "Male"},
		{"Justin", "en-US", "en-us+m5", "Male"},
		{"Matthew", "en-US", "en-us+m1", "Male"},
		{"Amy", "en-GB", "en-gb+f2", "Female"},
		{"Emma", "en-GB", "en-gb+f3", "Female"},
		{"Brian", "en-GB", "en-gb+m3", "Male"},
		{"Penélope", "es-US", "es-419+f3", "Female"},
		{"Penelope", "es-US", "es-419+f3", "Female"},
		{"Miguel", "es-US", "es-419+m2", "Male"},
		{"Lupe", "es-US", "es-419+f4", "Female"},
		{"Conchita", "es-ES", "es+f2", "Female"},
		{"Enrique", "es-ES", "es+m3", "Male"},
		{"Lucia", "es-ES", "es+f3", "Female"},
		{"Mia", "es-MX", "es-419+f2", "Female"},
		{"", "es-ES", "es+f2", "Female"},
		{"", "en-US", "en-us+f3", "Female"},
		{"", "es-419", "es-419+f2", "Female"},
	} {
		v, err := tts.VoiceFor(c.id, c.locale)
		if err != nil || v.Espeak != c.espeak || v.Gender != c.gender {
			t.Errorf("%q %s: %+v %v", c.id, c.locale, v, err)
		}
	}
	if _, err := tts.VoiceFor("Zorblax", "en-US"); err == nil {
		t.Error("unknown voice accepted")
	}
	seen := map[string]bool{}
	for _, v := range tts.Voices {
		if seen[v.Polly] {
			t.Errorf("voice %s twice", v.Polly)
		}
		seen[v.Polly] = true
		if v.Pitch < 0 || v.Pitch > 99 || v.Speed < 80 || v.Speed > 450 {
			t.Errorf("%s: pitch %d speed %d", v.Polly, v.Pitch, v.Speed)
		}
	}
}

func synth(t *testing.T) *tts.Synthesizer {
	t.Helper()
	speechtest.Require(t, "espeak-ng", "lame", "oggenc")
	path := func(n string) string { p, _ := exec.LookPath(n); return p }
	return &tts.Synthesizer{Espeak: path("espeak-ng"), Lame: path("lame"), Oggenc: path("oggenc"), Runner: proc.New(proc.Config{Timeout: 30 * time.Second})}
}

// TestSynthesizeFormats speaks replies in several voices and checks each
// encoding frame by frame, and that its length is plausible for the
// sentence (0.15–0.8 s a word).
func TestSynthesizeFormats(t *testing.T) {
	s := synth(t)
	ctx := context.Background()
	for _, c := range []struct{ voice, locale, text string }{
		{"Salli", "en-US", "What type of flowers would you like to order?"},
		{"Joey", "en-US", "What day do you want the roses to be picked up?"},
		{"Amy", "en-GB", "Okay, your tulips will be ready for pickup at four pm."},
		{"Conchita", "es-ES", "¿Para qué fecha quiere la reserva?"},
		{"Penélope", "es-US", "Perfecto, su habitación doble en Madrid está reservada."},
		{"Miguel", "es-US", "¿Cuántas noches se va a quedar?"},
	} {
		v, err := tts.VoiceFor(c.voice, c.locale)
		if err != nil {
			t.Fatal(err)
		}
		words := len(strings.Fields(c.text))
		lo, hi := time.Duration(words)*150*time.Millisecond, time.Duration(words)*800*time.Millisecond
		for _, f := range []string{tts.PCM, tts.MPEG, tts.Ogg} {
			res, err := s.Synthesize(ctx, c.text, v, f)
			if err != nil {
				t.Fatalf("%s %s: %v", c.voice, f, err)
			}
			if res.ContentType != f || len(res.Audio) == 0 {
				t.Fatalf("%s %s: %q %d bytes", c.voice, f, res.ContentType, len(res.Audio))
			}
			var d time.Duration
			switch f {
			case tts.PCM:
				if res.Rate != 16000 || len(res.Audio) != 2*res.Samples {
					t.Errorf("%s pcm: rate %d, %d bytes for %d samples", c.voice, res.Rate, len(res.Audio), res.Samples)
				}
				d = time.Duration(len(res.Audio)/2) * time.Second / 16000
			case tts.MPEG:
				info, err := speechtest.CheckMP3(res.Audio)
				if err != nil {
					t.Errorf("%s mp3: %v", c.voice, err)
					continue
				}
				if info.Rate != 22050 {
					t.Errorf("%s mp3: %d Hz", c.voice, info.Rate)
				}
				d = info.Duration
			case tts.Ogg:
				info, err := speechtest.CheckOgg(res.Audio)
				if err != nil {
					t.Errorf("%s ogg: %v", c.voice, err)
					continue
				}
				if info.Codec != "vorbis" || info.Rate != 22050 {
					t.Errorf("%s ogg: %+v", c.voice, info)
				}
				d = info.Duration
			}
			if d < lo || d > hi {
				t.Errorf("%s %s: %s for %d words", c.voice, f, d, words)
			}
		}
	}
	// empty text: an empty body, no tool run
	if res, err := s.Synthesize(ctx, " ", tts.Voices[0], tts.MPEG); err != nil || len(res.Audio) != 0 {
		t.Errorf("empty text: %v %d", err, len(res.Audio))
	}
	// SSML is spoken, not read out as tags
	v, _ := tts.VoiceFor("Salli", "en-US")
	plain, _ := s.Synthesize(ctx, "Hello there", v, tts.PCM)
	ssml, err := s.Synthesize(ctx, `<speak>Hello <break time="1s"/> there</speak>`, v, tts.PCM)
	if err != nil || ssml.Samples < plain.Samples+12000 || ssml.Samples > plain.Samples+24000 {
		t.Errorf("ssml: %v: %d samples vs %d plain (want about one second more)", err, ssml.Samples, plain.Samples)
	}
}

func TestMissingEncoders(t *testing.T) {
	s := &tts.Synthesizer{Espeak: "/usr/bin/espeak-ng", Runner: proc.New(proc.Config{})}
	var me *tts.MissingError
	if err := s.Check(tts.MPEG); !errors.As(err, &me) || me.Package != "lame" {
		t.Errorf("mpeg: %v", err)
	}
	if err := s.Check(tts.Ogg); !errors.As(err, &me) || me.Package != "vorbis-tools" || !strings.Contains(err.Error(), "oggenc") {
		t.Errorf("ogg: %v", err)
	}
	if err := s.Check(tts.PCM); err != nil {
		t.Errorf("pcm: %v", err)
	}
	s.Espeak = ""
	if err := s.Check(tts.PCM); !errors.As(err, &me) || me.Package != "espeak-ng" {
		t.Errorf("no espeak: %v", err)
	}
}
