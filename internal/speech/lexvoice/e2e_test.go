package lexvoice_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	awsv1 "github.com/aws/aws-sdk-go/aws"
	v1err "github.com/aws/aws-sdk-go/aws/awserr"
	credv1 "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	rt "github.com/aws/aws-sdk-go/service/lexruntimeservice"

	"lextrail/internal/server"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/services/lexruntime"
	"lextrail/internal/speech"
	"lextrail/internal/speech/asr"
	"lextrail/internal/speech/audio"
	"lextrail/internal/speech/lexvoice"
	"lextrail/internal/speech/speechtest"
	"lextrail/internal/store"
	"lextrail/internal/testenv"
)

// env is a running lextrail with a model-building client (SDK v2) and a
// Lex V1 runtime client (SDK v1, the only Go SDK with one).
type env struct {
	t  *testing.T
	e  *testenv.Env
	lm *lm.Client
	rt *rt.LexRuntimeService
}

func newEnv(t *testing.T, configure func(*server.Config)) *env {
	e := testenv.New(t, testenv.Options{Configure: configure})
	sess := session.Must(session.NewSession(&awsv1.Config{
		Region: awsv1.String("us-east-1"), Endpoint: awsv1.String(e.URL), MaxRetries: awsv1.Int(0),
		Credentials: credv1.NewStaticCredentials(e.Root.AccessKeyID, e.Root.SecretAccessKey, ""), HTTPClient: e.HTTP.Client(),
	}))
	return &env{t: t, e: e, lm: lm.NewFromConfig(e.Config()), rt: rt.New(sess)}
}

func msg(text string) []lmtypes.Message {
	return []lmtypes.Message{{ContentType: lmtypes.ContentTypePlainText, Content: aws.String(text)}}
}

func prompt(text string) *lmtypes.Prompt {
	return &lmtypes.Prompt{Messages: msg(text), MaxAttempts: aws.Int32(2)}
}

type slotDef struct {
	name, typ, prompt string
	utterances        []string
}

type intentDef struct {
	name       string
	utterances []string
	slots      []slotDef
	confirm    string
}

type botDef struct {
	name, locale, voice, clarify string
	intents                      []intentDef
	types                        map[string][][]string // name → values, each value then its synonyms
}

// deploy puts the slot types, intents and bot at $LATEST and waits for
// the build.
func (v *env) deploy(b botDef) {
	ctx := context.Background()
	for name, values := range b.types {
		var ev []lmtypes.EnumerationValue
		for _, vs := range values {
			ev = append(ev, lmtypes.EnumerationValue{Value: aws.String(vs[0]), Synonyms: vs[1:]})
		}
		if _, err := v.lm.PutSlotType(ctx, &lm.PutSlotTypeInput{Name: aws.String(name), EnumerationValues: ev, ValueSelectionStrategy: lmtypes.SlotValueSelectionStrategyTopResolution}); err != nil {
			v.t.Fatalf("PutSlotType %s: %v", name, err)
		}
	}
	var intents []lmtypes.Intent
	for _, in := range b.intents {
		var slots []lmtypes.Slot
		for i, s := range in.slots {
			sl := lmtypes.Slot{Name: aws.String(s.name), SlotConstraint: lmtypes.SlotConstraintRequired, SlotType: aws.String(s.typ),
				Priority: aws.Int32(int32(i + 1)), ValueElicitationPrompt: prompt(s.prompt), SampleUtterances: s.utterances}
			if !strings.HasPrefix(s.typ, "AMAZON.") {
				sl.SlotTypeVersion = aws.String("$LATEST")
			}
			slots = append(slots, sl)
		}
		pin := &lm.PutIntentInput{Name: aws.String(in.name), SampleUtterances: in.utterances, Slots: slots,
			FulfillmentActivity: &lmtypes.FulfillmentActivity{Type: lmtypes.FulfillmentActivityTypeReturnIntent}}
		if in.confirm != "" {
			pin.ConfirmationPrompt = prompt(in.confirm)
			pin.RejectionStatement = &lmtypes.Statement{Messages: msg("Okay, I will not do that.")}
		}
		if _, err := v.lm.PutIntent(ctx, pin); err != nil {
			v.t.Fatalf("PutIntent %s: %v", in.name, err)
		}
		intents = append(intents, lmtypes.Intent{IntentName: aws.String(in.name), IntentVersion: aws.String("$LATEST")})
	}
	var voice *string
	if b.voice != "" {
		voice = aws.String(b.voice)
	}
	_, err := v.lm.PutBot(ctx, &lm.PutBotInput{Name: aws.String(b.name), Locale: lmtypes.Locale(b.locale), ChildDirected: aws.Bool(false),
		Intents: intents, ClarificationPrompt: prompt(b.clarify), AbortStatement: &lmtypes.Statement{Messages: msg("Sorry, I could not understand. Goodbye.")},
		VoiceId: voice, ProcessBehavior: lmtypes.ProcessBehaviorBuild, IdleSessionTTLInSeconds: aws.Int32(300)})
	if err != nil {
		v.t.Fatalf("PutBot %s: %v", b.name, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		g, err := v.lm.GetBot(ctx, &lm.GetBotInput{Name: aws.String(b.name), VersionOrAlias: aws.String("$LATEST")})
		if err != nil {
			v.t.Fatal(err)
		}
		if g.Status == lmtypes.StatusReady {
			return
		}
		if g.Status == lmtypes.StatusFailed || time.Now().After(deadline) {
			v.t.Fatalf("bot %s: %s %s", b.name, g.Status, aws.ToString(g.FailureReason))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var orderFlowers = botDef{
	name: "OrderFlowersVoice", locale: "en-US", voice: "Salli", clarify: "Sorry, can you please repeat that?",
	intents: []intentDef{{
		name: "OrderFlowers",
		utterances: []string{"I would like to pick up flowers", "I would like to order some flowers", "I want to order {FlowerType}",
			"order {FlowerType} for {PickupDate}"},
		slots: []slotDef{
			{"FlowerType", "FlowerTypes", "What type of flowers would you like to order?", []string{"I want {FlowerType}", "{FlowerType} please"}},
			{"PickupDate", "AMAZON.DATE", "What day do you want the {FlowerType} to be picked up?", nil},
			{"PickupTime", "AMAZON.TIME", "At what time do you want the {FlowerType} to be picked up?", []string{"at {PickupTime}"}},
		},
		confirm: "Okay, your {FlowerType} will be ready for pickup by {PickupTime} on {PickupDate}. Does this sound okay?",
	}, {
		name: "StoreHours", utterances: []string{"what are your opening hours", "when are you open", "store hours"},
	}},
	types: map[string][][]string{"FlowerTypes": {{"roses", "rose", "red roses"}, {"tulips", "tulip"}, {"lilies", "lily"}}},
}

var reservarHotel = botDef{
	name: "ReservarHotelVoz", locale: "es-ES", voice: "Conchita", clarify: "Perdone, ¿puede repetirlo?",
	intents: []intentDef{{
		name:       "ReservarHotel",
		utterances: []string{"quiero reservar un hotel", "necesito una habitación", "reservar una habitación en {Ciudad}"},
		slots: []slotDef{
			{"Ciudad", "AMAZON.City", "¿En qué ciudad?", []string{"en {Ciudad}"}},
			{"Noches", "AMAZON.NUMBER", "¿Cuántas noches?", []string{"{Noches} noches"}},
			{"Habitacion", "TiposHabitacion", "¿Qué tipo de habitación quiere?", []string{"una habitación {Habitacion}"}},
		},
		confirm: "Una habitación {Habitacion} en {Ciudad} para {Noches} noches. ¿Es correcto?",
	}},
	types: map[string][][]string{"TiposHabitacion": {{"individual", "sencilla"}, {"doble", "matrimonial"}, {"suite"}}},
}

// turn is one spoken turn and what must come back.
type turn struct {
	voice, say          string
	state, intent, slot string
	slots               map[string]string
}

// talk sends the turns as audio (16 kHz L16) with Accept accept and
// checks each answer: state headers, the transcript header, and the
// spoken reply (valid MP3/Ogg/PCM of a plausible length for its message).
func (v *env) talk(bot, user, accept string, turns []turn) {
	for _, tr := range turns {
		body := audio.PCMBytes(speechtest.Say(v.t, tr.voice, tr.say))
		out, err := v.rt.PostContent(&rt.PostContentInput{BotName: awsv1.String(bot), BotAlias: awsv1.String("$LATEST"), UserId: awsv1.String(user),
			ContentType: awsv1.String("audio/l16; rate=16000; channels=1"), Accept: awsv1.String(accept), InputStream: bytes.NewReader(body)})
		if err != nil {
			v.t.Fatalf("%s %q: %v", tr.voice, tr.say, err)
		}
		reply, _ := io.ReadAll(out.AudioStream)
		transcript := decode(v.t, awsv1.StringValue(out.EncodedInputTranscript))
		ctx := fmt.Sprintf("%s %q (heard %q)", tr.voice, tr.say, transcript)
		if got := awsv1.StringValue(out.DialogState); got != tr.state {
			v.t.Errorf("%s: dialogState %s, want %s (message %q)", ctx, got, tr.state, decode(v.t, awsv1.StringValue(out.EncodedMessage)))
		}
		if tr.intent != "" && awsv1.StringValue(out.IntentName) != tr.intent {
			v.t.Errorf("%s: intent %q, want %q", ctx, awsv1.StringValue(out.IntentName), tr.intent)
		}
		if tr.slot != "" && awsv1.StringValue(out.SlotToElicit) != tr.slot {
			v.t.Errorf("%s: slotToElicit %q, want %q", ctx, awsv1.StringValue(out.SlotToElicit), tr.slot)
		}
		for k, want := range tr.slots {
			got, _ := out.Slots[k].(string)
			if got != want {
				v.t.Errorf("%s: slot %s = %q, want %q (%v)", ctx, k, got, want, out.Slots)
			}
		}
		if tr.state != "ElicitIntent" && transcript == "" {
			v.t.Errorf("%s: no x-amz-lex-input-transcript", ctx)
		}
		message := decode(v.t, awsv1.StringValue(out.EncodedMessage))
		checkReply(v.t, ctx, accept, awsv1.StringValue(out.ContentType), reply, message)
	}
}

func decode(t *testing.T, s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return string(b)
}

// checkReply: the body is valid audio of the accepted type and lasts
// 0.15–0.8 s per word of the message.
func checkReply(t *testing.T, ctx, accept, contentType string, body []byte, message string) {
	t.Helper()
	if contentType != accept {
		t.Errorf("%s: Content-Type %q, want %q", ctx, contentType, accept)
	}
	words := len(strings.Fields(message))
	if words == 0 {
		if len(body) != 0 {
			t.Errorf("%s: %d bytes of audio for no message", ctx, len(body))
		}
		return
	}
	var d time.Duration
	switch accept {
	case "audio/mpeg":
		info, err := speechtest.CheckMP3(body)
		if err != nil {
			t.Errorf("%s: mp3: %v", ctx, err)
			return
		}
		d = info.Duration
	case "audio/ogg":
		info, err := speechtest.CheckOgg(body)
		if err != nil || info.Codec != "vorbis" {
			t.Errorf("%s: ogg: %v %+v", ctx, err, info)
			return
		}
		d = info.Duration
	case "audio/pcm":
		if len(body)%2 != 0 {
			t.Errorf("%s: odd pcm length %d", ctx, len(body))
		}
		d = time.Duration(len(body)/2) * time.Second / 16000
	}
	if lo, hi := time.Duration(words)*150*time.Millisecond, time.Duration(words)*800*time.Millisecond+300*time.Millisecond; d < lo || d > hi {
		t.Errorf("%s: reply of %s for %d words (%q)", ctx, d, words, message)
	}
}

func requireSpeech(t *testing.T) {
	speechtest.Require(t, "pocketsphinx_continuous", "espeak-ng", "lame", "oggenc", "model")
}

// TestPostContentConversation: full conversations spoken by espeak-ng
// voices through PostContent with the Go SDK (v1 runtime client), in
// English and Spanish, answered in MP3, Ogg and PCM.
func TestPostContentConversation(t *testing.T) {
	requireSpeech(t)
	v := newEnv(t, nil)
	v.deploy(orderFlowers)
	v.deploy(reservarHotel)
	v.talk("OrderFlowersVoice", "ana", "audio/mpeg", []turn{
		{voice: "en-us", say: "I would like to order some flowers", state: "ElicitSlot", intent: "OrderFlowers", slot: "FlowerType"},
		{voice: "en-us+f3", say: "tulips please", state: "ElicitSlot", slot: "PickupDate", slots: map[string]string{"FlowerType": "tulips"}},
		{voice: "en-us+m3", say: "tomorrow", state: "ElicitSlot", slot: "PickupTime"},
		{voice: "en-us", say: "at three pm", state: "ConfirmIntent", slots: map[string]string{"PickupTime": "15:00"}},
		{voice: "en-us+f2", say: "yes", state: "ReadyForFulfillment", intent: "OrderFlowers"},
	})
	v.talk("OrderFlowersVoice", "ben", "audio/ogg", []turn{
		{voice: "en-us+m3", say: "I want to order roses", state: "ElicitSlot", slot: "PickupDate", slots: map[string]string{"FlowerType": "roses"}},
		{voice: "en-us", say: "when are you open", state: "ReadyForFulfillment", intent: "StoreHours"},
	})
	v.talk("ReservarHotelVoz", "carmen", "audio/pcm", []turn{
		{voice: "es", say: "quiero reservar un hotel", state: "ElicitSlot", intent: "ReservarHotel", slot: "Ciudad"},
		{voice: "es-419", say: "en barcelona", state: "ElicitSlot", slot: "Noches", slots: map[string]string{"Ciudad": "Barcelona"}},
		{voice: "es", say: "cinco noches", state: "ElicitSlot", slot: "Habitacion", slots: map[string]string{"Noches": "5"}},
		{voice: "es+f3", say: "una habitación doble", state: "ConfirmIntent", slots: map[string]string{"Habitacion": "doble"}},
		{voice: "es", say: "sí", state: "ReadyForFulfillment"},
	})
	// out of grammar: the clarification prompt, spoken
	v.talk("OrderFlowersVoice", "dan", "audio/mpeg", []turn{
		{voice: "en-us", say: "the weather is nice today", state: "ElicitIntent"},
	})
}

// TestGrammarCompiledAtBuild: building a voice bot (one with a voiceId)
// compiles its recognition grammar into the build; its first audio turn
// uses that grammar instead of compiling one. A text bot's build has no
// grammar.
func TestGrammarCompiledAtBuild(t *testing.T) {
	requireSpeech(t)
	v := newEnv(t, nil)
	sp := v.e.Server.Speech
	v.deploy(orderFlowers)
	if n := sp.Compiles(); n != 1 {
		t.Fatalf("%d grammars compiled by the voice bot's build, want 1", n)
	}
	var data []byte
	err := v.e.Server.DB.Read(context.Background(), func(tx *store.Tx) error {
		var err error
		data, err = lexmodels.LoadPart(context.Background(), tx, v.e.AccountID, "us-east-1", "OrderFlowersVoice", "$LATEST", lexvoice.PartName)
		return err
	})
	if err != nil || data == nil {
		t.Fatalf("no grammar stored with the build: %v", err)
	}
	if _, err := asr.Load(data); err != nil {
		t.Fatalf("stored grammar does not load: %v", err)
	}
	v.talk("OrderFlowersVoice", "ann", "audio/mpeg", []turn{
		{voice: "en-us", say: "I would like to order some flowers", state: "ElicitSlot", intent: "OrderFlowers", slot: "FlowerType"},
	})
	if n := sp.Compiles(); n != 1 {
		t.Errorf("%d grammars compiled after the first audio turn, want 1 (the build's)", n)
	}

	v.deploy(textCopy(orderFlowers, "OrderFlowersText"))
	err = v.e.Server.DB.Read(context.Background(), func(tx *store.Tx) error {
		var err error
		data, err = lexmodels.LoadPart(context.Background(), tx, v.e.AccountID, "us-east-1", "OrderFlowersText", "$LATEST", lexvoice.PartName)
		return err
	})
	if err != nil || data != nil {
		t.Errorf("a text bot's build has a grammar (%d bytes, %v)", len(data), err)
	}
}

// textCopy is b without a voice, with its own intent and slot type names.
func textCopy(b botDef, name string) botDef {
	const sfx = "Text"
	c := botDef{name: name, locale: b.locale, clarify: b.clarify, types: map[string][][]string{}}
	for t, vs := range b.types {
		c.types[t+sfx] = vs
	}
	for _, in := range b.intents {
		ci := in
		ci.name += sfx
		ci.slots = nil
		for _, sl := range in.slots {
			if _, custom := b.types[sl.typ]; custom {
				sl.typ += sfx
			}
			ci.slots = append(ci.slots, sl)
		}
		c.intents = append(c.intents, ci)
	}
	return c
}

func awsCode(err error) (string, int) {
	var rf v1err.RequestFailure
	if errors.As(err, &rf) {
		return rf.Code(), rf.StatusCode()
	}
	if err != nil {
		return "non-AWS: " + err.Error(), 0
	}
	return "", 200
}

// TestPostContentHostile: garbage, silence, truncated, 8 kHz, too long,
// Opus and WAV bodies through PostContent.
func TestPostContentHostile(t *testing.T) {
	requireSpeech(t)
	v := newEnv(t, nil)
	v.deploy(orderFlowers)
	speechBody := audio.PCMBytes(speechtest.Say(t, "en-us", "I would like to order some flowers"))
	garbage := make([]byte, 64000)
	for i := range garbage {
		garbage[i] = byte(i*7919 + i/3)
	}
	long := audio.PCMBytes(speechtest.Say(t, "en-us", strings.Repeat("i would like to order some flowers for tomorrow please and ", 7)))
	wav, err := exec.Command("espeak-ng", "--stdout", "-v", "en-us", "I would like to order some flowers").Output()
	if err != nil {
		t.Fatal(err)
	}
	opus := speechtest.OpusCBR(t, speechtest.Say(t, "en-us", "I would like to order some flowers"), 16000, 32, 20)
	for i, c := range []struct {
		name, ct string
		body     []byte
		code     string
		status   int
		state    string
	}{
		{"garbage", "audio/l16; rate=16000; channels=1", garbage, "", 200, "ElicitIntent"},
		{"silence", "audio/l16; rate=16000; channels=1", make([]byte, 32000), "", 200, "ElicitIntent"},
		{"truncated", "audio/l16; rate=16000; channels=1", speechBody[:len(speechBody)-1], "BadRequestException", 400, ""},
		{"8 kHz", "audio/lpcm; sample-rate=8000; sample-size-bits=16; channel-count=1; is-big-endian=false", speechBody, "UnsupportedMediaTypeException", 415, ""},
		{"too long", "audio/l16; rate=16000; channels=1", long, "RequestTimeoutException", 408, ""},
		{"bad opus framing", "audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=32000; frame-size-milliseconds=20", make([]byte, 81), "BadRequestException", 400, ""},
		{"opus", "audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=32000; frame-size-milliseconds=20", bytes.Join(opus, nil), "", 200, "ElicitSlot"},
		{"wav in an l16 body", "audio/l16; rate=16000; channels=1", wav, "", 200, "ElicitSlot"},
	} {
		out, err := v.rt.PostContent(&rt.PostContentInput{BotName: awsv1.String("OrderFlowersVoice"), BotAlias: awsv1.String("$LATEST"), UserId: awsv1.String(fmt.Sprintf("user-%d", i)),
			ContentType: awsv1.String(c.ct), Accept: awsv1.String("text/plain; charset=utf-8"), InputStream: bytes.NewReader(c.body)})
		code, status := awsCode(err)
		if code != c.code || status != c.status {
			t.Errorf("%s: %s %d (%v), want %s %d", c.name, code, status, err, c.code, c.status)
			continue
		}
		if err == nil && awsv1.StringValue(out.DialogState) != c.state {
			t.Errorf("%s: dialogState %s, want %s", c.name, awsv1.StringValue(out.DialogState), c.state)
		}
	}
}

// TestPostContentWithoutTools: the server's speech without the Debian
// tools (an empty PATH): audio in is 415 and audio out 406, both naming
// the package to install, before the conversation moves; text works.
func TestPostContentWithoutTools(t *testing.T) {
	dir := t.TempDir()
	v := newEnv(t, func(c *server.Config) {
		c.LexRuntime = func(rc *lexruntime.Config) {
			rc.Speech = lexvoice.New(speech.New(speech.Config{Path: dir, ModelDir: dir}), nil)
		}
	})
	v.deploy(orderFlowers)
	post := func(ct, accept string, body []byte) (*rt.PostContentOutput, error) {
		return v.rt.PostContent(&rt.PostContentInput{BotName: awsv1.String("OrderFlowersVoice"), BotAlias: awsv1.String("$LATEST"), UserId: awsv1.String("eve"),
			ContentType: awsv1.String(ct), Accept: awsv1.String(accept), InputStream: bytes.NewReader(body)})
	}
	_, err := post("audio/l16; rate=16000; channels=1", "text/plain; charset=utf-8", make([]byte, 3200))
	if code, status := awsCode(err); code != "UnsupportedMediaTypeException" || status != 415 || !strings.Contains(err.Error(), "Debian package pocketsphinx") {
		t.Errorf("audio in: %v", err)
	}
	_, err = post("text/plain; charset=utf-8", "audio/mpeg", []byte("I would like to order some flowers"))
	if code, status := awsCode(err); code != "NotAcceptableException" || status != 406 || !strings.Contains(err.Error(), "Debian package espeak-ng") {
		t.Errorf("audio out: %v", err)
	}
	out, err := post("text/plain; charset=utf-8", "text/plain; charset=utf-8", []byte("I would like to order some flowers"))
	if err != nil || awsv1.StringValue(out.DialogState) != "ElicitSlot" || awsv1.StringValue(out.SlotToElicit) != "FlowerType" {
		t.Fatalf("text: %v %v", out, err)
	}
	// the refused turns did not move the conversation: this was its first
	s, err := v.rt.GetSession(&rt.GetSessionInput{BotName: awsv1.String("OrderFlowersVoice"), BotAlias: awsv1.String("$LATEST"), UserId: awsv1.String("eve")})
	if err != nil || len(s.RecentIntentSummaryView) != 1 {
		t.Errorf("session after refusals: %v %v", s, err)
	}
}
