package lexruntime_test

import (
	"encoding/json"
	"strings"
	"testing"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	rt "github.com/aws/aws-sdk-go/service/lexruntimeservice"
)

// featuresBot exercises confidence scores, the threshold and the fallback
// intent, sentiment, message groups, placeholders, response cards, active
// contexts, default values and the built-in intents.
func featuresBot() botDoc {
	card := `{"version":1,"contentType":"application/vnd.amazonaws.card.generic","genericAttachments":[{"title":"Accounts of [firstName]","subTitle":"Pick one","buttons":[{"text":"Checking","value":"checking"},{"text":"Savings","value":"savings"}]}]}`
	accountPrompt := obj{"maxAttempts": 2, "responseCard": card, "messages": []any{
		obj{"contentType": "PlainText", "content": "Which account, [firstName]?", "groupNumber": 1},
		obj{"contentType": "PlainText", "content": "You can say checking or savings on ((channel)).", "groupNumber": 2},
	}}
	account := slot("AccountType", "AccountTypes", 1, true)
	account["valueElicitationPrompt"] = accountPrompt
	balance := obj{
		"name":             "CheckBalance",
		"sampleUtterances": []string{"what is my balance", "check my balance", "how much money do I have in {AccountType}", "show my balance"},
		"slots":            []any{account},
		"outputContexts":   []any{obj{"name": "balanceChecked", "turnsToLive": 2, "timeToLiveInSeconds": 90}},
	}
	target := slot("AccountType", "AccountTypes", 2, true, "To which account?")
	target["defaultValueSpec"] = obj{"defaultValueList": []any{obj{"defaultValue": "#balanceChecked.AccountType"}}}
	transfer := obj{
		"name":             "Transfer",
		"sampleUtterances": []string{"transfer money", "transfer {Amount} dollars", "send {Amount} dollars to {AccountType}", "move money"},
		"slots":            []any{slot("Amount", "AMAZON.NUMBER", 1, true, "How much?"), target},
		"inputContexts":    []any{obj{"name": "balanceChecked"}},
	}
	builtin := func(name, sig string) obj { return obj{"name": name, "parentIntentSignature": sig} }
	return newBot("Features", "en-US", []obj{balance, transfer,
		builtin("Fallback", "AMAZON.FallbackIntent"), builtin("MyHelp", "AMAZON.HelpIntent"), builtin("MyCancel", "AMAZON.CancelIntent"),
		builtin("MyRepeat", "AMAZON.RepeatIntent"), builtin("MyStartOver", "AMAZON.StartOverIntent"),
	}, []obj{slotType("AccountTypes", []string{"checking", "current"}, []string{"savings"})}).with(obj{
		"enableModelImprovements": true, "nluIntentConfidenceThreshold": 0.6, "detectSentiment": true,
		"clarificationPrompt": prompt(1, clarify), "abortStatement": statement(abort),
	})
}

type composite struct {
	Messages []struct {
		Type  string `json:"type"`
		Group int    `json:"group"`
		Value string `json:"value"`
	} `json:"messages"`
}

func TestFeatures(t *testing.T) {
	v := newEnv(t)
	v.deploy(featuresBot())
	bot, alias := awsv1.String("Features"), awsv1.String("prod")
	post := func(user, text string, session map[string]*string, req map[string]*string) *rt.PostTextOutput {
		t.Helper()
		out, err := v.rt.PostText(&rt.PostTextInput{BotName: bot, BotAlias: alias, UserId: awsv1.String(user), InputText: &text,
			SessionAttributes: session, RequestAttributes: req})
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		return out
	}
	web := map[string]*string{"channel": awsv1.String("web")}

	// confidence, alternatives, groups, placeholders, the card, sentiment
	out := post("ana", "what is my balance", map[string]*string{"firstName": awsv1.String("Ana")}, web)
	if awsv1.StringValue(out.IntentName) != "CheckBalance" || out.NluIntentConfidence == nil || awsv1.Float64Value(out.NluIntentConfidence.Score) < 0.6 {
		t.Fatalf("classification: %v", out)
	}
	if len(out.AlternativeIntents) == 0 || len(out.AlternativeIntents) > 4 {
		t.Errorf("alternativeIntents: %v", out.AlternativeIntents)
	}
	for i, a := range out.AlternativeIntents {
		if awsv1.StringValue(a.IntentName) == "CheckBalance" || a.NluIntentConfidence == nil ||
			i > 0 && awsv1.Float64Value(a.NluIntentConfidence.Score) > awsv1.Float64Value(out.AlternativeIntents[i-1].NluIntentConfidence.Score) {
			t.Errorf("alternative %d: %v", i, a)
		}
	}
	var c composite
	if awsv1.StringValue(out.MessageFormat) != "Composite" || json.Unmarshal([]byte(awsv1.StringValue(out.Message)), &c) != nil || len(c.Messages) != 2 ||
		c.Messages[0].Value != "Which account, Ana?" || c.Messages[1].Value != "You can say checking or savings on web." || c.Messages[1].Group != 2 {
		t.Errorf("composite message %q (%s)", awsv1.StringValue(out.Message), awsv1.StringValue(out.MessageFormat))
	}
	rc := out.ResponseCard
	if rc == nil || awsv1.StringValue(rc.Version) != "1" || len(rc.GenericAttachments) != 1 || awsv1.StringValue(rc.GenericAttachments[0].Title) != "Accounts of Ana" ||
		len(rc.GenericAttachments[0].Buttons) != 2 {
		t.Errorf("response card %v", rc)
	}
	if out.SentimentResponse == nil || awsv1.StringValue(out.SentimentResponse.SentimentLabel) != "NEUTRAL" ||
		!strings.HasPrefix(awsv1.StringValue(out.SentimentResponse.SentimentScore), "{") {
		t.Errorf("sentiment %v", out.SentimentResponse)
	}
	// AMAZON.RepeatIntent repeats the last answer and changes nothing
	rep := post("ana", "repeat that", nil, web)
	if awsv1.StringValue(rep.Message) != awsv1.StringValue(out.Message) || awsv1.StringValue(rep.SlotToElicit) != "AccountType" || awsv1.StringValue(rep.IntentName) != "CheckBalance" {
		t.Errorf("repeat: %v", rep)
	}
	// a message group without an accepted content type
	_, err := v.rt.PostText(&rt.PostTextInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("zed"), InputText: awsv1.String("what is my balance"),
		RequestAttributes: map[string]*string{"x-amz-lex:accept-content-types": awsv1.String("SSML")}})
	wantErr(t, err, "BadRequestException", 400)

	// fulfilment activates the output context, with the slots as parameters
	out = post("ana", "savings", nil, nil)
	if awsv1.StringValue(out.DialogState) != "ReadyForFulfillment" || len(out.ActiveContexts) != 1 ||
		awsv1.StringValue(out.ActiveContexts[0].Name) != "balanceChecked" || awsv1.Int64Value(out.ActiveContexts[0].TimeToLive.TurnsToLive) != 2 ||
		awsv1.StringValue(out.ActiveContexts[0].Parameters["AccountType"]) != "savings" {
		t.Fatalf("output context: %v", out)
	}
	// the context makes Transfer eligible; its default value comes from it
	out = post("ana", "transfer 50 dollars", nil, nil)
	if awsv1.StringValue(out.IntentName) != "Transfer" || awsv1.StringValue(out.DialogState) != "ReadyForFulfillment" ||
		awsv1.StringValue(out.Slots["Amount"]) != "50" || awsv1.StringValue(out.Slots["AccountType"]) != "savings" ||
		len(out.ActiveContexts) != 1 || awsv1.Int64Value(out.ActiveContexts[0].TimeToLive.TurnsToLive) != 1 {
		t.Errorf("transfer with context: %v", out)
	}
	post("ana", "what is my balance", nil, nil) // the context's last turn
	out = post("ana", "repeat that", nil, nil)
	if len(out.ActiveContexts) != 0 {
		t.Errorf("context outlived its turns: %v", out.ActiveContexts)
	}
	// without the context, Transfer is not eligible
	out = post("bob", "transfer money", nil, nil)
	if awsv1.StringValue(out.IntentName) == "Transfer" {
		t.Errorf("Transfer matched without its input context: %v", out)
	}
	// ... unless the request activates the context
	out, err = v.rt.PostText(&rt.PostTextInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("carl"), InputText: awsv1.String("transfer money"),
		ActiveContexts: []*rt.ActiveContext{{Name: awsv1.String("balanceChecked"), TimeToLive: &rt.ActiveContextTimeToLive{TurnsToLive: awsv1.Int64(3)},
			Parameters: map[string]*string{"AccountType": awsv1.String("checking")}}}})
	if err != nil || awsv1.StringValue(out.IntentName) != "Transfer" || awsv1.StringValue(out.SlotToElicit) != "Amount" {
		t.Errorf("request context: %v %v", out, err)
	}

	// nothing matches: the clarification prompt (maxAttempts 1), then the
	// fallback intent first with the candidates as alternatives
	out = post("dan", "purple monkey dishwasher", nil, nil)
	if awsv1.StringValue(out.DialogState) != "ElicitIntent" || awsv1.StringValue(out.Message) != clarify {
		t.Errorf("clarification: %v", out)
	}
	out = post("dan", "xylophone quantum", nil, nil)
	if awsv1.StringValue(out.IntentName) != "Fallback" || awsv1.StringValue(out.DialogState) != "ReadyForFulfillment" || out.NluIntentConfidence != nil || len(out.AlternativeIntents) == 0 {
		t.Errorf("fallback: %v", out)
	}

	// built-ins mid-dialog: StartOver restarts, Cancel ends the intent
	post("eve", "check my balance", nil, web)
	out = post("eve", "start over", nil, nil)
	if awsv1.StringValue(out.DialogState) != "ElicitIntent" || awsv1.StringValue(out.Message) != clarify {
		t.Errorf("start over: %v", out)
	}
	post("eve", "check my balance", nil, web)
	out = post("eve", "cancel", nil, nil)
	if awsv1.StringValue(out.IntentName) != "MyCancel" || awsv1.StringValue(out.DialogState) != "ReadyForFulfillment" {
		t.Errorf("cancel: %v", out)
	}
	s, err := v.rt.GetSession(&rt.GetSessionInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("eve")})
	if err != nil || len(s.RecentIntentSummaryView) < 2 || awsv1.StringValue(s.RecentIntentSummaryView[1].IntentName) != "CheckBalance" ||
		awsv1.StringValue(s.RecentIntentSummaryView[1].FulfillmentState) != "Failed" {
		t.Errorf("summary after cancel: %v %v", s, err)
	}
	if out = post("eve", "help me", nil, nil); awsv1.StringValue(out.IntentName) != "MyHelp" || out.Slots == nil || len(out.Slots) != 0 {
		t.Errorf("help (an intent without slots answers slots {}): %v", out)
	}
	// sentiment of a negative utterance
	if out = post("fay", "this is terrible, I hate it", nil, nil); out.SentimentResponse == nil || awsv1.StringValue(out.SentimentResponse.SentimentLabel) != "NEGATIVE" {
		t.Errorf("negative sentiment: %v", out.SentimentResponse)
	}
	// PostContent carries it in x-amz-lex-sentiment (base64 JSON, not decoded by SDKs)
	pc, err := v.rt.PostContent(&rt.PostContentInput{BotName: bot, BotAlias: alias, UserId: awsv1.String("gus"), ContentType: awsv1.String("text/plain; charset=utf-8"),
		InputStream: strings.NewReader("I love this, it is great")})
	if err != nil {
		t.Fatal(err)
	}
	var sent map[string]string
	if json.Unmarshal([]byte(decode64(t, pc.SentimentResponse)), &sent) != nil || sent["sentimentLabel"] != "POSITIVE" {
		t.Errorf("sentiment header %q", awsv1.StringValue(pc.SentimentResponse))
	}
}
