package lexruntime_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"lextrail/internal/server"
	"lextrail/internal/services/lexruntime"
	"lextrail/internal/testenv"
)

// botoScript serves boto3 lex-runtime calls read as JSON lines from stdin
// ({"op": "post_text", "args": {...}}) and answers each with a JSON line:
// {"ok": response} or {"error": {"code", "message", "status"}}.
const botoScript = `
import base64, json, sys
import boto3, botocore.config, botocore.exceptions
c = boto3.client("lex-runtime", endpoint_url=sys.argv[1], region_name="us-east-1",
                 config=botocore.config.Config(retries={"max_attempts": 0}))
for line in sys.stdin:
    req = json.loads(line)
    args = req["args"]
    if "inputStream" in args:
        args["inputStream"] = args["inputStream"].encode("utf-8")
    try:
        resp = getattr(c, req["op"])(**args)
        resp.pop("ResponseMetadata", None)
        if "audioStream" in resp:
            resp["audioStream"] = base64.b64encode(resp["audioStream"].read()).decode()
        out = {"ok": resp}
    except botocore.exceptions.ClientError as e:
        out = {"error": {"code": e.response["Error"]["Code"], "message": e.response["Error"].get("Message", ""),
                         "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}}
    except Exception as e:
        out = {"error": {"code": type(e).__name__, "message": str(e)}}
    print(json.dumps(out, default=str), flush=True)
`

// boto is one boto3 client process.
type boto struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Reader
}

type botoAnswer struct {
	OK    map[string]any `json:"ok"`
	Error *struct {
		Code, Message string
		Status        int
	} `json:"error"`
}

func newBoto(t *testing.T, e *testenv.Env) *boto {
	py := testenv.LookTool(t, "python3", "LEXTRAIL_REQUIRE_BOTO3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		testenv.LookTool(t, "python3-with-boto3", "LEXTRAIL_REQUIRE_BOTO3") // skips (or fails when required)
	}
	cmd := exec.Command(py, "-c", botoScript, e.URL)
	cmd.Env = e.CLIEnv(t)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("boto3 stderr: %s", stderr.String())
		}
	})
	return &boto{t: t, in: in, out: bufio.NewReader(out)}
}

func (b *boto) send(op string, args map[string]any) {
	line, _ := json.Marshal(map[string]any{"op": op, "args": args})
	if _, err := b.in.Write(append(line, '\n')); err != nil {
		b.t.Fatal(err)
	}
}

func (b *boto) read() botoAnswer {
	b.t.Helper()
	line, err := b.out.ReadBytes('\n')
	if err != nil {
		b.t.Fatalf("boto3 driver: %v", err)
	}
	var a botoAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		b.t.Fatalf("boto3 answer %s: %v", line, err)
	}
	return a
}

func (b *boto) call(op string, args map[string]any) map[string]any {
	b.t.Helper()
	b.send(op, args)
	a := b.read()
	if a.Error != nil {
		b.t.Fatalf("boto3 %s %v: %+v", op, args, *a.Error)
	}
	return a.OK
}

func (b *boto) fail(op string, args map[string]any, code string, status int) {
	b.t.Helper()
	b.send(op, args)
	a := b.read()
	if a.Error == nil || a.Error.Code != code || status != 0 && a.Error.Status != status {
		b.t.Fatalf("boto3 %s %v: %+v, want %s %d", op, args, a, code, status)
	}
}

// say posts text and checks the answer like user.expect.
func (b *boto) say(bot, alias, user string, steps ...turn) map[string]any {
	b.t.Helper()
	var last map[string]any
	for _, st := range steps {
		out := b.call("post_text", map[string]any{"botName": bot, "botAlias": alias, "userId": user, "inputText": st.say})
		last = out
		str := func(k string) string {
			s, _ := out[k].(string)
			return s
		}
		check := func(what, got, want string) {
			b.t.Helper()
			if want == "" {
				return
			}
			if want == "-" {
				want = ""
			}
			if got != want {
				b.t.Errorf("boto3 %q: %s = %q, want %q (answer %v)", st.say, what, got, want, out)
			}
		}
		check("dialogState", str("dialogState"), st.state)
		check("intentName", str("intentName"), st.intent)
		check("slotToElicit", str("slotToElicit"), st.slot)
		check("message", str("message"), st.msg)
		slots, _ := out["slots"].(map[string]any)
		for k, want := range st.slots {
			got := "<absent>"
			if v, ok := slots[k]; ok {
				got = fmt.Sprint(v)
				if v == nil {
					got = "null"
				}
			}
			if got != want {
				b.t.Errorf("boto3 %q: slot %s = %q, want %q", st.say, k, got, want)
			}
		}
	}
	return last
}

// TestBoto3 is the boto3 lane: the conversations of the SDK tests through
// botocore's lex-runtime client (which validates inputs client-side and
// decodes the jsonvalue headers itself). Skipped with the reason when
// python3 with boto3 is absent, unless LEXTRAIL_REQUIRE_BOTO3=1.
func TestBoto3(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: skipping the boto3 lane")
	}
	stub := &lambdaStub{t: t, fns: map[string]func(map[string]any) (any, string){}}
	hs := httptest.NewServer(stub)
	defer hs.Close()
	entered, release := make(chan struct{}, 1), make(chan struct{})
	stub.fns[fnPrefix+"slow"] = func(map[string]any) (any, string) {
		entered <- struct{}{}
		<-release
		return closeWith("Fulfilled", "It ships tomorrow."), ""
	}
	v := newEnv(t, envOpts{configure: func(c *server.Config) { c.LexHooks = lexruntime.HookConfig{LambdaEndpoint: hs.URL} }})
	b := newBoto(t, v.e)
	v.deploy(orderFlowersBot("OrderFlowersBot"))
	v.deploy(bookTripBot("BookTrip"))
	v.deploy(viajesFloresBot("ViajesFlores"))
	v.deploy(hookBot())
	ny, _ := time.LoadLocation("America/New_York")
	today := v.e.Clock.Now().In(ny)
	tuesday := date(nextWeekday(today, time.Tuesday))

	// OrderFlowers, spec §5.1
	first := b.say("OrderFlowersBot", "prod", "user-1",
		turn{say: "i would like to order flowers", state: "ElicitSlot", intent: "OrderFlowers", slot: "FlowerType",
			msg: "What type of flowers would you like to order?", slots: map[string]string{"FlowerType": "null", "PickupDate": "null", "PickupTime": "null"}},
		turn{say: "roses", state: "ElicitSlot", slot: "PickupDate", slots: map[string]string{"FlowerType": "roses"}},
		turn{say: "tuesday", state: "ElicitSlot", slot: "PickupTime", slots: map[string]string{"PickupDate": tuesday}},
		turn{say: "10:00 a.m.", state: "ConfirmIntent", slot: "-"},
	)
	done := b.say("OrderFlowersBot", "prod", "user-1", turn{say: "yes", state: "ReadyForFulfillment", msg: "-",
		slots: map[string]string{"FlowerType": "roses", "PickupDate": tuesday, "PickupTime": "10:00"}})
	if first["sessionId"] != done["sessionId"] || first["botVersion"] != "1" || first["messageFormat"] != "PlainText" {
		t.Errorf("session/version/format: %v / %v", first, done)
	}
	// confirmation denied, clarification then abort
	b.say("OrderFlowersBot", "prod", "user-2",
		turn{say: "I want to order tulips", state: "ElicitSlot", slot: "PickupDate"},
		turn{say: "tomorrow", state: "ElicitSlot", slot: "PickupTime", slots: map[string]string{"PickupDate": date(today.AddDate(0, 0, 1))}},
		turn{say: "3 pm", state: "ConfirmIntent", slots: map[string]string{"PickupTime": "15:00"}},
		turn{say: "no", state: "Failed", msg: "Okay, I will not place your order."},
		turn{say: "what is the weather on mars", state: "ElicitIntent", intent: "-", msg: clarify},
		turn{say: "blah blah", state: "ElicitIntent", msg: clarify},
		turn{say: "qwerty", state: "Failed", msg: abort},
	)
	// PostContent with text: jsonvalue headers decoded by botocore,
	// encodedMessage left as base64 text (R7)
	pc := b.call("post_content", map[string]any{"botName": "OrderFlowersBot", "botAlias": "prod", "userId": "user-3",
		"contentType": "text/plain; charset=utf-8", "accept": "text/plain; charset=utf-8", "sessionAttributes": map[string]string{"a": "b"},
		"inputStream": "i would like to order flowers"})
	slots, _ := pc["slots"].(map[string]any)
	attrs, _ := pc["sessionAttributes"].(map[string]any)
	msg, _ := base64.StdEncoding.DecodeString(fmt.Sprint(pc["encodedMessage"]))
	if pc["dialogState"] != "ElicitSlot" || len(slots) != 3 || attrs["a"] != "b" || string(msg) != "What type of flowers would you like to order?" || pc["audioStream"] != "" {
		t.Errorf("post_content = %v", pc)
	}
	b.fail("post_content", map[string]any{"botName": "OrderFlowersBot", "botAlias": "prod", "userId": "user-3", "contentType": "audio/flac", "inputStream": "x"},
		"UnsupportedMediaTypeException", 415)
	b.fail("post_content", map[string]any{"botName": "OrderFlowersBot", "botAlias": "prod", "userId": "user-3", "contentType": "text/plain",
		"accept": "video/mp4", "inputStream": "x"}, "NotAcceptableException", 406)
	// sessions (R9–R12)
	gs := b.call("get_session", map[string]any{"botName": "OrderFlowersBot", "botAlias": "prod", "userId": "user-3"})
	recent, _ := gs["recentIntentSummaryView"].([]any)
	if len(recent) != 1 || recent[0].(map[string]any)["intentName"] != "OrderFlowers" || gs["dialogAction"] == nil {
		t.Errorf("get_session = %v", gs)
	}
	ps := b.call("put_session", map[string]any{"botName": "OrderFlowersBot", "botAlias": "prod", "userId": "user-3", "accept": "text/plain; charset=utf-8",
		"dialogAction": map[string]any{"type": "ElicitSlot", "intentName": "OrderFlowers", "slotToElicit": "PickupDate"}})
	if ps["dialogState"] != "ElicitSlot" || ps["slotToElicit"] != "PickupDate" || ps["contentType"] != "text/plain;charset=utf-8" {
		t.Errorf("put_session = %v", ps)
	}
	ds := b.call("delete_session", map[string]any{"botName": "OrderFlowersBot", "botAlias": "prod", "userId": "user-3"})
	if ds["sessionId"] != pc["sessionId"] || ds["userId"] != "user-3" {
		t.Errorf("delete_session = %v", ds)
	}
	b.fail("get_session", map[string]any{"botName": "OrderFlowersBot", "botAlias": "prod", "userId": "user-3"}, "NotFoundException", 404)
	b.fail("post_text", map[string]any{"botName": "OrderFlowersBot", "botAlias": "nope", "userId": "user-3", "inputText": "hi"}, "NotFoundException", 404)
	b.fail("post_text", map[string]any{"botName": "OrderFlowersBot", "botAlias": "prod", "userId": "user-3", "inputText": strings.Repeat("a", 1025)}, "BadRequestException", 400)
	b.fail("post_text", map[string]any{"botName": "OrderFlowersBot", "botAlias": "prod", "userId": "u", "inputText": "hi"}, "ParamValidationError", 0) // botocore checks min length

	// BookTrip: an intent switch mid-dialog
	b.say("BookTrip", "prod", "traveller",
		turn{say: "I need a hotel room in Chicago", state: "ElicitSlot", intent: "BookHotel", slot: "CheckInDate", slots: map[string]string{"Location": "Chicago"}},
		turn{say: "actually I want to rent a car", state: "ElicitSlot", intent: "BookCar", slot: "PickUpCity"},
		turn{say: "Seattle", state: "ElicitSlot", slot: "PickUpDate"},
	)
	// Spanish
	b.say("ViajesFlores", "prod", "usuario-1",
		turn{say: "quiero pedir flores", state: "ElicitSlot", intent: "PedirFlores", slot: "TipoFlor", msg: "¿Qué tipo de flores quieres encargar?"},
		turn{say: "rosas", state: "ElicitSlot", slot: "FechaRecogida"},
		turn{say: "mañana", state: "ElicitSlot", slot: "HoraRecogida"},
		turn{say: "a las cinco de la tarde", state: "ConfirmIntent", slots: map[string]string{"HoraRecogida": "17:00"}},
		turn{say: "sí", state: "ReadyForFulfillment"},
	)
	// session expiry with the injected clock
	before := b.say("OrderFlowersBot", "prod", "idle", turn{say: "order flowers", state: "ElicitSlot"})
	v.e.Clock.Advance(301 * time.Second)
	after := b.say("OrderFlowersBot", "prod", "idle", turn{say: "3 pm", state: "ElicitIntent", msg: clarify})
	if before["sessionId"] == after["sessionId"] {
		t.Error("boto3: expired session kept its id")
	}
	v.e.Clock.Set(time.Now())
	// 409 while another request of the session waits on its code hook
	b2 := newBoto(t, v.e)
	b.send("post_text", map[string]any{"botName": "PizzaBot", "botAlias": "prod", "userId": "busy", "inputText": "where is my order"})
	<-entered
	b2.fail("post_text", map[string]any{"botName": "PizzaBot", "botAlias": "prod", "userId": "busy", "inputText": "hello"}, "ConflictException", 409)
	close(release)
	if a := b.read(); a.Error != nil || a.OK["dialogState"] != "Fulfilled" || a.OK["message"] != "It ships tomorrow." {
		t.Errorf("slow request: %+v", a)
	}
}
