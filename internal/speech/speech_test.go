package speech_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/nlu"
	"lextrail/internal/speech"
	"lextrail/internal/speech/asr"
	"lextrail/internal/speech/audio"
	"lextrail/internal/speech/speechtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func awsErr(t *testing.T, err error, code string, status int, contains ...string) {
	t.Helper()
	var e *awserr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want %s", err, err, code)
	}
	if e.Code != code || e.Status != status {
		t.Fatalf("error %s %d %q, want %s %d", e.Code, e.Status, e.Message, code, status)
	}
	for _, c := range contains {
		if !strings.Contains(e.Message, c) {
			t.Errorf("message %q lacks %q", e.Message, c)
		}
	}
}

func loadSpec(t testing.TB, name string) nlu.ModelSpec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("asr", "testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec nlu.ModelSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	return spec
}

// linkTools makes a PATH directory holding only the named tools.
func linkTools(t *testing.T, tools ...string) string {
	dir := t.TempDir()
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not installed", tool)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestMissingTools: without the Debian tools audio requests get 415/406
// naming the missing packages; text keeps working.
func TestMissingTools(t *testing.T) {
	s := speech.New(speech.Config{Path: t.TempDir(), ModelDir: t.TempDir(), Logger: quiet})
	c := s.Capabilities()
	if c.Recognition || len(c.Synthesis) != 0 || len(c.Missing) != 5 {
		t.Fatalf("capabilities %+v", c)
	}
	if err := s.CheckInput("text/plain; charset=utf-8"); err != nil {
		t.Errorf("text input: %v", err)
	}
	awsErr(t, s.CheckInput("audio/l16; rate=16000; channels=1"), "UnsupportedMediaTypeException", 415, "Debian package pocketsphinx)", "Debian package pocketsphinx-en-us")
	_, err := s.Recognize(context.Background(), bytes.NewReader(make([]byte, 3200)), "audio/x-l16; sample-rate=16000; channel-count=1", nil, speech.FocusIntent)
	awsErr(t, err, "UnsupportedMediaTypeException", 415, "pocketsphinx")
	if a, err := s.CheckAccept("text/plain; charset=utf-8"); err != nil || a.Audio {
		t.Errorf("text accept: %+v %v", a, err)
	}
	for _, accept := range []string{"audio/mpeg", "audio/ogg", "audio/pcm", "audio/*"} {
		_, err := s.CheckAccept(accept)
		awsErr(t, err, "NotAcceptableException", 406, "espeak-ng (Debian package espeak-ng)")
	}
	sp, err := s.Synthesize(context.Background(), "Hello", "Salli", "en-US", "text/plain; charset=utf-8")
	if err != nil || sp.Audio || sp.Body != nil {
		t.Errorf("text reply: %+v %v", sp, err)
	}
	_, err = s.Synthesize(context.Background(), "Hello", "Salli", "en-US", "audio/mpeg")
	awsErr(t, err, "NotAcceptableException", 406, "espeak-ng")
	_, err = s.CheckAccept("video/mp4")
	awsErr(t, err, "NotAcceptableException", 406, "video/mp4")

	// espeak-ng alone: PCM replies work, the encoders' packages are named
	s = speech.New(speech.Config{Path: linkTools(t, "espeak-ng"), ModelDir: t.TempDir(), Logger: quiet})
	if got := s.Capabilities().Synthesis; len(got) != 1 || got[0] != "audio/pcm" {
		t.Fatalf("synthesis %v", got)
	}
	_, err = s.CheckAccept("audio/mpeg")
	awsErr(t, err, "NotAcceptableException", 406, "lame (Debian package lame)")
	_, err = s.CheckAccept("audio/ogg")
	awsErr(t, err, "NotAcceptableException", 406, "oggenc (Debian package vorbis-tools)")
	sp, err = s.Synthesize(context.Background(), "Hello there", "Salli", "en-US", "audio/pcm")
	if err != nil || !sp.Audio || sp.ContentType != "audio/pcm" || len(sp.Body) < 8000 {
		t.Errorf("pcm reply: %v %+v", err, sp.ContentType)
	}
	// pocketsphinx without its model is still no recognition
	s = speech.New(speech.Config{Path: linkTools(t, "pocketsphinx_continuous"), ModelDir: t.TempDir(), Logger: quiet})
	awsErr(t, s.CheckInput("audio/l16; rate=16000"), "UnsupportedMediaTypeException", 415, "pocketsphinx-en-us")
	b, _ := json.Marshal(s.Capabilities())
	if !strings.Contains(string(b), `"recognition":false`) || !strings.Contains(string(b), `"package":"pocketsphinx-en-us"`) {
		t.Errorf("capabilities JSON %s", b)
	}
}

var (
	svcOnce sync.Once
	svc     *speech.Service
	gramMu  sync.Mutex
	grams   = map[string]*asr.Grammar{}
)

func service(t testing.TB) *speech.Service {
	t.Helper()
	speechtest.Require(t, "pocketsphinx_continuous", "espeak-ng", "lame", "oggenc", "model")
	svcOnce.Do(func() {
		svc = speech.New(speech.Config{CacheDir: filepath.Join(os.TempDir(), fmt.Sprintf("lextrail-speech-test-%d", os.Getpid())), Logger: quiet, Timeout: time.Minute})
	})
	return svc
}

func grammar(t testing.TB, s *speech.Service, bot string) *asr.Grammar {
	t.Helper()
	gramMu.Lock()
	defer gramMu.Unlock()
	if g, ok := grams[bot]; ok {
		return g
	}
	g, err := s.Grammar(loadSpec(t, bot))
	if err != nil {
		t.Fatal(err)
	}
	grams[bot] = g
	return g
}

func l16(t *testing.T, voice, text string) []byte {
	return audio.PCMBytes(speechtest.Say(t, voice, text))
}

const l16CT = "audio/l16; rate=16000; channels=1"

// TestRecognizeFormats: the same phrase sent as 16 kHz L16, 44.1 kHz
// stereo PCM, a 22.05 kHz WAV (espeak-ng's own output) and CBR Opus is
// recognised the same.
func TestRecognizeFormats(t *testing.T) {
	s := service(t)
	g := grammar(t, s, "orderflowers")
	ctx := context.Background()
	text := "i would like to order some flowers"
	pcm := speechtest.Say(t, "en-us", text)
	up := audio.Resample(pcm, 16000, 44100)
	st := make([]int16, 2*len(up))
	for i, v := range up {
		st[2*i], st[2*i+1] = v, v
	}
	wav, err := exec.Command("espeak-ng", "--stdout", "-v", "en-us", text).Output()
	if err != nil {
		t.Fatal(err)
	}
	bodies := []struct {
		ct   string
		body []byte
	}{
		{l16CT, audio.PCMBytes(pcm)},
		{"audio/x-l16; sample-rate=44100; channel-count=2", audio.PCMBytes(st)},
		{"audio/lpcm; sample-rate=16000; sample-size-bits=16; channel-count=1; is-big-endian=false", audio.PCMBytes(pcm)},
		{"audio/wav", wav},
	}
	if _, err := exec.LookPath("opusenc"); err == nil {
		pkts := speechtest.OpusCBR(t, pcm, 16000, 32, 20)
		bodies = append(bodies, struct {
			ct   string
			body []byte
		}{"audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=32000; frame-size-milliseconds=20", bytes.Join(pkts, nil)})
	}
	for _, b := range bodies {
		tr, err := s.Recognize(ctx, bytes.NewReader(b.body), b.ct, g, speech.FocusIntent)
		if err != nil {
			t.Errorf("%s: %v", b.ct, err)
			continue
		}
		if tr.Text != text || tr.NoMatch {
			t.Errorf("%s: heard %q", b.ct, tr.Text)
		}
		if tr.Audio < time.Second || tr.Speech < time.Second || tr.Speech > tr.Audio {
			t.Errorf("%s: audio %s speech %s", b.ct, tr.Audio, tr.Speech)
		}
	}
}

// TestRecognizeConversation: espeak-ng voices (en and es) answering the
// prompts of a conversation, each with the dialog's focus; what was heard
// must give the dialog what was said: the intent (NLU), the slot value
// (FillSlot) or the yes/no answer (Confirm).
func TestRecognizeConversation(t *testing.T) {
	s := service(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	models := map[string]*nlu.Model{}
	for _, c := range []struct {
		bot, voice, say string
		intent, slot    string // ElicitSlot when slot != ""; ElicitIntent when only intent
		confirm         bool
		want            string // intent name, slot value, or "yes"/"no"
	}{
		{"orderflowers", "en-us", "I want to order roses", "", "", false, "OrderFlowers"},
		{"orderflowers", "en-us+f3", "tomorrow", "OrderFlowers", "PickupDate", false, "2026-11-23"},
		{"orderflowers", "en-us+m3", "at three pm", "OrderFlowers", "PickupTime", false, "15:00"},
		{"orderflowers", "en-us+f2", "yes", "OrderFlowers", "", true, "yes"},
		{"orderflowers", "en-us", "I would like lilies", "OrderFlowers", "FlowerType", false, "lilies"},
		{"orderflowers", "en-us+m3", "no", "OrderFlowers", "", true, "no"},
		{"reservarhotel", "es", "necesito una habitación", "", "", false, "ReservarHotel"},
		{"reservarhotel", "es-419", "en barcelona", "ReservarHotel", "Ciudad", false, "Barcelona"},
		{"reservarhotel", "es", "el próximo viernes", "ReservarHotel", "FechaEntrada", false, "2026-11-27"},
		{"reservarhotel", "es+f3", "cinco noches", "ReservarHotel", "Noches", false, "5"},
		{"reservarhotel", "es", "sí", "ReservarHotel", "", true, "yes"},
	} {
		spec := loadSpec(t, c.bot)
		m := models[c.bot]
		if m == nil {
			var err error
			if m, err = nlu.Compile(spec); err != nil {
				t.Fatal(err)
			}
			models[c.bot] = m
		}
		focus := speech.FocusIntent
		switch {
		case c.confirm:
			focus = speech.FocusConfirm
		case c.slot != "":
			focus = speech.SlotFocus(c.intent, c.slot)
		}
		tr, err := s.Recognize(ctx, bytes.NewReader(l16(t, c.voice, c.say)), l16CT, grammar(t, s, c.bot), focus)
		if err != nil {
			t.Errorf("%s %q: %v", c.voice, c.say, err)
			continue
		}
		got := ""
		switch {
		case c.confirm:
			if a, _ := nlu.Confirm(tr.Text, spec.Locale); a == nlu.Yes {
				got = "yes"
			} else if a == nlu.No {
				got = "no"
			}
		case c.slot != "":
			if v, ok := m.FillSlot(c.intent, c.slot, tr.Text, nlu.Options{Now: now}); ok {
				got = v.Resolved
			}
		default:
			if r := m.Parse(tr.Text, nlu.Options{Now: now}); len(r.Intents) > 0 && r.Intents[0].Confidence >= nlu.DefaultThreshold {
				got = r.Intents[0].Name
			}
		}
		if got != c.want {
			t.Errorf("%s %s %q: heard %q → %q, want %q", c.voice, focus, c.say, tr.Text, got, c.want)
		}
	}
}

// TestRecognizeHostile: garbage, silence, noise and out-of-grammar speech
// are no match; truncated, oversized, 8 kHz and over-long audio get their
// AWS errors; nothing hangs.
func TestRecognizeHostile(t *testing.T) {
	s := service(t)
	g := grammar(t, s, "orderflowers")
	ctx := context.Background()
	rnd := rand.New(rand.NewSource(5))
	garbage := make([]byte, 32000*2)
	rnd.Read(garbage)
	noMatch := map[string][]byte{
		"random bytes":   garbage,
		"silence":        make([]byte, 32000*2),
		"out of grammar": l16(t, "en-us", "the weather is nice today"),
	}
	for name, body := range noMatch {
		start := time.Now()
		tr, err := s.Recognize(ctx, bytes.NewReader(body), l16CT, g, speech.FocusIntent)
		if err != nil || !tr.NoMatch || tr.Text != "" {
			t.Errorf("%s: %+v %v", name, tr, err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s: took %s", name, d)
		}
	}
	speechBody := l16(t, "en-us", "i would like to order some flowers")
	_, err := s.Recognize(ctx, bytes.NewReader(speechBody[:len(speechBody)-1]), l16CT, g, speech.FocusIntent)
	awsErr(t, err, "BadRequestException", 400, "truncated")
	_, err = s.Recognize(ctx, bytes.NewReader(speechBody), "audio/lpcm; sample-rate=8000; sample-size-bits=16; channel-count=1; is-big-endian=false", g, speech.FocusIntent)
	awsErr(t, err, "UnsupportedMediaTypeException", 415, "16 kHz")
	long := l16(t, "en-us", strings.Repeat("i would like to order some flowers for tomorrow please and ", 7))
	_, err = s.Recognize(ctx, bytes.NewReader(long), l16CT, g, speech.FocusIntent)
	awsErr(t, err, "RequestTimeoutException", 408, "15s")
	_, err = s.Recognize(ctx, io.LimitReader(zeros{}, 17<<20), l16CT, g, speech.FocusIntent)
	awsErr(t, err, "BadRequestException", 400, "larger than")
	_, err = s.Recognize(ctx, bytes.NewReader([]byte("RIFF\x10\x00\x00\x00WAVEfmt ")), "audio/wav", g, speech.FocusIntent)
	awsErr(t, err, "BadRequestException", 400, "WAV")
	_, err = s.Recognize(ctx, bytes.NewReader(speechBody), "audio/ogg", g, speech.FocusIntent)
	awsErr(t, err, "UnsupportedMediaTypeException", 415, "audio/ogg")
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	return len(p), nil
}

// TestSynthesizeReplies: the replies decode as valid MP3/Ogg/PCM, and a
// PCM reply is itself recognised (the bot hears what it said).
func TestSynthesizeReplies(t *testing.T) {
	s := service(t)
	ctx := context.Background()
	for _, c := range []struct{ voice, locale, accept, text string }{
		{"Salli", "en-US", "audio/mpeg", "What type of flowers would you like to order?"},
		{"Joanna", "en-US", "audio/ogg", "What day do you want the roses to be picked up?"},
		{"Matthew", "en-US", "audio/pcm", "Okay, your roses will be ready."},
		{"Penélope", "es-US", "audio/mpeg", "¿En qué ciudad quiere el hotel?"},
		{"", "es-ES", "audio/*", "¿Cuántas noches?"},
	} {
		sp, err := s.Synthesize(ctx, c.text, c.voice, c.locale, c.accept)
		if err != nil {
			t.Fatalf("%s: %v", c.voice, err)
		}
		switch sp.ContentType {
		case "audio/mpeg":
			info, err := speechtest.CheckMP3(sp.Body)
			if err != nil || absDiff(info.Duration, sp.Duration) > 100*time.Millisecond {
				t.Errorf("%s mp3: %v %+v vs %s", c.voice, err, info, sp.Duration)
			}
		case "audio/ogg":
			info, err := speechtest.CheckOgg(sp.Body)
			if err != nil || absDiff(info.Duration, sp.Duration) > 100*time.Millisecond {
				t.Errorf("%s ogg: %v %+v vs %s", c.voice, err, info, sp.Duration)
			}
		case "audio/pcm":
			if time.Duration(len(sp.Body)/2)*time.Second/16000 != sp.Duration {
				t.Errorf("%s pcm: %d bytes for %s", c.voice, len(sp.Body), sp.Duration)
			}
		default:
			t.Errorf("%s: content type %q", c.voice, sp.ContentType)
		}
		if sp.Duration < 500*time.Millisecond || sp.Duration > 6*time.Second {
			t.Errorf("%s: %s", c.voice, sp.Duration)
		}
	}
	sp, err := s.Synthesize(ctx, "I would like to order some flowers", "Joey", "en-US", "audio/pcm")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := s.Recognize(ctx, bytes.NewReader(sp.Body), l16CT, grammar(t, s, "orderflowers"), speech.FocusIntent)
	if err != nil || tr.Text != "i would like to order some flowers" {
		t.Errorf("round trip: %q %v", tr.Text, err)
	}
	_, err = s.Synthesize(ctx, "hi", "Zorblax", "en-US", "audio/mpeg")
	awsErr(t, err, "BadRequestException", 400, "Zorblax")
}

func absDiff(a, b time.Duration) time.Duration {
	if a > b {
		return a - b
	}
	return b - a
}

// TestConcurrentTurns: 8 audio turns at once (recognise, then speak the
// reply) complete without error through the bounded queue.
func TestConcurrentTurns(t *testing.T) {
	s := service(t)
	g := grammar(t, s, "orderflowers")
	body := l16(t, "en-us", "i would like to order some flowers")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr, err := s.Recognize(context.Background(), bytes.NewReader(body), l16CT, g, speech.FocusIntent)
			if err == nil && tr.Text != "i would like to order some flowers" {
				err = fmt.Errorf("heard %q", tr.Text)
			}
			if err == nil {
				_, err = s.Synthesize(context.Background(), "What type of flowers would you like to order?", "Salli", "en-US", "audio/mpeg")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// fakeTools makes a PATH whose pocketsphinx_continuous is a shell script,
// and a model directory with the files the detection looks for.
func fakeTools(t *testing.T, script string) (path, model string) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pocketsphinx_continuous"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	model = t.TempDir()
	os.MkdirAll(filepath.Join(model, "en-us"), 0o755)
	for _, f := range []string{"en-us/mdef", "en-us/means", "cmudict-en-us.dict"} {
		os.WriteFile(filepath.Join(model, f), []byte("hello HH AH L OW\n"), 0o644)
	}
	return dir, model
}

// TestToolFailures: a recogniser that hangs is killed at the timeout
// (502), one that crashes is a 502, and a full queue answers 429 with
// Retry-After.
func TestToolFailures(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	spec := nlu.ModelSpec{Locale: "en-US", Intents: []nlu.IntentSpec{{Name: "Hello", SampleUtterances: []string{"hello"}}}}
	body := audio.PCMBytes(burst())
	ctx := context.Background()

	path, model := fakeTools(t, "sleep 30")
	s := speech.New(speech.Config{Path: path, ModelDir: model, CacheDir: t.TempDir(), Timeout: 300 * time.Millisecond, Logger: quiet})
	g, err := s.Grammar(spec)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Recognize(ctx, bytes.NewReader(body), l16CT, g, speech.FocusIntent)
	awsErr(t, err, "BadGatewayException", 502, "did not finish within 300ms")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %s", d)
	}

	path, model = fakeTools(t, "echo 'model file corrupt' >&2; exit 1")
	s = speech.New(speech.Config{Path: path, ModelDir: model, CacheDir: t.TempDir(), Logger: quiet})
	_, err = s.Recognize(ctx, bytes.NewReader(body), l16CT, g, speech.FocusIntent)
	awsErr(t, err, "BadGatewayException", 502, "speech recognition failed")

	path, model = fakeTools(t, "sleep 2")
	s = speech.New(speech.Config{Path: path, ModelDir: model, CacheDir: t.TempDir(), Concurrency: 1, Queue: 1, Logger: quiet})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Recognize(ctx, bytes.NewReader(body), l16CT, g, speech.FocusIntent)
		}()
	}
	deadline := time.Now().Add(3 * time.Second)
	for st := s.Stats(); st.Running+st.Waiting < 2; st = s.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("turns did not start: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err = s.Recognize(ctx, bytes.NewReader(body), l16CT, g, speech.FocusIntent)
	awsErr(t, err, "LimitExceededException", 429, "too many speech requests")
	var e *awserr.Error
	if errors.As(err, &e) && e.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", e.Header.Get("Retry-After"))
	}
	wg.Wait()
}

// burst is two seconds of "speech-like" tone bursts.
func burst() []int16 {
	s := make([]int16, 32000)
	for i := range s {
		if (i/3200)%3 != 2 {
			s[i] = int16(8000 * sinApprox(float64(i)*2*3.14159*440/16000))
		}
	}
	return s
}

func sinApprox(x float64) float64 {
	for x > 3.14159 {
		x -= 2 * 3.14159
	}
	return x - x*x*x/6 + x*x*x*x*x/120 - x*x*x*x*x*x*x/5040
}
