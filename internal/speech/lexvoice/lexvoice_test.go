package lexvoice_test

import (
	"testing"

	"lextrail/internal/services/lexruntime"
	"lextrail/internal/speech"
	"lextrail/internal/speech/lexvoice"
)

func TestFocus(t *testing.T) {
	for _, c := range []struct {
		r    lexruntime.RecognizeRequest
		want string
	}{
		{lexruntime.RecognizeRequest{}, speech.FocusIntent},
		{lexruntime.RecognizeRequest{DialogState: "ElicitIntent"}, speech.FocusIntent},
		{lexruntime.RecognizeRequest{DialogState: "ElicitSlot", IntentName: "OrderFlowers", SlotToElicit: "PickupDate"}, speech.SlotFocus("OrderFlowers", "PickupDate")},
		{lexruntime.RecognizeRequest{DialogState: "ElicitSlot"}, speech.FocusIntent},
		{lexruntime.RecognizeRequest{DialogState: "ConfirmIntent", IntentName: "OrderFlowers"}, speech.FocusConfirm},
		{lexruntime.RecognizeRequest{DialogState: "Close", FollowUp: true}, speech.FocusConfirm},
		{lexruntime.RecognizeRequest{DialogState: "Close"}, speech.FocusIntent},
	} {
		if got := lexvoice.Focus(c.r); got != c.want {
			t.Errorf("%+v: %s, want %s", c.r, got, c.want)
		}
	}
}

func TestSpoken(t *testing.T) {
	for _, c := range []struct{ text, format, want string }{
		{"Hello there", "PlainText", "Hello there"},
		{"<speak>Hello <break time=\"1s\"/></speak>", "SSML", "<speak>Hello <break time=\"1s\"/></speak>"},
		{`{"key":"value"}`, "CustomPayload", ""},
		{`{"messages":[{"type":"PlainText","group":1,"value":"Hi."},{"type":"SSML","group":2,"value":"<speak>How are <emphasis>you</emphasis>?</speak>"},{"type":"CustomPayload","group":3,"value":"x"}]}`, "Composite", "<speak>Hi. How are <emphasis>you</emphasis>?</speak>"},
		{`{"messages":[{"type":"PlainText","group":1,"value":"Tom & Jerry"},{"type":"PlainText","group":2,"value":"bye"}]}`, "Composite", "Tom & Jerry bye"},
		{`{"messages":[{"type":"PlainText","group":1,"value":"Tom & Jerry"},{"type":"SSML","group":2,"value":"<speak>bye</speak>"}]}`, "Composite", "<speak>Tom &amp; Jerry bye</speak>"},
		{"not json", "Composite", "not json"},
	} {
		if got := lexvoice.Spoken(c.text, c.format); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.format, c.text, got, c.want)
		}
	}
}
