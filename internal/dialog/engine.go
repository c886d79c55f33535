package dialog

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/nlu"
)

// Config configures an Engine. The zero value of each field is its
// documented default.
type Config struct {
	// Hooks invokes code hooks. Nil: an intent with a code hook fails its
	// turn with 424 DependencyFailedException.
	Hooks Invoker
	// HookTimeout bounds one code hook invocation. Default 30s (Lex's).
	HookTimeout time.Duration
	// FollowUpState is the dialogState answered together with a fulfilled
	// intent's follow-up prompt: ElicitIntent (default) or ConfirmIntent
	// (the real service's choice is undocumented, spec §9.4).
	FollowUpState string
	// SwitchConfidence is how sure the classifier must be of another
	// intent for an answer that fills nothing to switch intents mid-dialog
	// (never below the bot's threshold). Default 0.6.
	SwitchConfidence float64
	// OnHook, when set, observes every code hook invocation.
	OnHook func(functionARN, source string, took time.Duration, err error)
}

// Engine runs dialog turns. It holds no conversation state and is safe
// for concurrent use.
type Engine struct{ cfg Config }

// New returns an Engine.
func New(cfg Config) *Engine {
	if cfg.HookTimeout <= 0 {
		cfg.HookTimeout = DefaultHookTimeout
	}
	if cfg.FollowUpState != ConfirmIntent {
		cfg.FollowUpState = ElicitIntent
	}
	if cfg.SwitchConfidence <= 0 {
		cfg.SwitchConfidence = 0.6
	}
	return &Engine{cfg: cfg}
}

// Input is one user turn (PostText / PostContent).
type Input struct {
	Text string
	Now  time.Time
	// UserID and Alias are reported to code hooks.
	UserID, Alias string
	// SessionAttributes replace the stored ones when non-nil ({} clears).
	SessionAttributes map[string]string
	// RequestAttributes live for this turn only.
	RequestAttributes map[string]string
	// ActiveContexts replace the stored ones when non-nil ([] clears).
	ActiveContexts []ActiveContext
	// OutputDialogMode is Text or Voice (for code hooks).
	OutputDialogMode string
	// TimeZone resolves relative dates and times when the request names
	// none (x-amz-lex:time-zone); empty: UTC.
	TimeZone string
}

// Response is the bot's answer to a turn, in the runtime's terms, plus
// what utterance statistics and conversation logs need to know about it.
type Response struct {
	IntentName          string
	NluIntentConfidence *IntentConfidence
	AlternativeIntents  []PredictedIntent
	// Slots holds every slot of the intent (unfilled ones nil); nil when
	// there is no intent.
	Slots             map[string]*string
	SessionAttributes map[string]string
	Message           *string
	MessageFormat     string
	DialogState       string
	SlotToElicit      string
	ResponseCard      *ResponseCard
	SentimentResponse *Sentiment
	ActiveContexts    []ActiveContext

	// Missed is true when the input was not understood (no intent, no
	// slot value, no answer to a confirmation or follow-up).
	Missed bool
	// DeveloperOverride is true when a code hook switched intents.
	DeveloperOverride bool
	// Sensitive is true when the input held a value of an obfuscated slot
	// (or answered an obfuscated slot's elicitation): the runtime does not
	// store it in utterance statistics.
	Sensitive bool
	// LogTranscript is the input with obfuscated slot values masked as
	// {SlotName} (spec §4.3; literal braces escaped with two backslashes);
	// LogSlots is Slots masked the same way, and LogAlternativeIntents is
	// AlternativeIntents with the obfuscated slots of each intent masked.
	LogTranscript         string
	LogSlots              map[string]*string
	LogAlternativeIntents []PredictedIntent
}

type turn struct {
	e   *Engine
	ctx context.Context
	b   *Bot
	s   *State
	in  Input
	r   *Response

	opts      nlu.Options
	parsed    *nlu.Result
	sentiment *Sentiment
	// closed is the intent that ended this turn.
	closed    *IntentState
	hookCalls int
	recentSet bool
	// fresh are contexts activated this turn (not decremented by it).
	fresh    map[string]bool
	repeated bool
	// classified is set when the turn's intent was chosen by the
	// classifier (its confidence and the alternatives are reported).
	classified bool
	masked     map[string]string // original text -> {Slot}
	maskAll    string
}

func (e *Engine) newTurn(ctx context.Context, b *Bot, s *State, in Input) *turn {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	if s.Attributes == nil {
		s.Attributes = map[string]string{}
	}
	if s.Intent != nil {
		s.Intent.ensure()
	}
	t := &turn{e: e, ctx: ctx, b: b, s: s, in: in, r: &Response{}, fresh: map[string]bool{}}
	tz := in.TimeZone
	if z := in.RequestAttributes["x-amz-lex:time-zone"]; z != "" {
		tz = z
	}
	t.opts = nlu.Options{Now: in.Now, TimeZone: tz, Max: 1}
	if b.EnableModelImprovements {
		t.opts.Max = 5 // the chosen intent and up to 4 alternatives, with their slots
	}
	return t
}

// Turn answers one user input and updates s. On error the turn did not
// happen: s may be half-changed and must be discarded.
func (e *Engine) Turn(ctx context.Context, b *Bot, s *State, in Input) (*Response, error) {
	t := e.newTurn(ctx, b, s, in)
	if in.SessionAttributes != nil {
		s.Attributes = copyMap(in.SessionAttributes)
	}
	if in.ActiveContexts != nil {
		s.SetContexts(in.ActiveContexts, in.Now)
	}
	s.prune(in.Now)
	if b.DetectSentiment && strings.TrimSpace(in.Text) != "" {
		ns := nlu.DetectSentiment(in.Text, b.Locale)
		t.sentiment = &Sentiment{SentimentLabel: ns.SentimentLabel, SentimentScore: ns.SentimentScore}
	}
	var err error
	switch {
	case s.FollowUp != nil:
		err = t.answerFollowUp()
	case s.Intent != nil && s.Action != nil && s.Action.Type == ElicitSlot && b.Intent(s.Intent.Name) != nil:
		err = t.answerSlot()
	case s.Intent != nil && s.Action != nil && s.Action.Type == ConfirmIntent && b.Intent(s.Intent.Name) != nil:
		err = t.answerConfirm()
	default:
		s.Intent = nil
		err = t.elicitIntent()
	}
	if err != nil {
		return nil, err
	}
	t.finish(true)
	return t.r, nil
}

// finish completes the response and the state after a turn.
func (t *turn) finish(decrement bool) {
	s, now := t.s, t.in.Now
	if decrement {
		for i := range s.Contexts {
			c := &s.Contexts[i]
			if c.TurnsLeft != nil && !t.fresh[c.Name] {
				*c.TurnsLeft--
			}
		}
	}
	s.prune(now)
	s.Turns++
	r := t.r
	r.SessionAttributes = copyMap(s.Attributes)
	r.ActiveContexts = s.ActiveContexts(now)
	r.SentimentResponse = t.sentiment
	if t.b.EnableModelImprovements && t.classified && r.IntentName != "" {
		if in := s.Intent; in != nil && in.Confidence != nil {
			r.NluIntentConfidence = &IntentConfidence{Score: *in.Confidence}
		} else if t.closed != nil && t.closed.Confidence != nil {
			r.NluIntentConfidence = &IntentConfidence{Score: *t.closed.Confidence}
		}
		r.AlternativeIntents = t.alternatives(r.IntentName)
	}
	if !t.repeated {
		s.LastCard = r.ResponseCard
	}
	t.logView()
}

// respond fills the response from the intent in progress (or the one that
// just ended): no intent is named with ElicitIntent, except for a pending
// follow-up prompt.
func (t *turn) respond(state string, m rendered) {
	r := t.r
	r.DialogState, r.Message, r.MessageFormat, r.ResponseCard = state, m.text, m.format, m.card
	if m.text != nil && r.MessageFormat == "" {
		r.MessageFormat = PlainText
	}
	in := t.s.Intent
	if in == nil {
		in = t.closed
	}
	if in != nil && (state != ElicitIntent || t.s.FollowUp != nil) {
		r.IntentName, r.Slots = in.Name, copySlots(in.Slots)
	} else {
		r.IntentName, r.Slots = "", nil
	}
}

// ---- ElicitIntent ----

// eligible lists the intents the classifier may choose: those whose input
// contexts are all active, without the fallback and Kendra intents.
func (t *turn) eligible() []string {
	if t.b.allEligible != nil {
		return t.b.allEligible // the same slice every turn: nlu memoizes its mask
	}
	var out []string
	for _, in := range t.b.Intents {
		if !t.b.classifiable[in.Name] {
			continue
		}
		ok := true
		for _, c := range in.InputContexts {
			if !t.s.contextActive(c.Name, t.in.Now) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, in.Name)
		}
	}
	return out
}

// parse classifies the input once per turn.
func (t *turn) parse() *nlu.Result {
	if t.parsed == nil {
		opts := t.opts
		opts.Intents = t.eligible()
		if opts.Intents == nil {
			opts.Intents = []string{}
		}
		r := t.b.NLU.Parse(t.in.Text, opts)
		t.parsed = &r
	}
	return t.parsed
}

// best is the top intent when it reaches the bot's threshold.
func (t *turn) best() *nlu.IntentResult {
	r := t.parse()
	if len(r.Intents) == 0 || r.Intents[0].Confidence < t.b.Threshold() || r.Intents[0].Confidence <= 0 {
		return nil
	}
	return &r.Intents[0]
}

// alternatives are up to 4 other candidates, best first (spec §5.1).
func (t *turn) alternatives(chosen string) []PredictedIntent {
	if t.parsed == nil {
		return nil
	}
	var out []PredictedIntent
	for _, c := range t.parsed.Intents {
		if c.Name == chosen || len(out) == 4 {
			continue
		}
		in := t.b.Intent(c.Name)
		if in == nil {
			continue
		}
		slots := map[string]*string{}
		for _, sd := range in.Slots {
			slots[sd.Name] = nil
			if v, ok := c.Slots[sd.Name]; ok {
				slots[sd.Name] = new(v.Resolved)
			}
		}
		out = append(out, PredictedIntent{IntentName: c.Name, NluIntentConfidence: &IntentConfidence{Score: c.Confidence}, Slots: slots})
	}
	return out
}

func (t *turn) elicitIntent() error {
	if best := t.best(); best != nil {
		t.classified = true
		return t.start(best)
	}
	t.r.Missed = true
	return t.noMatch()
}

// noMatch: clarification prompt up to maxAttempts, then the fallback
// intent, else the abort statement (spec §5.3 step 1).
func (t *turn) noMatch() error {
	b, s := t.b, t.s
	if b.ClarificationPrompt != nil {
		s.ClarifyAttempts++
		if s.ClarifyAttempts <= maxAttempts(b.ClarificationPrompt) {
			return t.clarify()
		}
		s.ClarifyAttempts = 0
		if b.Fallback() != nil {
			return t.runFallback()
		}
		return t.abort()
	}
	if b.Fallback() != nil {
		return t.runFallback()
	}
	return awserr.New(http.StatusBadRequest, "BadRequestException",
		"Invalid Bot Configuration: the bot %s did not understand the input and has neither a clarification prompt nor a fallback intent.", b.Name)
}

func (t *turn) clarify() error {
	m, err := t.render(promptMessages(t.b.ClarificationPrompt))
	if err != nil {
		return err
	}
	t.elicitIntentAnswer(m)
	return nil
}

func (t *turn) runFallback() error {
	fb := t.b.Fallback()
	t.classified = true
	t.begin(fb.Name, nil)
	return t.fulfil()
}

func (t *turn) abort() error {
	m, err := t.render(statementMessages(t.b.AbortStatement))
	if err != nil {
		return err
	}
	t.s.ClarifyAttempts = 0
	if t.s.Intent != nil {
		t.closeAnswer(Failed, m)
		return nil
	}
	t.s.Action = &DialogAction{Type: Close, FulfillmentState: Failed, Message: m.text, MessageFormat: formatOf(m)}
	t.respond(Failed, m)
	return nil
}

// start begins the intent the classifier chose, with the slots it found.
func (t *turn) start(res *nlu.IntentResult) error {
	in := t.b.Intent(res.Name)
	if in == nil {
		return awserr.Internal(nil)
	}
	if !in.hooked() {
		switch in.ParentIntentSignature {
		case RepeatIntent:
			if t.s.Action != nil {
				t.repeat()
				return nil
			}
		case StartOver:
			if t.b.ClarificationPrompt != nil {
				t.abandon(true)
				t.s.ClarifyAttempts = 0
				return t.clarify()
			}
		case CancelIntent, StopIntent:
			t.abandon(true)
		}
	}
	t.s.ClarifyAttempts = 0
	t.begin(in.Name, res)
	return t.next()
}

// begin makes name the intent in progress.
func (t *turn) begin(name string, res *nlu.IntentResult) {
	in := t.b.Intent(name)
	st := &IntentState{Name: name, Slots: map[string]*string{}, Details: map[string]*SlotDetail{}, Confirmation: ConfirmNone}
	for _, sd := range in.Slots {
		st.Slots[sd.Name] = nil
	}
	if res != nil {
		c := res.Confidence
		st.Confidence = &c
		for _, sd := range in.Slots {
			if v, ok := res.Slots[sd.Name]; ok {
				t.setSlot(st, &sd, v)
			}
		}
	}
	t.s.Intent = st
	if !t.recentSet {
		t.s.pushRecent(name)
	}
}

// abandon ends the intent in progress without fulfilment (an intent
// switch); failed marks its summary Close/Failed (AMAZON.CancelIntent).
func (t *turn) abandon(failed bool) {
	if t.s.Intent == nil {
		return
	}
	if failed {
		t.summarize(t.s.Intent, Close, Failed, "")
	}
	t.s.Intent = nil
}

func (t *turn) repeat() {
	t.repeated = true
	a := t.s.Action
	r := t.r
	r.IntentName, r.Slots, r.Message, r.MessageFormat = a.IntentName, copySlots(a.Slots), a.Message, a.MessageFormat
	r.DialogState, r.SlotToElicit, r.ResponseCard = a.Type, a.SlotToElicit, t.s.LastCard
	if a.Type == Close {
		r.DialogState = a.FulfillmentState
	}
	if r.IntentName != "" && r.Slots == nil {
		r.Slots = map[string]*string{}
	}
}

// setSlot stores a value the language model found.
func (t *turn) setSlot(st *IntentState, sd *SlotDef, v nlu.SlotValue) {
	val := v.Resolved
	st.Slots[sd.Name] = &val
	d := &SlotDetail{Resolutions: []Resolution{}, OriginalValue: new(v.Original)}
	for i, r := range v.Resolutions {
		if i == 5 {
			break
		}
		d.Resolutions = append(d.Resolutions, Resolution{Value: r})
	}
	if v.Original == val && len(d.Resolutions) == 1 && d.Resolutions[0].Value == val {
		delete(st.Details, sd.Name) // the event synthesises the obvious detail
	} else {
		st.Details[sd.Name] = d
	}
	if sd.Obfuscated() {
		t.mask(v.Original, sd.Name)
	}
}

// ---- the next step (spec §5.3 step 4) ----

// next invokes the dialog code hook, if any, and obeys it; otherwise it
// decides.
func (t *turn) next() error {
	in := t.b.Intent(t.s.Intent.Name)
	t.applyDefaults(in)
	if in.DialogCodeHook != nil && in.ParentIntentSignature != FallbackIntent {
		r, err := t.invoke(in.DialogCodeHook, "DialogCodeHook")
		if err != nil {
			return err
		}
		return t.obey(r, "DialogCodeHook")
	}
	return t.decide()
}

// decide: the first empty required slot by priority is elicited, else the
// confirmation prompt is asked, else the intent is fulfilled.
func (t *turn) decide() error {
	st := t.s.Intent
	in := t.b.Intent(st.Name)
	t.applyDefaults(in)
	if sd := firstEmpty(in, st); sd != nil {
		st.Attempts = 0
		m, err := t.render(slotPrompt(sd))
		if err != nil {
			return err
		}
		t.elicitSlotAnswer(sd.Name, m)
		return nil
	}
	if st.Confirmation == ConfirmDenied {
		return t.reject()
	}
	if in.ConfirmationPrompt != nil && st.Confirmation != ConfirmConfirmed {
		st.Attempts = 0
		m, err := t.render(promptMessages(in.ConfirmationPrompt))
		if err != nil {
			return err
		}
		t.confirmAnswer(m)
		return nil
	}
	return t.fulfil()
}

// firstEmpty is the unfilled required slot with the lowest priority.
func firstEmpty(in *Intent, st *IntentState) *SlotDef {
	var best *SlotDef
	for i := range in.Slots {
		sd := &in.Slots[i]
		if !sd.Required() || st.Slots[sd.Name] != nil {
			continue
		}
		if best == nil || prio(sd) < prio(best) {
			best = sd
		}
	}
	return best
}

func prio(sd *SlotDef) int {
	if sd.Priority == nil {
		return 1 << 30
	}
	return *sd.Priority
}

func slotPrompt(sd *SlotDef) ([]Message, *string) {
	msgs, card := promptMessages(sd.ValueElicitationPrompt)
	if sd.ResponseCard != nil {
		card = sd.ResponseCard
	}
	return msgs, card
}

func (t *turn) reject() error {
	in := t.b.Intent(t.s.Intent.Name)
	m, err := t.render(statementMessages(in.RejectionStatement))
	if err != nil {
		return err
	}
	t.closeAnswer(Failed, m)
	return nil
}

// fulfil returns the intent (ReturnIntent) or invokes its fulfilment
// code hook (spec §5.3 step 5).
func (t *turn) fulfil() error {
	in := t.b.Intent(t.s.Intent.Name)
	if fa := in.FulfillmentActivity; fa != nil && fa.Type == "CodeHook" && fa.CodeHook != nil {
		r, err := t.invoke(fa.CodeHook, "FulfillmentCodeHook")
		if err != nil {
			return err
		}
		return t.obey(r, "FulfillmentCodeHook")
	}
	t.activateOutputs(in)
	t.closeAnswer(ReadyForFulfillment, rendered{})
	return nil
}

// fulfilled closes the intent as a code hook said (Close).
func (t *turn) fulfilled(state string, lm *rendered) error {
	in := t.b.Intent(t.s.Intent.Name)
	var m rendered
	if lm != nil {
		m = *lm
	}
	followUp := false
	if state == Fulfilled {
		t.activateOutputs(in)
		if lm == nil {
			var err error
			switch {
			case in.ConclusionStatement != nil:
				m, err = t.render(statementMessages(in.ConclusionStatement))
			case in.FollowUpPrompt != nil && in.FollowUpPrompt.Prompt != nil:
				m, err = t.render(promptMessages(in.FollowUpPrompt.Prompt))
			}
			if err != nil {
				return err
			}
		}
		followUp = in.FollowUpPrompt != nil && in.FollowUpPrompt.Prompt != nil
	}
	t.closeAnswer(state, m)
	if followUp {
		c := t.closed
		t.s.FollowUp = &FollowUp{Intent: c.Name, Slots: copySlots(c.Slots)}
		st := t.e.cfg.FollowUpState
		t.s.Action = &DialogAction{Type: st, IntentName: c.Name, Slots: copySlots(c.Slots), Message: m.text, MessageFormat: formatOf(m)}
		t.r.DialogState = st
	}
	return nil
}

// ---- answers that end in a dialog state ----

func (t *turn) elicitSlotAnswer(slot string, m rendered) {
	st := t.s.Intent
	t.s.Action = &DialogAction{Type: ElicitSlot, IntentName: st.Name, Slots: copySlots(st.Slots), SlotToElicit: slot, Message: m.text, MessageFormat: formatOf(m)}
	t.summarize(st, ElicitSlot, "", slot)
	t.respond(ElicitSlot, m)
	t.r.SlotToElicit = slot
}

func (t *turn) confirmAnswer(m rendered) {
	st := t.s.Intent
	t.s.Action = &DialogAction{Type: ConfirmIntent, IntentName: st.Name, Slots: copySlots(st.Slots), Message: m.text, MessageFormat: formatOf(m)}
	t.summarize(st, ConfirmIntent, "", "")
	t.respond(ConfirmIntent, m)
}

func (t *turn) elicitIntentAnswer(m rendered) {
	t.abandon(false)
	t.s.Action = &DialogAction{Type: ElicitIntent, Message: m.text, MessageFormat: formatOf(m)}
	t.respond(ElicitIntent, m)
}

// closeAnswer ends the intent in progress with state (Fulfilled, Failed,
// ReadyForFulfillment).
func (t *turn) closeAnswer(state string, m rendered) {
	st := t.s.Intent
	t.closed = st
	t.summarize(st, Close, state, "")
	t.s.Intent = nil
	t.s.Action = &DialogAction{Type: Close, IntentName: st.Name, Slots: copySlots(st.Slots), FulfillmentState: state, Message: m.text, MessageFormat: formatOf(m)}
	t.respond(state, m)
}

// summarize updates the intent's entry of recentIntentSummaryView (the
// first, unless a code hook or PutSession replaced the view).
func (t *turn) summarize(st *IntentState, action, fulfillment, slot string) {
	s := t.s
	if len(s.Recent) == 0 || s.Recent[0].IntentName != st.Name {
		if t.recentSet {
			return
		}
		s.pushRecent(st.Name)
	}
	r := &s.Recent[0]
	r.Slots, r.ConfirmationStatus, r.DialogActionType, r.FulfillmentState, r.SlotToElicit = copySlots(st.Slots), st.Confirmation, action, fulfillment, slot
}

func formatOf(m rendered) string {
	if m.text == nil {
		return ""
	}
	if m.format == "" {
		return PlainText
	}
	return m.format
}

// ---- answers to ElicitSlot, ConfirmIntent and follow-up prompts ----

// answerSlot handles the answer to an ElicitSlot prompt (spec §5.3
// step 2).
func (t *turn) answerSlot() error {
	st := t.s.Intent
	in := t.b.Intent(st.Name)
	slot := t.s.Action.SlotToElicit
	sd := in.Slot(slot)
	if sd == nil {
		return t.decide()
	}
	v, ok := t.b.NLU.FillSlot(st.Name, slot, t.in.Text, t.opts)
	recognised := ok && len(v.Resolutions) > 0
	if !recognised {
		if top := t.best(); top != nil && top.Name != st.Name && top.Confidence >= max(t.e.cfg.SwitchConfidence, t.b.Threshold()) {
			t.classified = true
			return t.start(top)
		}
	}
	if !ok {
		t.r.Missed = true
		if sd.Obfuscated() {
			t.maskAll = "{" + sd.Name + "}"
		}
		return t.reprompt(sd.ValueElicitationPrompt, func() error {
			m, err := t.render(slotPrompt(sd))
			if err != nil {
				return err
			}
			t.elicitSlotAnswer(slot, m)
			return nil
		})
	}
	t.setSlot(st, sd, v)
	// the answer may carry other slots too ("roses for tomorrow")
	others := false
	for _, od := range in.Slots {
		others = others || od.Name != slot && st.Slots[od.Name] == nil
	}
	if !others {
		st.Attempts = 0
		return t.next()
	}
	opts := t.opts
	opts.Intents, opts.Max = []string{st.Name}, 1
	for _, c := range t.b.NLU.Parse(t.in.Text, opts).Intents {
		for _, od := range in.Slots {
			if ov, ok := c.Slots[od.Name]; ok && st.Slots[od.Name] == nil && od.Name != slot {
				t.setSlot(st, &od, ov)
			}
		}
	}
	st.Attempts = 0
	return t.next()
}

// reprompt repeats an elicitation up to the prompt's maxAttempts, then
// hands over to the fallback intent or the abort statement.
func (t *turn) reprompt(p *Prompt, again func() error) error {
	st := t.s.Intent
	st.Attempts++
	if st.Attempts <= maxAttempts(p) {
		return again()
	}
	st.Attempts = 0
	if fb := t.b.Fallback(); fb != nil && fb.Name != st.Name {
		t.abandon(true)
		return t.runFallback()
	}
	return t.abort()
}

// answerConfirm handles the answer to a confirmation prompt (spec §5.3
// step 3): yes → Confirmed; no → Denied; either with slot values ("yes,
// but make it tulips") updates the slots and confirms again.
func (t *turn) answerConfirm() error {
	st := t.s.Intent
	in := t.b.Intent(st.Name)
	a, rest := nlu.Confirm(t.in.Text, t.b.Locale)
	switch a {
	case nlu.Yes, nlu.No:
		if rest != "" && t.updateSlots(rest) {
			st.Confirmation = ConfirmNone
			return t.next()
		}
		st.Confirmation = ConfirmConfirmed
		if a == nlu.No {
			st.Confirmation = ConfirmDenied
		}
		st.Attempts = 0
		return t.next()
	}
	if t.updateSlots(t.in.Text) {
		st.Confirmation = ConfirmNone
		return t.next()
	}
	if top := t.best(); top != nil && top.Name != st.Name && top.Confidence >= max(t.e.cfg.SwitchConfidence, t.b.Threshold()) {
		t.classified = true
		return t.start(top)
	}
	t.r.Missed = true
	return t.reprompt(in.ConfirmationPrompt, func() error {
		m, err := t.render(promptMessages(in.ConfirmationPrompt))
		if err != nil {
			return err
		}
		t.confirmAnswer(m)
		return nil
	})
}

// updateSlots fills the intent's slots from text; it reports whether any
// value changed.
func (t *turn) updateSlots(text string) bool {
	st := t.s.Intent
	in := t.b.Intent(st.Name)
	opts := t.opts
	opts.Intents, opts.Max = []string{st.Name}, 1
	r := t.b.NLU.Parse(text, opts)
	changed := false
	for _, c := range r.Intents {
		for _, sd := range in.Slots {
			v, ok := c.Slots[sd.Name]
			if !ok {
				continue
			}
			if cur := st.Slots[sd.Name]; cur == nil || !strings.EqualFold(*cur, v.Resolved) {
				t.setSlot(st, &sd, v)
				changed = true
			}
		}
	}
	return changed
}

// answerFollowUp handles the answer to a follow-up prompt (spec §5.3
// step 6).
func (t *turn) answerFollowUp() error {
	fu := t.s.FollowUp
	in := t.b.Intent(fu.Intent)
	a, rest := nlu.Confirm(t.in.Text, t.b.Locale)
	if a == nlu.No || in == nil {
		t.s.FollowUp = nil
		st := &IntentState{Name: fu.Intent, Slots: fu.Slots, Confirmation: ConfirmNone}
		t.s.Intent = st
		var m rendered
		if in != nil && in.FollowUpPrompt != nil {
			var err error
			if m, err = t.render(statementMessages(in.FollowUpPrompt.RejectionStatement)); err != nil {
				return err
			}
		}
		t.closeAnswer(Failed, m)
		return nil
	}
	text := t.in.Text
	if a == nlu.Yes {
		if rest == "" {
			t.s.FollowUp = nil
			if t.b.ClarificationPrompt != nil {
				return t.clarify()
			}
			t.elicitIntentAnswer(rendered{})
			return nil
		}
		text = rest
	}
	t.in.Text, t.parsed = text, nil
	if best := t.best(); best != nil {
		t.s.FollowUp = nil
		t.classified = true
		return t.start(best)
	}
	t.r.Missed = true
	fu.Attempts++
	if fu.Attempts > maxAttempts(in.FollowUpPrompt.Prompt) {
		t.s.FollowUp = nil
		return t.abort()
	}
	m, err := t.render(promptMessages(in.FollowUpPrompt.Prompt))
	if err != nil {
		return err
	}
	st := t.e.cfg.FollowUpState
	t.s.Action = &DialogAction{Type: st, IntentName: fu.Intent, Slots: copySlots(fu.Slots), Message: m.text, MessageFormat: formatOf(m)}
	t.closed = &IntentState{Name: fu.Intent, Slots: fu.Slots}
	t.respond(st, m)
	return nil
}

// ---- defaults and contexts ----

// applyDefaults fills empty slots from their defaultValueSpec: the first
// usable of #context.param, [sessionAttribute] or {sessionAttribute},
// <requestAttribute>, 'literal' or a bare literal (spec §2.11).
func (t *turn) applyDefaults(in *Intent) {
	st := t.s.Intent
	for i := range in.Slots {
		sd := &in.Slots[i]
		if sd.DefaultValueSpec == nil || st.Slots[sd.Name] != nil {
			continue
		}
		for _, dv := range sd.DefaultValueSpec.DefaultValueList {
			if v, ok := t.defaultValue(dv.DefaultValue); ok {
				st.Slots[sd.Name] = &v
				delete(st.Details, sd.Name)
				break
			}
		}
	}
}

func (t *turn) defaultValue(src string) (string, bool) {
	n := len(src)
	switch {
	case n == 0:
		return "", false
	case src[0] == '#':
		ctxName, param, ok := strings.Cut(src[1:], ".")
		if !ok {
			return "", false
		}
		for _, c := range t.s.Contexts {
			if c.Name == ctxName && c.live(t.in.Now) {
				v, ok := c.Parameters[param]
				return v, ok && v != ""
			}
		}
		return "", false
	case n >= 2 && (src[0] == '[' && src[n-1] == ']' || src[0] == '{' && src[n-1] == '}'):
		v, ok := t.s.Attributes[src[1:n-1]]
		return v, ok && v != ""
	case n >= 2 && src[0] == '<' && src[n-1] == '>':
		v, ok := t.in.RequestAttributes[src[1:n-1]]
		return v, ok && v != ""
	case n >= 2 && src[0] == '\'' && src[n-1] == '\'':
		return src[1 : n-1], n > 2
	}
	return src, true
}

// activateOutputs activates the intent's output contexts with its slot
// values as parameters.
func (t *turn) activateOutputs(in *Intent) {
	st := t.s.Intent
	for _, oc := range in.OutputContexts {
		params := map[string]string{}
		for k, v := range st.Slots {
			if v != nil && len(params) < 10 {
				params[k] = *v
			}
		}
		t.s.putContext(ActiveContext{Name: oc.Name, Parameters: params,
			TimeToLive: ContextTTL{TimeToLiveInSeconds: oc.TimeToLiveInSeconds, TurnsToLive: oc.TurnsToLive}}, t.in.Now)
		t.fresh[oc.Name] = true
	}
}

// ---- obfuscation for logs (spec §4.3) ----

func (t *turn) mask(original, slot string) {
	if original == "" {
		return
	}
	if t.masked == nil {
		t.masked = map[string]string{}
	}
	t.masked[original] = "{" + slot + "}"
}

// logView fills LogTranscript, LogSlots, LogAlternativeIntents and
// Sensitive.
func (t *turn) logView() {
	r := t.r
	r.LogSlots, _ = t.maskSlots(r.IntentName, r.Slots)
	r.LogAlternativeIntents = r.AlternativeIntents
	copied := false
	for i, a := range r.AlternativeIntents {
		ls, masked := t.maskSlots(a.IntentName, a.Slots)
		if !masked {
			continue
		}
		if !copied {
			r.LogAlternativeIntents, copied = slices.Clone(r.AlternativeIntents), true
		}
		r.LogAlternativeIntents[i].Slots = ls
	}
	text := t.in.Text
	r.Sensitive = t.maskAll != "" || len(t.masked) > 0
	if !r.Sensitive {
		r.LogTranscript = text
		return
	}
	if t.maskAll != "" {
		r.LogTranscript = t.maskAll
		return
	}
	// Literal braces are escaped with two backslashes (the developer
	// guide: "{John Stiles}" is logged as `\\{{full_name}\\}`), so that a
	// mask can be told from braces the user typed.
	esc := strings.NewReplacer(`{`, `\\{`, `}`, `\\}`)
	var origs []string
	for o := range t.masked {
		origs = append(origs, o)
	}
	slices.SortFunc(origs, func(a, b string) int { return len(b) - len(a) })
	out := esc.Replace(text)
	for _, o := range origs {
		out = strings.ReplaceAll(out, esc.Replace(o), t.masked[o])
	}
	r.LogTranscript = out
}

// maskSlots returns slots with the values of the intent's obfuscated
// slots replaced by {SlotName}, and whether any was (slots itself when
// none is).
func (t *turn) maskSlots(intent string, slots map[string]*string) (map[string]*string, bool) {
	in := t.b.Intent(intent)
	if in == nil || slots == nil {
		return slots, false
	}
	var ls map[string]*string
	for k, v := range slots {
		if sd := in.Slot(k); sd != nil && sd.Obfuscated() && v != nil {
			if ls == nil {
				ls = maps.Clone(slots)
			}
			ls[k] = new("{" + k + "}")
		}
	}
	if ls == nil {
		return slots, false
	}
	return ls, true
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copySlots(m map[string]*string) map[string]*string {
	if m == nil {
		return nil
	}
	out := make(map[string]*string, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = new(*v)
		} else {
			out[k] = nil
		}
	}
	return out
}
