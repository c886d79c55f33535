package dialog

import (
	"math"
	"time"
)

// Wire shapes of the lex-runtime API (2016-11-28) that the engine produces
// and the runtime service sends as they are. JSON keys are the runtime
// model's.

// ActiveContext is a context as clients and Lambda functions see it.
type ActiveContext struct {
	Name       string            `json:"name"`
	TimeToLive ContextTTL        `json:"timeToLive"`
	Parameters map[string]string `json:"parameters"`
}

// ContextTTL is an active context's remaining life.
type ContextTTL struct {
	TimeToLiveInSeconds *int `json:"timeToLiveInSeconds,omitempty"`
	TurnsToLive         *int `json:"turnsToLive,omitempty"`
}

// IntentSummary is one entry of recentIntentSummaryView.
type IntentSummary struct {
	IntentName         string             `json:"intentName,omitempty"`
	CheckpointLabel    string             `json:"checkpointLabel,omitempty"`
	Slots              map[string]*string `json:"slots,omitempty"`
	ConfirmationStatus string             `json:"confirmationStatus,omitempty"`
	DialogActionType   string             `json:"dialogActionType"`
	FulfillmentState   string             `json:"fulfillmentState,omitempty"`
	SlotToElicit       string             `json:"slotToElicit,omitempty"`
}

// DialogAction is the next action of a conversation (GetSession's
// dialogAction; PutSession's input).
type DialogAction struct {
	Type             string             `json:"type"`
	IntentName       string             `json:"intentName,omitempty"`
	Slots            map[string]*string `json:"slots,omitempty"`
	SlotToElicit     string             `json:"slotToElicit,omitempty"`
	FulfillmentState string             `json:"fulfillmentState,omitempty"`
	Message          *string            `json:"message,omitempty"`
	MessageFormat    string             `json:"messageFormat,omitempty"`
}

// ResponseCard is a generic-attachment card; Version is a string on the
// runtime wire.
type ResponseCard struct {
	Version            string              `json:"version,omitempty"`
	ContentType        string              `json:"contentType,omitempty"`
	GenericAttachments []GenericAttachment `json:"genericAttachments,omitempty"`
}

// GenericAttachment is one card of a response card.
type GenericAttachment struct {
	Title             string   `json:"title,omitempty"`
	SubTitle          string   `json:"subTitle,omitempty"`
	AttachmentLinkURL string   `json:"attachmentLinkUrl,omitempty"`
	ImageURL          string   `json:"imageUrl,omitempty"`
	Buttons           []Button `json:"buttons,omitempty"`
}

// Button is a card button.
type Button struct {
	Text  string `json:"text"`
	Value string `json:"value"`
}

// Sentiment is sentimentResponse.
type Sentiment struct {
	SentimentLabel string `json:"sentimentLabel,omitempty"`
	SentimentScore string `json:"sentimentScore,omitempty"`
}

// IntentConfidence is nluIntentConfidence.
type IntentConfidence struct {
	Score float64 `json:"score"`
}

// PredictedIntent is one of alternativeIntents.
type PredictedIntent struct {
	IntentName          string             `json:"intentName,omitempty"`
	NluIntentConfidence *IntentConfidence  `json:"nluIntentConfidence,omitempty"`
	Slots               map[string]*string `json:"slots,omitempty"`
}

// Dialog states (dialogState) and dialog action types.
const (
	ElicitIntent        = "ElicitIntent"
	ElicitSlot          = "ElicitSlot"
	ConfirmIntent       = "ConfirmIntent"
	ReadyForFulfillment = "ReadyForFulfillment"
	Fulfilled           = "Fulfilled"
	Failed              = "Failed"
	Close               = "Close"
	Delegate            = "Delegate"
)

// Confirmation statuses.
const (
	ConfirmNone      = "None"
	ConfirmConfirmed = "Confirmed"
	ConfirmDenied    = "Denied"
)

// State is a conversation, stored by the runtime between turns as JSON.
type State struct {
	SessionID string `json:"sessionId"`
	// Turns counts the turns taken; it seeds message choice.
	Turns      int               `json:"turns"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Contexts   []Context         `json:"contexts,omitempty"`
	// Intent is the intent in progress (nil: none).
	Intent *IntentState `json:"intent,omitempty"`
	// Action is the last dialog action the bot answered with; it says
	// what the next input answers.
	Action *DialogAction `json:"action,omitempty"`
	// Recent is recentIntentSummaryView, most recent first, ≤ 3.
	Recent []IntentSummary `json:"recent,omitempty"`
	// ClarifyAttempts counts clarification prompts given in a row.
	ClarifyAttempts int `json:"clarifyAttempts,omitempty"`
	// FollowUp is set while a fulfilled intent's follow-up prompt awaits
	// its answer.
	FollowUp *FollowUp `json:"followUp,omitempty"`
	// LastCard is the response card of the last answer (AMAZON.RepeatIntent
	// repeats Action and it).
	LastCard *ResponseCard `json:"lastCard,omitempty"`
}

// IntentState is the intent in progress.
type IntentState struct {
	Name  string             `json:"name"`
	Slots map[string]*string `json:"slots"`
	// Details keeps the slotDetails that say more than the value itself
	// (other original text or resolutions); code hook events fill in the
	// rest.
	Details      map[string]*SlotDetail `json:"details,omitempty"`
	Confirmation string                 `json:"confirmation"`
	// Attempts counts failed answers to the current elicitation.
	Attempts   int      `json:"attempts,omitempty"`
	Confidence *float64 `json:"confidence,omitempty"`
}

// SlotDetail is what a Lambda event's slotDetails carries.
type SlotDetail struct {
	Resolutions   []Resolution `json:"resolutions"`
	OriginalValue *string      `json:"originalValue"`
}

// Resolution is one candidate value of a slot.
type Resolution struct {
	Value string `json:"value"`
}

// FollowUp is a pending follow-up prompt.
type FollowUp struct {
	Intent   string             `json:"intent"`
	Slots    map[string]*string `json:"slots,omitempty"`
	Attempts int                `json:"attempts,omitempty"`
}

// Context is an active context with absolute expiry.
type Context struct {
	Name       string            `json:"name"`
	Parameters map[string]string `json:"parameters,omitempty"`
	// TurnsLeft is how many more turns may use it (nil: unlimited).
	TurnsLeft *int `json:"turnsLeft,omitempty"`
	// ExpiresMs is when it expires (0: never by time).
	ExpiresMs int64 `json:"expiresMs,omitempty"`
}

// NewState starts a conversation.
func NewState(sessionID string) *State {
	return &State{SessionID: sessionID, Attributes: map[string]string{}}
}

// Clone returns a deep copy: nothing of the copy (maps, slices,
// pointers) is shared with s, so either may be changed without the other
// seeing it (TestCloneIsDeep checks every field).
func (s *State) Clone() *State {
	if s == nil {
		return nil
	}
	c := *s
	c.Attributes = cloneMap(s.Attributes)
	if s.Contexts != nil {
		c.Contexts = make([]Context, len(s.Contexts))
		for i, x := range s.Contexts {
			x.Parameters = cloneMap(x.Parameters)
			x.TurnsLeft = clonePtr(x.TurnsLeft)
			c.Contexts[i] = x
		}
	}
	if in := s.Intent; in != nil {
		ci := *in
		ci.Slots = cloneSlots(in.Slots)
		ci.Confidence = clonePtr(in.Confidence)
		if in.Details != nil {
			ci.Details = make(map[string]*SlotDetail, len(in.Details))
			for k, d := range in.Details {
				if d != nil {
					cd := SlotDetail{OriginalValue: clonePtr(d.OriginalValue)}
					if d.Resolutions != nil {
						cd.Resolutions = append(make([]Resolution, 0, len(d.Resolutions)), d.Resolutions...)
					}
					d = &cd
				}
				ci.Details[k] = d
			}
		}
		c.Intent = &ci
	}
	if a := s.Action; a != nil {
		ca := *a
		ca.Slots = cloneSlots(a.Slots)
		ca.Message = clonePtr(a.Message)
		c.Action = &ca
	}
	if s.Recent != nil {
		c.Recent = make([]IntentSummary, len(s.Recent))
		for i, r := range s.Recent {
			r.Slots = cloneSlots(r.Slots)
			c.Recent[i] = r
		}
	}
	if f := s.FollowUp; f != nil {
		cf := *f
		cf.Slots = cloneSlots(f.Slots)
		c.FollowUp = &cf
	}
	if rc := s.LastCard; rc != nil {
		cc := *rc
		if rc.GenericAttachments != nil {
			cc.GenericAttachments = make([]GenericAttachment, len(rc.GenericAttachments))
			for i, g := range rc.GenericAttachments {
				if g.Buttons != nil {
					g.Buttons = append(make([]Button, 0, len(g.Buttons)), g.Buttons...)
				}
				cc.GenericAttachments[i] = g
			}
		}
		c.LastCard = &cc
	}
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func cloneSlots(m map[string]*string) map[string]*string {
	if m == nil {
		return nil
	}
	c := make(map[string]*string, len(m))
	vals := make([]string, 0, len(m)) // one allocation for every value
	for k, v := range m {
		if v != nil {
			vals = append(vals, *v)
			v = &vals[len(vals)-1]
		}
		c[k] = v
	}
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// ActiveContexts returns the live contexts at now in wire form.
func (s *State) ActiveContexts(now time.Time) []ActiveContext {
	out := []ActiveContext{}
	for _, c := range s.Contexts {
		if !c.live(now) {
			continue
		}
		ac := ActiveContext{Name: c.Name, Parameters: c.Parameters}
		if ac.Parameters == nil {
			ac.Parameters = map[string]string{}
		}
		if c.TurnsLeft != nil {
			ac.TimeToLive.TurnsToLive = new(*c.TurnsLeft)
		}
		if c.ExpiresMs > 0 {
			secs := int(math.Ceil(float64(c.ExpiresMs-now.UnixMilli()) / 1000))
			ac.TimeToLive.TimeToLiveInSeconds = &secs
		}
		out = append(out, ac)
	}
	return out
}

func (c *Context) live(now time.Time) bool {
	if c.TurnsLeft != nil && *c.TurnsLeft <= 0 {
		return false
	}
	return c.ExpiresMs == 0 || now.UnixMilli() < c.ExpiresMs
}

// SetContexts replaces the contexts with wire ones.
func (s *State) SetContexts(acs []ActiveContext, now time.Time) {
	s.Contexts = nil
	for _, ac := range acs {
		s.putContext(ac, now)
	}
}

func (s *State) putContext(ac ActiveContext, now time.Time) {
	c := Context{Name: ac.Name, Parameters: ac.Parameters}
	if t := ac.TimeToLive.TurnsToLive; t != nil {
		c.TurnsLeft = new(*t)
	}
	if t := ac.TimeToLive.TimeToLiveInSeconds; t != nil {
		c.ExpiresMs = now.Add(time.Duration(*t) * time.Second).UnixMilli()
	}
	for i := range s.Contexts {
		if s.Contexts[i].Name == c.Name {
			s.Contexts[i] = c
			return
		}
	}
	s.Contexts = append(s.Contexts, c)
}

// prune drops expired contexts.
func (s *State) prune(now time.Time) {
	kept := s.Contexts[:0]
	for _, c := range s.Contexts {
		if c.live(now) {
			kept = append(kept, c)
		}
	}
	s.Contexts = kept
}

func (s *State) contextActive(name string, now time.Time) bool {
	for i := range s.Contexts {
		if s.Contexts[i].Name == name && s.Contexts[i].live(now) {
			return true
		}
	}
	return false
}

// View is GetSession's answer.
type View struct {
	SessionID               string
	SessionAttributes       map[string]string
	RecentIntentSummaryView []IntentSummary
	DialogAction            *DialogAction
	ActiveContexts          []ActiveContext
}

// View returns the session as GetSession shows it: recentIntentSummaryView
// (only entries labelled checkpoint when it is not empty), attributes,
// the last dialog action and the live contexts.
func (s *State) View(checkpoint string, now time.Time) View {
	v := View{SessionID: s.SessionID, SessionAttributes: s.Attributes, DialogAction: s.Action, ActiveContexts: s.ActiveContexts(now),
		RecentIntentSummaryView: []IntentSummary{}}
	if v.SessionAttributes == nil {
		v.SessionAttributes = map[string]string{}
	}
	for _, r := range s.Recent {
		if checkpoint == "" || r.CheckpointLabel == checkpoint {
			v.RecentIntentSummaryView = append(v.RecentIntentSummaryView, r)
		}
	}
	if len(v.RecentIntentSummaryView) > maxRecent {
		v.RecentIntentSummaryView = v.RecentIntentSummaryView[:maxRecent]
	}
	return v
}

const maxRecent = 3

// pushRecent starts a summary for a newly started intent.
func (s *State) pushRecent(name string) {
	s.Recent = append([]IntentSummary{{IntentName: name, DialogActionType: ElicitIntent}}, s.Recent...)
	if len(s.Recent) > maxRecent {
		s.Recent = s.Recent[:maxRecent]
	}
}
