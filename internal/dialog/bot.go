// Package dialog is the Lex V1 dialog engine: given a bot version (its
// definitions and compiled language model), a conversation's State and one
// user turn, it decides the bot's answer — ElicitIntent, ElicitSlot by
// priority with re-prompts, ConfirmIntent, ReadyForFulfillment, Fulfilled
// or Failed — following shared/spec/lex-v1.md §5.3, invoking dialog and
// fulfilment code hooks (messageVersion 1.0, §5.8) through an Invoker and
// obeying their dialogAction.
//
// dialog is pure: it reads no database and speaks no HTTP. The runtime
// service (internal/services/lexruntime) loads the State, calls
// Engine.Turn or Engine.Put, and stores the State again; an error from the
// engine means the turn did not happen and the State must be discarded.
// Errors that a client sees carry their Lex code (*awserr.Error).
package dialog

import (
	"encoding/json"
	"fmt"
	"strings"

	"lextrail/internal/nlu"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/services/lexmodels/build"
)

// The definitions the engine reads, parsed from the stored lex-models
// documents (JSON keys are the model-building API's).

// The prompt, statement, code hook and context shapes are the
// model-building API's own.
type (
	Message             = lexmodels.Message
	Prompt              = lexmodels.Prompt
	Statement           = lexmodels.Statement
	FollowUpPrompt      = lexmodels.FollowUpPrompt
	CodeHook            = lexmodels.CodeHook
	FulfillmentActivity = lexmodels.FulfillmentActivity
	OutputContext       = lexmodels.OutputContext
)

// SlotDef is a slot of an intent.
type SlotDef struct {
	Name                   string                          `json:"name"`
	SlotConstraint         string                          `json:"slotConstraint"`
	SlotType               string                          `json:"slotType"`
	ValueElicitationPrompt *Prompt                         `json:"valueElicitationPrompt,omitempty"`
	Priority               *int                            `json:"priority,omitempty"`
	ResponseCard           *string                         `json:"responseCard,omitempty"`
	ObfuscationSetting     string                          `json:"obfuscationSetting,omitempty"`
	DefaultValueSpec       *lexmodels.SlotDefaultValueSpec `json:"defaultValueSpec,omitempty"`
}

// Required reports whether the slot must be filled before fulfilment.
func (s *SlotDef) Required() bool { return s.SlotConstraint == "Required" }

// Obfuscated reports whether the slot's values are masked in logs and
// utterance statistics.
func (s *SlotDef) Obfuscated() bool { return s.ObfuscationSetting == "DEFAULT_OBFUSCATION" }

// Intent is an intent version of the bot.
type Intent struct {
	Name                  string                   `json:"-"`
	Version               string                   `json:"-"`
	Slots                 []SlotDef                `json:"slots,omitempty"`
	SampleUtterances      []string                 `json:"sampleUtterances,omitempty"`
	ConfirmationPrompt    *Prompt                  `json:"confirmationPrompt,omitempty"`
	RejectionStatement    *Statement               `json:"rejectionStatement,omitempty"`
	FollowUpPrompt        *FollowUpPrompt          `json:"followUpPrompt,omitempty"`
	ConclusionStatement   *Statement               `json:"conclusionStatement,omitempty"`
	DialogCodeHook        *CodeHook                `json:"dialogCodeHook,omitempty"`
	FulfillmentActivity   *FulfillmentActivity     `json:"fulfillmentActivity,omitempty"`
	ParentIntentSignature string                   `json:"parentIntentSignature,omitempty"`
	InputContexts         []lexmodels.InputContext `json:"inputContexts,omitempty"`
	OutputContexts        []OutputContext          `json:"outputContexts,omitempty"`
}

// Slot returns the intent's slot named name, or nil.
func (in *Intent) Slot(name string) *SlotDef {
	for i := range in.Slots {
		if in.Slots[i].Name == name {
			return &in.Slots[i]
		}
	}
	return nil
}

// hooked reports whether the intent has any code hook.
func (in *Intent) hooked() bool {
	return in.DialogCodeHook != nil || in.FulfillmentActivity != nil && in.FulfillmentActivity.Type == "CodeHook"
}

// Built-in intent signatures with dialog behaviour of their own.
const (
	FallbackIntent = "AMAZON.FallbackIntent"
	KendraIntent   = "AMAZON.KendraSearchIntent"
	HelpIntent     = "AMAZON.HelpIntent"
	CancelIntent   = "AMAZON.CancelIntent"
	StopIntent     = "AMAZON.StopIntent"
	StartOver      = "AMAZON.StartOverIntent"
	RepeatIntent   = "AMAZON.RepeatIntent"
)

// Bot is a loaded bot version: definitions plus the language model. It is
// immutable and safe for concurrent use.
type Bot struct {
	Name                         string
	Version                      string
	Locale                       string
	ChildDirected                bool
	DetectSentiment              bool
	EnableModelImprovements      bool
	NluIntentConfidenceThreshold *float64
	ClarificationPrompt          *Prompt
	AbortStatement               *Statement
	IdleSessionTTLInSeconds      int
	VoiceID                      string

	Intents []*Intent
	NLU     *nlu.Model
	// Spec is what the language model was compiled from (intents, slots,
	// slot types): speech recognisers build their grammar from it.
	Spec nlu.ModelSpec

	byName   map[string]*Intent
	byParent map[string]*Intent
	// classifiable are the intents the classifier may choose (not the
	// fallback or Kendra intents, which have no utterances).
	classifiable map[string]bool
	// allEligible, when no intent has input contexts, is every turn's
	// eligible intents (the classifiable ones in order); nil otherwise.
	allEligible []string
	obfuscates  bool
	hooked      bool
}

// HasCodeHooks reports whether any intent of the bot has a dialog or
// fulfillment code hook: a turn of such a bot may call a Lambda function,
// so it cannot be run twice without the function seeing it twice.
func (b *Bot) HasCodeHooks() bool { return b.hooked }

type botDef struct {
	Locale                       string     `json:"locale"`
	ChildDirected                bool       `json:"childDirected"`
	DetectSentiment              bool       `json:"detectSentiment"`
	EnableModelImprovements      bool       `json:"enableModelImprovements"`
	NluIntentConfidenceThreshold *float64   `json:"nluIntentConfidenceThreshold"`
	ClarificationPrompt          *Prompt    `json:"clarificationPrompt"`
	AbortStatement               *Statement `json:"abortStatement"`
	IdleSessionTTLInSeconds      int        `json:"idleSessionTTLInSeconds"`
	VoiceID                      string     `json:"voiceId"`
}

// DefaultIdleTTL is idleSessionTTLInSeconds when a definition has none.
const DefaultIdleTTL = 300

// NewBot loads a compiled bot version. The language model is the one the
// build stored (m.NLU); a model built before the build compiled one is
// compiled here once.
func NewBot(m *build.Model) (*Bot, error) {
	var d botDef
	if err := json.Unmarshal(m.Definition, &d); err != nil {
		return nil, fmt.Errorf("dialog: bot %s: %w", m.Bot, err)
	}
	b := &Bot{
		Name: m.Bot, Version: m.Version, Locale: d.Locale, ChildDirected: d.ChildDirected,
		DetectSentiment: d.DetectSentiment, EnableModelImprovements: d.EnableModelImprovements,
		NluIntentConfidenceThreshold: d.NluIntentConfidenceThreshold, ClarificationPrompt: d.ClarificationPrompt,
		AbortStatement: d.AbortStatement, IdleSessionTTLInSeconds: d.IdleSessionTTLInSeconds, VoiceID: d.VoiceID,
		byName: map[string]*Intent{}, byParent: map[string]*Intent{}, classifiable: map[string]bool{},
	}
	if b.IdleSessionTTLInSeconds <= 0 {
		b.IdleSessionTTLInSeconds = DefaultIdleTTL
	}
	for _, ci := range m.Intents {
		in := &Intent{}
		if err := json.Unmarshal(ci.Definition, in); err != nil {
			return nil, fmt.Errorf("dialog: intent %s: %w", ci.Name, err)
		}
		in.Name, in.Version = ci.Name, ci.Version
		b.Intents = append(b.Intents, in)
		b.byName[in.Name] = in
		b.hooked = b.hooked || in.hooked()
		if p := in.ParentIntentSignature; p != "" {
			b.byParent[p] = in
		}
		if in.ParentIntentSignature != FallbackIntent && in.ParentIntentSignature != KendraIntent {
			b.classifiable[in.Name] = true
		}
		for _, s := range in.Slots {
			if s.Obfuscated() {
				b.obfuscates = true
			}
		}
	}
	b.allEligible = []string{}
	for _, in := range b.Intents {
		if len(in.InputContexts) > 0 {
			b.allEligible = nil
			break
		}
		if b.classifiable[in.Name] {
			b.allEligible = append(b.allEligible, in.Name)
		}
	}
	b.Spec = build.NLUSpec(m)
	var err error
	if len(m.NLU) > 0 {
		b.NLU, err = nlu.Load(m.NLU)
	}
	if b.NLU == nil {
		// built before the build compiled language models, or by a build
		// of another model layout: compile it from the definitions
		b.NLU, err = nlu.Compile(b.Spec)
	}
	if err != nil {
		return nil, fmt.Errorf("dialog: bot %s language model: %w", m.Bot, err)
	}
	return b, nil
}

// Intent returns the bot's intent named name, or nil.
func (b *Bot) Intent(name string) *Intent { return b.byName[name] }

// Fallback is the bot's intent derived from AMAZON.FallbackIntent, or nil.
func (b *Bot) Fallback() *Intent { return b.byParent[FallbackIntent] }

// Obfuscates reports whether any slot of the bot masks its values in logs.
func (b *Bot) Obfuscates() bool { return b.obfuscates }

// Threshold is the confidence under which an utterance matches no intent:
// the bot's nluIntentConfidenceThreshold when model improvements are on
// and it is set, else nlu.DefaultThreshold.
func (b *Bot) Threshold() float64 {
	if b.EnableModelImprovements && b.NluIntentConfidenceThreshold != nil {
		return *b.NluIntentConfidenceThreshold
	}
	return nlu.DefaultThreshold
}

// Phrases are the bot's sample utterances and slot values, for speech
// recognisers that build a grammar from them.
func (b *Bot) Phrases() []string {
	var out []string
	for _, in := range b.Intents {
		out = append(out, in.SampleUtterances...)
	}
	return out
}

// lang is "en" or "es".
func (b *Bot) lang() string {
	if strings.HasPrefix(strings.ToLower(b.Locale), "es") {
		return "es"
	}
	return "en"
}
