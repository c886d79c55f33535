package dialog

import (
	"encoding/json"
	"net/http"

	"lextrail/internal/awserr"
)

// obey carries out a code hook's dialogAction (spec §5.8).
func (t *turn) obey(r *hookResponse, source string) error {
	if err := t.applyHookState(r); err != nil {
		return err
	}
	a := r.DialogAction
	var lambdaMsg *rendered
	if a.Message != nil {
		switch a.Message.ContentType {
		case PlainText, SSML, CustomPayload:
		default:
			return dependencyFailed("Invalid Lambda Response: message.contentType %q must be PlainText, SSML or CustomPayload.", a.Message.ContentType)
		}
		content := a.Message.Content
		lambdaMsg = &rendered{text: &content, format: a.Message.ContentType}
	}
	var card *ResponseCard
	if len(a.ResponseCard) > 0 && string(a.ResponseCard) != "null" {
		if card = parseCard(a.ResponseCard); card == nil {
			return dependencyFailed("Invalid Lambda Response: responseCard is not a response card.")
		}
	}
	// message is the hook's message, else the configured one.
	message := func(msgs []Message, defCard *string) (rendered, error) {
		if lambdaMsg != nil {
			m := *lambdaMsg
			m.card = card
			return m, nil
		}
		m, err := t.render(msgs, defCard)
		if card != nil {
			m.card = card
		}
		return m, err
	}
	switch a.Type {
	case Close:
		if a.FulfillmentState != Fulfilled && a.FulfillmentState != Failed {
			return dependencyFailed("Invalid Lambda Response: Close needs fulfillmentState Fulfilled or Failed, not %q.", a.FulfillmentState)
		}
		if len(a.Slots) > 0 {
			if _, err := t.hookSlots(t.s.Intent.Name, a.Slots); err != nil {
				return err
			}
		}
		if lambdaMsg != nil {
			m := *lambdaMsg
			m.card = card
			lambdaMsg = &m
		}
		return t.fulfilled(a.FulfillmentState, lambdaMsg)
	case ConfirmIntent:
		if err := t.takeIntent(a.IntentName, a.Slots); err != nil {
			return err
		}
		in := t.b.Intent(t.s.Intent.Name)
		if lambdaMsg == nil && in.ConfirmationPrompt == nil {
			return dependencyFailed("Invalid Lambda Response: ConfirmIntent needs a message: intent %s has no confirmation prompt.", in.Name)
		}
		m, err := message(promptMessages(in.ConfirmationPrompt))
		if err != nil {
			return err
		}
		t.s.Intent.Confirmation, t.s.Intent.Attempts = ConfirmNone, 0
		t.confirmAnswer(m)
		return nil
	case Delegate:
		if t.s.Intent == nil {
			return dependencyFailed("Invalid Lambda Response: Delegate without an intent in progress.")
		}
		cleared := false
		if a.Slots != nil {
			var err error
			if cleared, err = t.hookSlots(t.s.Intent.Name, a.Slots); err != nil {
				return err
			}
		}
		if source == "FulfillmentCodeHook" {
			in := t.b.Intent(t.s.Intent.Name)
			if !cleared || firstEmpty(in, t.s.Intent) == nil {
				return dependencyFailed("Invalid Lambda Response: the fulfillment code hook returned Delegate without clearing a required slot; the intent cannot be fulfilled twice.")
			}
		}
		return t.decide()
	case ElicitIntent:
		if lambdaMsg == nil && t.b.ClarificationPrompt == nil {
			return awserr.New(http.StatusBadRequest, "BadRequestException",
				"Invalid Bot Configuration: ElicitIntent needs a message: the bot %s has no clarification prompt.", t.b.Name)
		}
		m, err := message(promptMessages(t.b.ClarificationPrompt))
		if err != nil {
			return err
		}
		t.elicitIntentAnswer(m)
		return nil
	case ElicitSlot:
		if err := t.takeIntent(a.IntentName, a.Slots); err != nil {
			return err
		}
		in := t.b.Intent(t.s.Intent.Name)
		if in.ParentIntentSignature != "" {
			return dependencyFailed("Invalid Lambda Response: ElicitSlot is not allowed for intent %s, which is derived from the built-in %s.", in.Name, in.ParentIntentSignature)
		}
		sd := in.Slot(a.SlotToElicit)
		if sd == nil {
			return dependencyFailed("Invalid Lambda Response: slotToElicit %q is not a slot of intent %s.", a.SlotToElicit, in.Name)
		}
		m, err := message(slotPrompt(sd))
		if err != nil {
			return err
		}
		t.s.Intent.Attempts = 0
		t.elicitSlotAnswer(sd.Name, m)
		return nil
	}
	return dependencyFailed("Invalid Lambda Response: dialogAction.type %q must be Close, ConfirmIntent, Delegate, ElicitIntent or ElicitSlot.", a.Type)
}

// takeIntent makes name (required) the intent in progress, with the
// hook's slots; naming another intent than the current one is a
// developer override.
func (t *turn) takeIntent(name string, slots map[string]json.RawMessage) error {
	if name == "" {
		return dependencyFailed("Invalid Lambda Response: dialogAction.intentName is required.")
	}
	if t.b.Intent(name) == nil {
		return dependencyFailed("Invalid Lambda Response: intent %s is not an intent of bot %s.", name, t.b.Name)
	}
	if t.s.Intent == nil || t.s.Intent.Name != name {
		t.r.DeveloperOverride = t.s.Intent != nil
		t.abandon(false)
		t.begin(name, nil)
	}
	_, err := t.hookSlots(name, slots)
	return err
}

// hookSlots sets the intent's slots from a hook answer: every slot the
// map names takes its value (null clears it). cleared reports whether a
// filled slot was cleared.
func (t *turn) hookSlots(intent string, slots map[string]json.RawMessage) (cleared bool, err error) {
	in := t.b.Intent(intent)
	st := t.s.Intent
	for k, raw := range slots {
		sd := in.Slot(k)
		if sd == nil {
			return false, dependencyFailed("Invalid Lambda Response: slot %s is not a slot of intent %s.", k, intent)
		}
		v, ok, e := scalar(raw)
		if e != nil {
			return false, dependencyFailed("Invalid Lambda Response: slot %s: %v", k, e)
		}
		old := st.Slots[k]
		if !ok {
			if old != nil {
				cleared = true
			}
			st.Slots[k] = nil
			delete(st.Details, k)
			continue
		}
		if old == nil || *old != v {
			st.Slots[k] = &v
			delete(st.Details, k)
		}
	}
	return cleared, nil
}
