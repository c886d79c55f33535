package dialog

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"lextrail/internal/awserr"
)

// PutInput is a PutSession request.
type PutInput struct {
	Now           time.Time
	UserID, Alias string
	// SessionAttributes replace the stored ones when non-nil.
	SessionAttributes map[string]string
	// DialogAction is the next action; nil keeps the current one.
	DialogAction *DialogAction
	// RecentIntentSummaryView replaces the stored view when non-nil.
	RecentIntentSummaryView []IntentSummary
	// ActiveContexts replace the stored ones when non-nil.
	ActiveContexts   []ActiveContext
	OutputDialogMode string
	TimeZone         string
}

func badRequest(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "BadRequestException", format, args...)
}

// Put sets the session's state (spec §5.5) and answers as the dialog
// action says: ElicitIntent (a message or the bot's clarification prompt),
// ElicitSlot, ConfirmIntent (the message or the intent's prompt), Close,
// or Delegate (the engine takes the next step, code hooks included).
func (e *Engine) Put(ctx context.Context, b *Bot, s *State, p PutInput) (*Response, error) {
	if err := checkPut(b, p); err != nil {
		return nil, err
	}
	t := e.newTurn(ctx, b, s, Input{Now: p.Now, UserID: p.UserID, Alias: p.Alias, OutputDialogMode: p.OutputDialogMode, TimeZone: p.TimeZone})
	if p.SessionAttributes != nil {
		s.Attributes = copyMap(p.SessionAttributes)
	}
	if p.ActiveContexts != nil {
		s.SetContexts(p.ActiveContexts, p.Now)
	}
	s.prune(p.Now)
	if p.RecentIntentSummaryView != nil {
		s.Recent = append([]IntentSummary(nil), p.RecentIntentSummaryView...)
		t.recentSet = true
	}
	s.FollowUp, s.ClarifyAttempts = nil, 0
	a := p.DialogAction
	if a == nil {
		t.replay()
		t.finish(false)
		return t.r, nil
	}
	var given *rendered
	if a.Message != nil {
		f := a.MessageFormat
		if f == "" {
			f = PlainText
		}
		given = &rendered{text: new(*a.Message), format: f}
	}
	msg := func(msgs []Message, card *string) (rendered, error) {
		if given != nil {
			return *given, nil
		}
		return t.render(msgs, card)
	}
	if a.IntentName != "" {
		if s.Intent == nil || s.Intent.Name != a.IntentName {
			t.begin(a.IntentName, nil)
		}
		st := s.Intent
		st.ensure()
		st.Attempts = 0
		for k, v := range a.Slots {
			if v == nil {
				st.Slots[k] = nil
				delete(st.Details, k)
			} else {
				st.Slots[k] = new(*v)
				delete(st.Details, k)
			}
		}
	}
	var err error
	switch a.Type {
	case ElicitIntent:
		var m rendered
		if m, err = msg(promptMessages(b.ClarificationPrompt)); err == nil {
			t.elicitIntentAnswer(m)
		}
	case ElicitSlot:
		sd := b.Intent(a.IntentName).Slot(a.SlotToElicit)
		var m rendered
		if m, err = msg(slotPrompt(sd)); err == nil {
			t.elicitSlotAnswer(sd.Name, m)
		}
	case ConfirmIntent:
		var m rendered
		if m, err = msg(promptMessages(b.Intent(a.IntentName).ConfirmationPrompt)); err == nil {
			s.Intent.Confirmation = ConfirmNone
			t.confirmAnswer(m)
		}
	case Close:
		var m rendered
		if given != nil {
			m = *given
		}
		if s.Intent != nil {
			t.closeAnswer(a.FulfillmentState, m)
		} else {
			s.Action = &DialogAction{Type: Close, FulfillmentState: a.FulfillmentState, Message: m.text, MessageFormat: formatOf(m)}
			t.respond(a.FulfillmentState, m)
		}
	case Delegate:
		err = t.next()
	}
	if err != nil {
		return nil, err
	}
	if p.RecentIntentSummaryView != nil {
		s.Recent = append([]IntentSummary(nil), p.RecentIntentSummaryView...) // exactly what was sent
	}
	t.finish(false)
	return t.r, nil
}

// replay answers a PutSession without dialogAction with the stored one.
func (t *turn) replay() {
	a := t.s.Action
	if a == nil {
		t.respond(ElicitIntent, rendered{})
		return
	}
	state := a.Type
	if state == Close {
		state = a.FulfillmentState
	}
	m := rendered{text: a.Message, format: a.MessageFormat}
	if t.s.Intent == nil && a.IntentName != "" {
		t.closed = &IntentState{Name: a.IntentName, Slots: a.Slots}
	}
	t.respond(state, m)
	t.r.SlotToElicit = a.SlotToElicit
}

var (
	actionTypes       = []string{ElicitIntent, ElicitSlot, ConfirmIntent, Close, Delegate}
	fulfillmentStates = []string{Fulfilled, Failed, ReadyForFulfillment}
	confirmStatuses   = []string{ConfirmNone, ConfirmConfirmed, ConfirmDenied}
	messageFormats    = []string{PlainText, CustomPayload, SSML, Composite}
)

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// checkPut validates a PutSession against the bot (400 on any mismatch).
func checkPut(b *Bot, p PutInput) error {
	checkSlots := func(where, intent string, slots map[string]*string, slot string) error {
		in := b.Intent(intent)
		if in == nil {
			return badRequest("%s: %s is not an intent of bot %s.", where, intent, b.Name)
		}
		for k := range slots {
			if in.Slot(k) == nil {
				return badRequest("%s: %s is not a slot of intent %s.", where, k, intent)
			}
		}
		if slot != "" && in.Slot(slot) == nil {
			return badRequest("%s: slotToElicit %s is not a slot of intent %s.", where, slot, intent)
		}
		return nil
	}
	if len(p.RecentIntentSummaryView) > maxRecent {
		return badRequest("recentIntentSummaryView has %d entries; at most %d are allowed.", len(p.RecentIntentSummaryView), maxRecent)
	}
	for i, r := range p.RecentIntentSummaryView {
		where := fmt.Sprintf("recentIntentSummaryView[%d]", i)
		if !oneOf(r.DialogActionType, actionTypes) {
			return badRequest("%s.dialogActionType %q must be one of %v.", where, r.DialogActionType, actionTypes)
		}
		if r.ConfirmationStatus != "" && !oneOf(r.ConfirmationStatus, confirmStatuses) {
			return badRequest("%s.confirmationStatus %q must be one of %v.", where, r.ConfirmationStatus, confirmStatuses)
		}
		if r.FulfillmentState != "" && !oneOf(r.FulfillmentState, fulfillmentStates) {
			return badRequest("%s.fulfillmentState %q must be one of %v.", where, r.FulfillmentState, fulfillmentStates)
		}
		if r.CheckpointLabel != "" && !validLabel(r.CheckpointLabel) {
			return badRequest("%s.checkpointLabel must be 1-255 characters of [a-zA-Z0-9-].", where)
		}
		if r.IntentName != "" {
			if err := checkSlots(where, r.IntentName, r.Slots, r.SlotToElicit); err != nil {
				return err
			}
		}
	}
	a := p.DialogAction
	if a == nil {
		return nil
	}
	if !oneOf(a.Type, actionTypes) {
		return badRequest("dialogAction.type %q must be one of %v.", a.Type, actionTypes)
	}
	if a.MessageFormat != "" && !oneOf(a.MessageFormat, messageFormats) {
		return badRequest("dialogAction.messageFormat %q must be one of %v.", a.MessageFormat, messageFormats)
	}
	if a.Message != nil && (len(*a.Message) == 0 || len([]rune(*a.Message)) > 1024) {
		return badRequest("dialogAction.message must be 1-1024 characters.")
	}
	if a.IntentName != "" {
		if err := checkSlots("dialogAction", a.IntentName, a.Slots, a.SlotToElicit); err != nil {
			return err
		}
	}
	switch a.Type {
	case ElicitIntent:
		if a.Message == nil && b.ClarificationPrompt == nil {
			return badRequest("dialogAction ElicitIntent needs a message: the bot %s has no clarification prompt.", b.Name)
		}
	case ElicitSlot:
		if a.IntentName == "" || a.SlotToElicit == "" {
			return badRequest("dialogAction ElicitSlot needs intentName and slotToElicit.")
		}
	case ConfirmIntent:
		if a.IntentName == "" {
			return badRequest("dialogAction ConfirmIntent needs intentName.")
		}
		if a.Message == nil && b.Intent(a.IntentName).ConfirmationPrompt == nil {
			return badRequest("dialogAction ConfirmIntent needs a message: intent %s has no confirmation prompt.", a.IntentName)
		}
	case Close:
		if !oneOf(a.FulfillmentState, fulfillmentStates) {
			return badRequest("dialogAction Close needs fulfillmentState %v.", fulfillmentStates)
		}
	case Delegate:
		if a.IntentName == "" {
			return badRequest("dialogAction Delegate needs intentName.")
		}
	}
	return nil
}

func validLabel(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// ensure makes the maps of an intent state (decoded states may lack them).
func (st *IntentState) ensure() {
	if st.Slots == nil {
		st.Slots = map[string]*string{}
	}
	if st.Details == nil {
		st.Details = map[string]*SlotDetail{}
	}
	if st.Confirmation == "" {
		st.Confirmation = ConfirmNone
	}
}
