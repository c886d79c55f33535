package lexruntime_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsv1 "github.com/aws/aws-sdk-go/aws"
	rt "github.com/aws/aws-sdk-go/service/lexruntimeservice"

	"lextrail/internal/server"
	"lextrail/internal/services/lexruntime"
)

// lambdaStub is a Lambda-compatible endpoint (the Invoke API's
// POST /2015-03-31/functions/{name}/invocations) running Go functions.
type lambdaStub struct {
	t     testing.TB
	mu    sync.Mutex
	fns   map[string]func(ev map[string]any) (resp any, fnErr string)
	calls []map[string]any
	paths []string
}

func (l *lambdaStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := ""
	if p := strings.TrimPrefix(r.URL.EscapedPath(), "/2015-03-31/functions/"); p != r.URL.EscapedPath() {
		name, _ = url.PathUnescape(strings.TrimSuffix(p, "/invocations"))
	} else {
		name = "url:" + r.URL.Path // a plain function URL
	}
	body, _ := io.ReadAll(r.Body)
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad event", 400)
		return
	}
	l.mu.Lock()
	l.calls = append(l.calls, ev)
	l.paths = append(l.paths, name)
	fn := l.fns[name]
	l.mu.Unlock()
	if fn == nil {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(404)
		io.WriteString(w, `{"Type":"User","message":"Function not found: `+name+`"}`)
		return
	}
	resp, fnErr := fn(ev)
	if fnErr != "" {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		json.NewEncoder(w).Encode(map[string]any{"errorMessage": fnErr, "errorType": "Error"})
		return
	}
	if s, ok := resp.(string); ok {
		io.WriteString(w, s)
		return
	}
	json.NewEncoder(w).Encode(resp)
}

func (l *lambdaStub) last() map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[len(l.calls)-1]
}

const fnPrefix = "arn:aws:lambda:us-east-1:123456789012:function:"

func slotsOf(ev map[string]any) map[string]any {
	return ev["currentIntent"].(map[string]any)["slots"].(map[string]any)
}

func closeWith(state, msg string) any {
	return obj{"dialogAction": obj{"type": "Close", "fulfillmentState": state, "message": obj{"contentType": "PlainText", "content": msg}}}
}

func hookBot() botDoc {
	pizza := obj{
		"name":             "OrderPizza",
		"sampleUtterances": []string{"I want a pizza", "order a pizza", "can I get a {Size} pizza", "pizza please"},
		"slots": []any{
			slot("Size", "Sizes", 1, true, "What size of pizza?"),
			slot("Crust", "Crusts", 2, true, "Thin or thick crust?"),
		},
		"confirmationPrompt":  prompt(2, "A {Size} {Crust} pizza, right?"),
		"rejectionStatement":  statement("No pizza then."),
		"dialogCodeHook":      obj{"uri": fnPrefix + "pizzaDialog", "messageVersion": "1.0"},
		"fulfillmentActivity": obj{"type": "CodeHook", "codeHook": obj{"uri": fnPrefix + "pizzaFulfil", "messageVersion": "1.0"}},
		"followUpPrompt":      obj{"prompt": prompt(2, "Would you like a drink with that?"), "rejectionStatement": statement("Enjoy your pizza!")},
	}
	drink := obj{"name": "OrderDrink", "sampleUtterances": []string{"a cola", "I want a drink", "a lemonade please", "something to drink"}}
	menu := obj{"name": "Menu", "sampleUtterances": []string{"what is on the menu", "show me the menu", "what do you have"},
		"dialogCodeHook": obj{"uri": fnPrefix + "menuDialog", "messageVersion": "1.0"}}
	broken := obj{"name": "Complain", "sampleUtterances": []string{"I want to complain", "file a complaint"},
		"dialogCodeHook": obj{"uri": fnPrefix + "broken", "messageVersion": "1.0"}}
	slow := obj{"name": "TrackOrder", "sampleUtterances": []string{"where is my order", "track my order"},
		"dialogCodeHook": obj{"uri": fnPrefix + "slow", "messageVersion": "1.0"}}
	sleepy := obj{"name": "Sleepy", "sampleUtterances": []string{"tell me a bedtime story"},
		"dialogCodeHook": obj{"uri": fnPrefix + "sleepy", "messageVersion": "1.0"}}
	return newBot("PizzaBot", "en-US", []obj{pizza, drink, menu, broken, slow, sleepy}, []obj{
		slotType("Sizes", []string{"small"}, []string{"medium"}, []string{"large"}),
		slotType("Crusts", []string{"thin"}, []string{"thick"}),
	}).with(obj{"clarificationPrompt": prompt(2, clarify), "abortStatement": statement(abort)})
}

// TestCodeHooks is a conversation with dialog and fulfilment code hooks
// behind a Lambda-compatible endpoint (through the aws-sdk-go-v2 Lambda
// client) and a plain function URL, exercising every dialogAction type,
// an erroring function, a slow one and an invalid answer.
func TestCodeHooks(t *testing.T) { eachDriver(t, testCodeHooks) }

func testCodeHooks(t *testing.T, db string) {
	stub := &lambdaStub{t: t, fns: map[string]func(map[string]any) (any, string){}}
	hs := httptest.NewServer(stub)
	defer hs.Close()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	stub.fns[fnPrefix+"pizzaDialog"] = func(ev map[string]any) (any, string) {
		s := slotsOf(ev)
		ci := ev["currentIntent"].(map[string]any)
		switch {
		case s["Size"] == nil:
			return obj{"sessionAttributes": obj{"step": "size"},
				"dialogAction": obj{"type": "ElicitSlot", "intentName": "OrderPizza", "slots": s, "slotToElicit": "Size",
					"message": obj{"contentType": "PlainText", "content": "What size? Small, medium or large."}}}, ""
		case s["Crust"] == nil:
			return obj{"dialogAction": obj{"type": "Delegate", "slots": s}}, "" // Lex elicits Crust
		case ci["confirmationStatus"] == "None":
			return obj{"sessionAttributes": obj{"price": "12"},
				"dialogAction": obj{"type": "ConfirmIntent", "intentName": "OrderPizza", "slots": s,
					"message": obj{"contentType": "PlainText", "content": "That is 12 dollars for a " + s["Size"].(string) + " pizza. OK?"}}}, ""
		}
		return obj{"dialogAction": obj{"type": "Delegate", "slots": s}}, ""
	}
	stub.fns[fnPrefix+"pizzaFulfil"] = func(ev map[string]any) (any, string) {
		return obj{"dialogAction": obj{"type": "Close", "fulfillmentState": "Fulfilled",
			"message":      obj{"contentType": "PlainText", "content": "Your pizza is on its way."},
			"responseCard": obj{"version": 1, "contentType": "application/vnd.amazonaws.card.generic", "genericAttachments": []any{}}}}, ""
	}
	stub.fns["url:/menu"] = func(ev map[string]any) (any, string) {
		return obj{"dialogAction": obj{"type": "ElicitIntent", "message": obj{"contentType": "PlainText", "content": "We have pizza and drinks. What would you like?"}}}, ""
	}
	stub.fns[fnPrefix+"broken"] = func(ev map[string]any) (any, string) { return nil, "TypeError: cannot read property 'x' of undefined" }
	stub.fns[fnPrefix+"slow"] = func(ev map[string]any) (any, string) {
		entered <- struct{}{}
		<-release
		return closeWith("Fulfilled", "It ships tomorrow."), ""
	}
	stub.fns[fnPrefix+"sleepy"] = func(ev map[string]any) (any, string) {
		time.Sleep(time.Second)
		return closeWith("Fulfilled", "Once upon a time."), ""
	}

	v := newEnv(t, envOpts{dbURL: db, configure: func(c *server.Config) {
		c.LexHooks = lexruntime.HookConfig{LambdaEndpoint: hs.URL, FunctionURLs: map[string]string{fnPrefix + "menuDialog": hs.URL + "/menu"},
			Credentials: aws.Credentials{AccessKeyID: "AKIDLAMBDA", SecretAccessKey: "secret"}}
		c.LexRuntime = func(rc *lexruntime.Config) { rc.HookTimeout = 300 * time.Millisecond }
	}})
	v.deploy(hookBot())
	u := v.user("PizzaBot", "prod", "hungry")
	u.reqAttrs = nil

	// ElicitSlot from the hook; the event is the messageVersion 1.0 one (R18)
	u.expect(turn{say: "I want a pizza", state: "ElicitSlot", intent: "OrderPizza", slot: "Size", msg: "What size? Small, medium or large."})
	ev := stub.last()
	bot := ev["bot"].(map[string]any)
	if ev["messageVersion"] != "1.0" || ev["invocationSource"] != "DialogCodeHook" || ev["outputDialogMode"] != "Text" || ev["userId"] != "hungry" ||
		bot["name"] != "PizzaBot" || bot["alias"] != "prod" || bot["version"] != "1" || ev["requestAttributes"] != nil || ev["inputTranscript"] != "I want a pizza" {
		t.Errorf("event = %v", ev)
	}
	if s := slotsOf(ev); len(s) != 2 || s["Size"] != nil {
		t.Errorf("event slots = %v", s)
	}
	// Delegate: Lex elicits the next slot with its own prompt
	u.expect(turn{say: "large", state: "ElicitSlot", slot: "Crust", msg: "Thin or thick crust?", slots: map[string]string{"Size": "large"}})
	if ev := stub.last(); ev["sessionAttributes"].(map[string]any)["step"] != "size" {
		t.Errorf("session attributes in event: %v", ev["sessionAttributes"])
	} else if d, _ := ev["currentIntent"].(map[string]any)["slotDetails"].(map[string]any)["Size"].(map[string]any); d == nil ||
		d["originalValue"] != "large" || d["resolutions"].([]any)[0].(map[string]any)["value"] != "large" {
		t.Errorf("slotDetails in event: %v", ev["currentIntent"])
	}
	// ConfirmIntent with the hook's message and session attributes
	out := u.expect(turn{say: "thin", state: "ConfirmIntent", msg: "That is 12 dollars for a large pizza. OK?"})
	if awsv1.StringValue(out.SessionAttributes["price"]) != "12" {
		t.Errorf("session attributes %v", out.SessionAttributes)
	}
	// yes → dialog hook (Confirmed) delegates → fulfilment hook closes
	out = u.expect(turn{say: "yes", state: "ElicitIntent", intent: "OrderPizza", msg: "Your pizza is on its way."})
	if out.ResponseCard == nil || awsv1.StringValue(out.ResponseCard.Version) != "1" || awsv1.StringValue(out.ResponseCard.ContentType) != "application/vnd.amazonaws.card.generic" {
		t.Errorf("responseCard = %v", out.ResponseCard)
	}
	if ev := stub.last(); ev["invocationSource"] != "FulfillmentCodeHook" || ev["currentIntent"].(map[string]any)["confirmationStatus"] != "Confirmed" {
		t.Errorf("fulfilment event = %v", ev)
	}
	// the follow-up prompt: "yes, <intent>" starts it; "no" ends politely
	u.expect(turn{say: "yes, a cola", state: "ReadyForFulfillment", intent: "OrderDrink"})

	// ElicitIntent from a function URL
	u.expect(turn{say: "what is on the menu", state: "ElicitIntent", intent: "-", msg: "We have pizza and drinks. What would you like?"})

	// an erroring function: 424 with the capital-M Message; the session is untouched
	_, err := u.post("I want to complain")
	wantErr(t, err, "DependencyFailedException", 424)
	if !strings.Contains(err.Error(), "TypeError") {
		t.Errorf("error text %v", err)
	}
	// a function that does not answer in time
	_, err = u.post("tell me a bedtime story")
	wantErr(t, err, "DependencyFailedException", 424)
	s, err := v.rt.GetSession(&rt.GetSessionInput{BotName: awsv1.String("PizzaBot"), BotAlias: awsv1.String("prod"), UserId: awsv1.String("hungry")})
	if err != nil || awsv1.StringValue(s.DialogAction.Type) != "ElicitIntent" {
		t.Errorf("session after failures: %v %v", s, err)
	}
	// a function the endpoint does not know (404 from Lambda) is 424 too
	delete(stub.fns, fnPrefix+"pizzaDialog")
	_, err = u.post("order a pizza")
	wantErr(t, err, "DependencyFailedException", 424)

	// R16: Close/Fulfilled straight from a dialog hook, and the overlap:
	// a second request while the first waits on its hook is a 409
	done := make(chan error, 1)
	go func() {
		out, err := u.post("where is my order")
		if err == nil && (awsv1.StringValue(out.DialogState) != "Fulfilled" || awsv1.StringValue(out.Message) != "It ships tomorrow." || awsv1.StringValue(out.MessageFormat) != "PlainText") {
			t.Errorf("slow answer %v", out)
		}
		done <- err
	}()
	<-entered
	_, err = u.post("hello")
	wantErr(t, err, "ConflictException", 409)
	_, err = v.rt.DeleteSession(&rt.DeleteSessionInput{BotName: awsv1.String("PizzaBot"), BotAlias: awsv1.String("prod"), UserId: awsv1.String("hungry")})
	wantErr(t, err, "ConflictException", 409)
	// another user is not affected
	if out := v.user("PizzaBot", "prod", "other").say("a cola"); awsv1.StringValue(out.DialogState) != "ReadyForFulfillment" {
		t.Errorf("other user: %v", out)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("slow request: %v", err)
	}
}

// TestCodeHookWire checks the raw 424 body uses "Message" (spec §1.6).
func TestCodeHookWire(t *testing.T) {
	stub := &lambdaStub{t: t, fns: map[string]func(map[string]any) (any, string){}}
	hs := httptest.NewServer(stub)
	defer hs.Close()
	stub.fns[fnPrefix+"broken"] = func(ev map[string]any) (any, string) { return `{"not":"a lex answer"}`, "" }
	v := newEnv(t, envOpts{configure: func(c *server.Config) { c.LexHooks = lexruntime.HookConfig{LambdaEndpoint: hs.URL} }})
	v.deploy(hookBot())
	_, err := v.user("PizzaBot", "prod", "u1").post("I want to complain")
	wantErr(t, err, "DependencyFailedException", 424)
	if !strings.Contains(err.Error(), "dialogAction is missing") {
		t.Errorf("message: %v", err)
	}
	st, h, body := v.raw("POST", "/bot/PizzaBot/alias/prod/user/u1/text", `{"inputText":"file a complaint"}`)
	var m map[string]any
	json.Unmarshal(body, &m)
	if st != 424 || h.Get("X-Amzn-Errortype") != "DependencyFailedException" || m["Message"] == nil || m["message"] != nil {
		t.Errorf("raw 424: %d %v %s", st, h, body)
	}
}

// TestConcurrencyLimit: $LATEST takes 2 requests in flight per API (spec
// §5.6); a third is 429 LimitExceededException with Retry-After.
func TestConcurrencyLimit(t *testing.T) {
	stub := &lambdaStub{t: t, fns: map[string]func(map[string]any) (any, string){}}
	hs := httptest.NewServer(stub)
	defer hs.Close()
	entered, release := make(chan struct{}, 2), make(chan struct{})
	stub.fns[fnPrefix+"slow"] = func(map[string]any) (any, string) {
		entered <- struct{}{}
		<-release
		return closeWith("Fulfilled", "It ships tomorrow."), ""
	}
	v := newEnv(t, envOpts{configure: func(c *server.Config) { c.LexHooks = lexruntime.HookConfig{LambdaEndpoint: hs.URL} }})
	v.deploy(hookBot())
	errs := make(chan error, 2)
	for _, u := range []string{"a1", "a2"} {
		go func() { _, err := v.user("PizzaBot", "$LATEST", u).post("where is my order"); errs <- err }()
	}
	<-entered
	<-entered
	_, err := v.user("PizzaBot", "$LATEST", "a3").post("a cola")
	wantErr(t, err, "LimitExceededException", 429)
	_, resp := v.rec.last()
	if resp.Get("Retry-After") == "" {
		t.Errorf("no Retry-After: %v", resp)
	}
	// other aliases have their own, larger budget
	if out := v.user("PizzaBot", "prod", "a3").say("a cola"); awsv1.StringValue(out.DialogState) != "ReadyForFulfillment" {
		t.Errorf("prod: %v", out)
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if out := v.user("PizzaBot", "$LATEST", "a3").say("a cola"); awsv1.StringValue(out.DialogState) != "ReadyForFulfillment" {
		t.Errorf("after the slots freed: %v", out)
	}
}
