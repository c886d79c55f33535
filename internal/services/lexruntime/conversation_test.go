package lexruntime_test

import (
	"strings"
	"testing"
	"time"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	rt "github.com/aws/aws-sdk-go/service/lexruntimeservice"
)

// TestOrderFlowers follows spec §5.1 / §8.5 R1–R5 turn by turn through the
// v1 SDK's lexruntimeservice client.
func TestOrderFlowers(t *testing.T) { eachDriver(t, testOrderFlowers) }

func testOrderFlowers(t *testing.T, db string) {
	v := newEnv(t, envOpts{dbURL: db})
	v.deploy(orderFlowersBot("OrderFlowersBot"))
	ny, _ := time.LoadLocation("America/New_York")
	today := v.e.Clock.Now().In(ny)
	tuesday := date(nextWeekday(today, time.Tuesday))

	u := v.user("OrderFlowersBot", "prod", "user-1")
	first := u.expect(turn{say: "i would like to order flowers", state: "ElicitSlot", intent: "OrderFlowers", slot: "FlowerType",
		msg: "What type of flowers would you like to order?", slots: map[string]string{"FlowerType": "null", "PickupDate": "null", "PickupTime": "null"}})
	if awsv1.StringValue(first.MessageFormat) != "PlainText" || awsv1.StringValue(first.BotVersion) != "1" || awsv1.StringValue(first.SessionId) == "" {
		t.Errorf("R1: messageFormat %v, botVersion %v, sessionId %v", first.MessageFormat, first.BotVersion, first.SessionId)
	}
	if first.NluIntentConfidence != nil || first.AlternativeIntents != nil {
		t.Errorf("confidence scores without enableModelImprovements: %v %v", first.NluIntentConfidence, first.AlternativeIntents)
	}
	u.expect(
		turn{say: "roses", state: "ElicitSlot", slot: "PickupDate", msg: "What day do you want the roses to be picked up?", slots: map[string]string{"FlowerType": "roses"}},
		turn{say: "tuesday", state: "ElicitSlot", slot: "PickupTime", slots: map[string]string{"PickupDate": tuesday}},
		turn{say: "10:00 a.m.", state: "ConfirmIntent", slot: "-",
			msg: "Okay, your roses will be ready for pickup by 10:00 on " + tuesday + ".  Does this sound okay?"},
	)
	last := u.expect(turn{say: "yes", state: "ReadyForFulfillment", intent: "OrderFlowers", msg: "-", slot: "-",
		slots: map[string]string{"FlowerType": "roses", "PickupDate": tuesday, "PickupTime": "10:00"}})
	if awsv1.StringValue(last.SessionId) != awsv1.StringValue(first.SessionId) {
		t.Errorf("R4: session changed from %s to %s", awsv1.StringValue(first.SessionId), awsv1.StringValue(last.SessionId))
	}
	other := v.user("OrderFlowersBot", "prod", "user-2").say("i would like to order flowers")
	if awsv1.StringValue(other.SessionId) == awsv1.StringValue(first.SessionId) {
		t.Error("R4: two users share a sessionId")
	}

	// R5: session attributes are kept until replaced; {} clears them.
	out, err := v.rt.PostText(&rt.PostTextInput{BotName: awsv1.String("OrderFlowersBot"), BotAlias: awsv1.String("prod"), UserId: awsv1.String("user-3"),
		InputText: awsv1.String("send flowers"), SessionAttributes: map[string]*string{"a": awsv1.String("b")}})
	if err != nil || awsv1.StringValue(out.SessionAttributes["a"]) != "b" {
		t.Fatalf("R5 first: %v %v", out, err)
	}
	out = v.user("OrderFlowersBot", "prod", "user-3").say("tulips")
	if awsv1.StringValue(out.SessionAttributes["a"]) != "b" {
		t.Errorf("R5: attributes dropped: %v", out.SessionAttributes)
	}
	out, err = v.rt.PostText(&rt.PostTextInput{BotName: awsv1.String("OrderFlowersBot"), BotAlias: awsv1.String("prod"), UserId: awsv1.String("user-3"),
		InputText: awsv1.String("tomorrow"), SessionAttributes: map[string]*string{}})
	if err != nil || len(out.SessionAttributes) != 0 {
		t.Errorf("R5: {} did not clear: %v %v", out, err)
	}
	if want := date(today.AddDate(0, 0, 1)); awsv1.StringValue(out.Slots["PickupDate"]) != want {
		t.Errorf("tomorrow = %v, want %s", awsv1.StringValue(out.Slots["PickupDate"]), want)
	}
}

// TestConfirmationDenied: "no" answers the rejection statement and Failed;
// "yes, but …" updates a slot and confirms again.
func TestConfirmationDenied(t *testing.T) {
	v := newEnv(t)
	v.deploy(orderFlowersBot("OrderFlowersBot"))
	u := v.user("OrderFlowersBot", "prod", "deny")
	u.expect(
		turn{say: "I want to order roses", state: "ElicitSlot", slot: "PickupDate", slots: map[string]string{"FlowerType": "roses"}},
		turn{say: "tomorrow", state: "ElicitSlot", slot: "PickupTime"},
		turn{say: "3 pm", state: "ConfirmIntent", slots: map[string]string{"PickupTime": "15:00"}},
		turn{say: "yes, but make it tulips", state: "ConfirmIntent", slots: map[string]string{"FlowerType": "tulips"}},
		turn{say: "no", state: "Failed", intent: "OrderFlowers", msg: "Okay, I will not place your order."},
		// the intent is over: a new one starts
		turn{say: "order flowers", state: "ElicitSlot", slot: "FlowerType", slots: map[string]string{"FlowerType": "null"}},
	)
	s, err := v.rt.GetSession(&rt.GetSessionInput{BotName: awsv1.String("OrderFlowersBot"), BotAlias: awsv1.String("prod"), UserId: awsv1.String("deny")})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.RecentIntentSummaryView) != 2 || awsv1.StringValue(s.RecentIntentSummaryView[1].FulfillmentState) != "Failed" ||
		awsv1.StringValue(s.RecentIntentSummaryView[1].ConfirmationStatus) != "Denied" || awsv1.StringValue(s.RecentIntentSummaryView[0].DialogActionType) != "ElicitSlot" {
		t.Errorf("recentIntentSummaryView = %v", s.RecentIntentSummaryView)
	}
}

// TestClarificationThenAbort: R6 — two clarification prompts, then the
// abort statement with Failed; the bot listens again afterwards.
func TestClarificationThenAbort(t *testing.T) {
	v := newEnv(t)
	v.deploy(orderFlowersBot("OrderFlowersBot"))
	u := v.user("OrderFlowersBot", "prod", "confused")
	u.expect(
		turn{say: "what is the weather on mars", state: "ElicitIntent", intent: "-", msg: clarify},
		turn{say: "blah blah", state: "ElicitIntent", intent: "-", msg: clarify},
		turn{say: "qwerty uiop", state: "Failed", intent: "-", msg: abort},
		turn{say: "order flowers", state: "ElicitSlot", intent: "OrderFlowers"},
	)
	// a slot that is never understood is re-prompted maxAttempts times,
	// then aborted
	u.expect(
		turn{say: "roses", state: "ElicitSlot", slot: "PickupDate"},
		turn{say: "banana", state: "ElicitSlot", slot: "PickupDate", msg: "What day do you want the roses to be picked up?"},
		turn{say: "purple", state: "ElicitSlot", slot: "PickupDate"},
		turn{say: "elephant", state: "Failed", intent: "OrderFlowers", msg: abort},
	)
}

// TestIntentSwitch: a clearly different intent mid-dialog takes over.
func TestIntentSwitch(t *testing.T) { eachDriver(t, testIntentSwitch) }

func testIntentSwitch(t *testing.T, db string) {
	v := newEnv(t, envOpts{dbURL: db})
	v.deploy(bookTripBot("BookTrip"))
	ny, _ := time.LoadLocation("America/New_York")
	today := v.e.Clock.Now().In(ny)
	u := v.user("BookTrip", "prod", "traveller")
	u.expect(
		turn{say: "I need a hotel room in Chicago", state: "ElicitSlot", intent: "BookHotel", slot: "CheckInDate", slots: map[string]string{"Location": "Chicago"}},
		turn{say: "next friday", state: "ElicitSlot", slot: "Nights", slots: map[string]string{"CheckInDate": date(today.AddDate(0, 0, (int(time.Friday)-int(today.Weekday())+6)%7+1))}},
		turn{say: "actually I want to rent a car", state: "ElicitSlot", intent: "BookCar", slot: "PickUpCity",
			slots: map[string]string{"PickUpCity": "null", "DriverAge": "null"}},
		turn{say: "Seattle", state: "ElicitSlot", slot: "PickUpDate", slots: map[string]string{"PickUpCity": "Seattle"}},
		turn{say: "in two weeks", state: "ElicitSlot", slot: "ReturnDate", slots: map[string]string{"PickUpDate": date(today.AddDate(0, 0, 14))}},
		turn{say: date(today.AddDate(0, 0, 20)), state: "ElicitSlot", slot: "DriverAge"},
		turn{say: "twenty two", state: "ElicitSlot", slot: "CarType", slots: map[string]string{"DriverAge": "22"}},
		turn{say: "a midsize please", state: "ConfirmIntent", slots: map[string]string{"CarType": "midsize"}},
		turn{say: "yes", state: "ReadyForFulfillment", intent: "BookCar"},
	)
	s, err := v.rt.GetSession(&rt.GetSessionInput{BotName: awsv1.String("BookTrip"), BotAlias: awsv1.String("prod"), UserId: awsv1.String("traveller")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range s.RecentIntentSummaryView {
		names = append(names, awsv1.StringValue(r.IntentName)+"/"+awsv1.StringValue(r.DialogActionType))
	}
	if strings.Join(names, ",") != "BookCar/Close,BookHotel/ElicitSlot" {
		t.Errorf("recentIntentSummaryView = %v", names)
	}
}

// TestSpanish: the same conversations in es-ES.
func TestSpanish(t *testing.T) {
	v := newEnv(t)
	v.deploy(viajesFloresBot("ViajesFlores"))
	mad, _ := time.LoadLocation("Europe/Madrid")
	u := v.user("ViajesFlores", "prod", "usuario-1")
	u.reqAttrs = map[string]*string{"x-amz-lex:time-zone": awsv1.String("Europe/Madrid")}
	today := v.e.Clock.Now().In(mad)
	friday := date(today.AddDate(0, 0, (int(time.Friday)-int(today.Weekday())+6)%7+1))
	u.expect(
		turn{say: "me gustaría pedir unas flores", state: "ElicitSlot", intent: "PedirFlores", slot: "TipoFlor", msg: "¿Qué tipo de flores quieres encargar?"},
		turn{say: "rosas", state: "ElicitSlot", slot: "FechaRecogida", msg: "¿Qué día quieres recoger las rosas?"},
		turn{say: "el próximo viernes", state: "ElicitSlot", slot: "HoraRecogida", slots: map[string]string{"FechaRecogida": friday}},
		turn{say: "a las cinco de la tarde", state: "ConfirmIntent", slots: map[string]string{"HoraRecogida": "17:00"},
			msg: "Vale, tus rosas estarán listas a las 17:00 del " + friday + ". ¿Te parece bien?"},
		turn{say: "sí", state: "ReadyForFulfillment", intent: "PedirFlores", msg: "-"},
	)
	u.expect(
		turn{say: "quiero encargar tulipanes", state: "ElicitSlot", slot: "FechaRecogida", slots: map[string]string{"TipoFlor": "tulipanes"}},
		turn{say: "pasado mañana", state: "ElicitSlot", slot: "HoraRecogida", slots: map[string]string{"FechaRecogida": date(today.AddDate(0, 0, 2))}},
		turn{say: "a las 10", state: "ConfirmIntent"},
		turn{say: "no", state: "Failed", msg: rechazar},
	)
	u.expect(
		turn{say: "cuál es el sentido de la vida", state: "ElicitIntent", intent: "-", msg: aclarar},
		turn{say: "patata", state: "ElicitIntent", msg: aclarar},
		turn{say: "zzz", state: "Failed", msg: abortar},
	)
	u.expect(
		turn{say: "quiero pedir flores", state: "ElicitSlot", intent: "PedirFlores"},
		turn{say: "necesito un hotel en Barcelona", state: "ElicitSlot", intent: "ReservarHotel", slot: "FechaEntrada", slots: map[string]string{"Ciudad": "Barcelona"}},
		turn{say: "mañana", state: "ElicitSlot", slot: "Noches"},
		turn{say: "veintidós", state: "ConfirmIntent", slots: map[string]string{"Noches": "22"}},
		turn{say: "vale", state: "ReadyForFulfillment", intent: "ReservarHotel"},
	)
}
