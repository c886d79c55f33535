package lexmodels

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

func mustPattern(p string) *regexp.Regexp { return regexp.MustCompile("^(?:" + p + ")$") }

// Patterns checked per request, compiled once.
var (
	reSlotTypeRef = mustPattern(`^((AMAZON\.)_?|[A-Za-z]_?)+`)
	reV2BotRole   = mustPattern(`^arn:[\w\-]+:iam::[\d]{12}:role/.+$`)
	reMigrationID = mustPattern(`^[0-9a-zA-Z]+$`)
)

// Patterns from the lex-models model (spec §2.2).
var (
	reName          = mustPattern(`^([A-Za-z]_?)+$`)
	reSlotName      = mustPattern(`^([A-Za-z]([-_.])?)+$`)
	reVersion       = mustPattern(`\$LATEST|[0-9]+`)
	reNumVersion    = mustPattern(`[0-9]+`)
	reExportName    = mustPattern(`[a-zA-Z_]+`)
	reLambdaARN     = mustPattern(`arn:aws[a-zA-Z-]*:lambda:[a-z]+-[a-z]+(-[a-z]+)*-[0-9]:[0-9]{12}:function:[a-zA-Z0-9-_]+(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?(:[a-zA-Z0-9-_]+)?`)
	reKendraIndex   = mustPattern(`arn:aws:kendra:[a-z]+-[a-z]+-[0-9]:[0-9]{12}:index/[a-zA-Z0-9][a-zA-Z0-9_-]*`)
	reRoleARN       = mustPattern(`arn:aws:iam::[0-9]{12}:role/.*`)
	reUserID        = mustPattern(`[0-9a-zA-Z._:-]+`)
	reAlphaNumRegex = regexp.MustCompile(`[*+.]|\{[0-9]+,\}`)
	reSlotRef       = regexp.MustCompile(`\{([^{}]*)\}`)
)

// Locales is the Locale enum.
var Locales = []string{"de-DE", "en-AU", "en-GB", "en-IN", "en-US", "es-419", "es-ES", "es-US", "fr-FR", "fr-CA", "it-IT", "ja-JP", "ko-KR"}

// pollyVoices are the Polly voices by language. A bot's voiceId must speak
// the language of its locale (any variant: Joanna may voice an en-GB bot).
var pollyVoices = map[string][]string{
	"en": {"Ivy", "Joanna", "Kendra", "Kimberly", "Salli", "Joey", "Justin", "Kevin", "Matthew", "Ruth", "Stephen", "Danielle", "Gregory", "Amy", "Emma", "Brian", "Arthur", "Nicole", "Russell", "Olivia", "Aditi", "Raveena", "Kajal", "Geraint", "Aria", "Ayanda", "Niamh"},
	"es": {"Lupe", "Penelope", "Miguel", "Pedro", "Conchita", "Lucia", "Enrique", "Sergio", "Mia", "Andres"},
	"de": {"Marlene", "Vicki", "Hans", "Daniel"},
	"fr": {"Celine", "Lea", "Mathieu", "Remi", "Chantal", "Gabrielle", "Liam"},
	"it": {"Carla", "Bianca", "Giorgio", "Adriano"},
	"ja": {"Mizuki", "Takumi", "Kazuha", "Tomoko"},
	"ko": {"Seoyeon"},
}

func voiceFits(voice, locale string) bool {
	lang, _, _ := strings.Cut(locale, "-")
	for _, v := range pollyVoices[lang] {
		if v == voice {
			return true
		}
	}
	return false
}

func (c *checker) messages(field string, msgs []Message) {
	c.count(field, len(msgs), 1, 15)
	groups := map[int]int{}
	for i, m := range msgs {
		f := fmt.Sprintf("%s.%d.member", field, i+1)
		c.enum(f+".contentType", m.ContentType, "PlainText", "SSML", "CustomPayload")
		c.str(f+".content", m.Content, 1, 1000, nil)
		g := 1
		if m.GroupNumber != nil {
			c.intRange(f+".groupNumber", *m.GroupNumber, 1, 5)
			g = *m.GroupNumber
		}
		groups[g]++
	}
	for g, n := range groups {
		if n > 5 {
			c.msgs = append(c.msgs, fmt.Sprintf("Message group %d of '%s' has %d messages; a group may hold at most 5", g, field, n))
		}
	}
}

func (c *checker) prompt(field string, p *Prompt) {
	if p == nil {
		return
	}
	c.messages(field+".messages", p.Messages)
	if c.required(p.MaxAttempts != nil, field+".maxAttempts") {
		c.intRange(field+".maxAttempts", *p.MaxAttempts, 1, 5)
	}
	if p.ResponseCard != nil {
		c.str(field+".responseCard", *p.ResponseCard, 1, 50000, nil)
	}
}

func (c *checker) statement(field string, s *Statement) {
	if s == nil {
		return
	}
	c.messages(field+".messages", s.Messages)
	if s.ResponseCard != nil {
		c.str(field+".responseCard", *s.ResponseCard, 1, 50000, nil)
	}
}

func (c *checker) codeHook(field string, h *CodeHook) {
	if h == nil {
		return
	}
	c.str(field+".uri", h.URI, 20, 2048, reLambdaARN)
	c.str(field+".messageVersion", h.MessageVersion, 1, 5, nil)
}

func (c *checker) description(field, d string) { c.str(field, d, 0, 200, nil) }

// validateSlotType checks a PutSlotType definition (spec §2.2, §2.3).
func validateSlotType(name string, d *SlotTypeDef) error {
	var c checker
	c.str("name", name, 1, 100, reName)
	c.description("description", d.Description)
	c.count("enumerationValues", len(d.EnumerationValues), 0, 10000)
	seen := map[string]bool{}
	var dup string
	total := 0
	for i, v := range d.EnumerationValues {
		f := fmt.Sprintf("enumerationValues.%d.member", i+1)
		c.str(f+".value", v.Value, 1, 140, nil)
		total++
		for j, s := range v.Synonyms {
			c.str(fmt.Sprintf("%s.synonyms.%d.member", f, j+1), s, 1, 140, nil)
			total++
		}
		for _, s := range append([]string{v.Value}, v.Synonyms...) {
			k := strings.ToLower(s)
			if seen[k] && dup == "" {
				dup = s
			}
			seen[k] = true
		}
	}
	if d.ValueSelectionStrategy != "" {
		c.enum("valueSelectionStrategy", d.ValueSelectionStrategy, "ORIGINAL_VALUE", "TOP_RESOLUTION")
	}
	c.count("slotTypeConfigurations", len(d.SlotTypeConfigurations), 0, 10)
	for i, sc := range d.SlotTypeConfigurations {
		f := fmt.Sprintf("slotTypeConfigurations.%d.member.regexConfiguration", i+1)
		if c.required(sc.RegexConfiguration != nil, f) {
			c.str(f+".pattern", sc.RegexConfiguration.Pattern, 1, 100, nil)
		}
	}
	if err := c.err(); err != nil {
		return err
	}
	if total > 10000 {
		return badRequest("Slot type %s has %d values and synonyms; the limit is 10000.", name, total)
	}
	if dup != "" {
		return badRequest("The value or synonym '%s' appears more than once in slot type %s. Values and synonyms must be unique.", dup, name)
	}
	if d.ParentSlotTypeSignature != nil {
		if *d.ParentSlotTypeSignature != "AMAZON.AlphaNumeric" {
			return badRequest("Invalid parentSlotTypeSignature '%s'. The only supported parent slot type is AMAZON.AlphaNumeric.", *d.ParentSlotTypeSignature)
		}
		if len(d.SlotTypeConfigurations) == 0 {
			return badRequest("A slot type that extends AMAZON.AlphaNumeric needs a regexConfiguration in slotTypeConfigurations.")
		}
	} else if len(d.SlotTypeConfigurations) > 0 {
		return badRequest("slotTypeConfigurations require parentSlotTypeSignature AMAZON.AlphaNumeric.")
	}
	for _, sc := range d.SlotTypeConfigurations {
		if err := checkLexRegex(sc.RegexConfiguration.Pattern); err != nil {
			return err
		}
	}
	return nil
}

// checkLexRegex applies the regex slot type alphabet (spec §2.3): no *,
// +, . or open-ended repetition, and it must compile.
func checkLexRegex(p string) error {
	if m := reAlphaNumRegex.FindString(p); m != "" {
		return badRequest("Invalid regular expression '%s': '%s' is not supported in slot type regular expressions.", p, m)
	}
	if _, err := regexp.Compile(p); err != nil {
		return badRequest("Invalid regular expression '%s'.", p)
	}
	return nil
}

// validateIntent checks a PutIntent definition.
func validateIntent(name string, d *IntentDef) error {
	var c checker
	c.str("name", name, 1, 100, reName)
	c.description("description", d.Description)
	c.count("slots", len(d.Slots), 0, 100)
	for i, s := range d.Slots {
		f := fmt.Sprintf("slots.%d.member", i+1)
		c.str(f+".name", s.Name, 1, 100, reSlotName)
		c.description(f+".description", s.Description)
		c.enum(f+".slotConstraint", s.SlotConstraint, "Required", "Optional")
		if s.SlotType != nil {
			c.str(f+".slotType", *s.SlotType, 1, 100, reSlotTypeRef)
		}
		if s.SlotTypeVersion != nil {
			c.str(f+".slotTypeVersion", *s.SlotTypeVersion, 1, 64, reVersion)
		}
		c.prompt(f+".valueElicitationPrompt", s.ValueElicitationPrompt)
		if s.Priority != nil {
			c.intRange(f+".priority", *s.Priority, 0, 100)
		}
		c.count(f+".sampleUtterances", len(s.SampleUtterances), 0, 10)
		for j, u := range s.SampleUtterances {
			c.str(fmt.Sprintf("%s.sampleUtterances.%d.member", f, j+1), u, 1, 200, nil)
		}
		if s.ResponseCard != nil {
			c.str(f+".responseCard", *s.ResponseCard, 1, 50000, nil)
		}
		if s.ObfuscationSetting != "" {
			c.enum(f+".obfuscationSetting", s.ObfuscationSetting, "NONE", "DEFAULT_OBFUSCATION")
		}
		if s.DefaultValueSpec != nil {
			c.count(f+".defaultValueSpec.defaultValueList", len(s.DefaultValueSpec.DefaultValueList), 0, 10)
			for j, dv := range s.DefaultValueSpec.DefaultValueList {
				c.str(fmt.Sprintf("%s.defaultValueSpec.defaultValueList.%d.member.defaultValue", f, j+1), dv.DefaultValue, 1, 202, nil)
			}
		}
	}
	c.count("sampleUtterances", len(d.SampleUtterances), 0, 1500)
	for i, u := range d.SampleUtterances {
		c.str(fmt.Sprintf("sampleUtterances.%d.member", i+1), u, 1, 200, nil)
	}
	c.prompt("confirmationPrompt", d.ConfirmationPrompt)
	c.statement("rejectionStatement", d.RejectionStatement)
	if d.FollowUpPrompt != nil {
		if c.required(d.FollowUpPrompt.Prompt != nil, "followUpPrompt.prompt") {
			c.prompt("followUpPrompt.prompt", d.FollowUpPrompt.Prompt)
		}
		if c.required(d.FollowUpPrompt.RejectionStatement != nil, "followUpPrompt.rejectionStatement") {
			c.statement("followUpPrompt.rejectionStatement", d.FollowUpPrompt.RejectionStatement)
		}
	}
	c.statement("conclusionStatement", d.ConclusionStatement)
	c.codeHook("dialogCodeHook", d.DialogCodeHook)
	if fa := d.FulfillmentActivity; fa != nil {
		c.enum("fulfillmentActivity.type", fa.Type, "ReturnIntent", "CodeHook")
		c.codeHook("fulfillmentActivity.codeHook", fa.CodeHook)
	}
	if d.ParentIntentSignature != nil {
		c.str("parentIntentSignature", *d.ParentIntentSignature, 1, 100, nil)
	}
	if k := d.KendraConfiguration; k != nil {
		c.str("kendraConfiguration.kendraIndex", k.KendraIndex, 20, 2048, reKendraIndex)
		c.str("kendraConfiguration.role", k.Role, 20, 2048, reRoleARN)
	}
	c.count("inputContexts", len(d.InputContexts), 0, 5)
	for i, ic := range d.InputContexts {
		c.str(fmt.Sprintf("inputContexts.%d.member.name", i+1), ic.Name, 1, 100, reName)
	}
	c.count("outputContexts", len(d.OutputContexts), 0, 10)
	for i, oc := range d.OutputContexts {
		f := fmt.Sprintf("outputContexts.%d.member", i+1)
		c.str(f+".name", oc.Name, 1, 100, reName)
		if c.required(oc.TimeToLiveInSeconds != nil, f+".timeToLiveInSeconds") {
			c.intRange(f+".timeToLiveInSeconds", *oc.TimeToLiveInSeconds, 5, 86400)
		}
		if c.required(oc.TurnsToLive != nil, f+".turnsToLive") {
			c.intRange(f+".turnsToLive", *oc.TurnsToLive, 1, 20)
		}
	}
	if err := c.err(); err != nil {
		return err
	}
	return checkIntentRules(name, d)
}

// checkIntentRules applies PutIntent's cross-field rules.
func checkIntentRules(name string, d *IntentDef) error {
	if (d.ConfirmationPrompt == nil) != (d.RejectionStatement == nil) {
		return badRequest("confirmationPrompt and rejectionStatement must be provided together: you must specify both or neither.")
	}
	if d.FollowUpPrompt != nil && d.ConclusionStatement != nil {
		return badRequest("followUpPrompt and conclusionStatement are mutually exclusive: specify only one.")
	}
	if fa := d.FulfillmentActivity; fa != nil {
		if fa.Type == "CodeHook" && fa.CodeHook == nil {
			return badRequest("fulfillmentActivity.codeHook is required when fulfillmentActivity.type is CodeHook.")
		}
		if fa.Type == "ReturnIntent" && fa.CodeHook != nil {
			return badRequest("fulfillmentActivity.codeHook is only allowed when fulfillmentActivity.type is CodeHook.")
		}
	}
	if d.ConclusionStatement != nil && (d.FulfillmentActivity == nil || d.FulfillmentActivity.Type != "CodeHook") {
		return badRequest("conclusionStatement is only allowed when fulfillmentActivity.type is CodeHook.")
	}
	if sig := d.ParentIntentSignature; sig != nil {
		if !isBuiltinIntent(*sig) {
			return badRequest("The parentIntentSignature '%s' is not a built-in intent.", *sig)
		}
		if len(d.SampleUtterances) > 0 || len(d.Slots) > 0 {
			return badRequest("Intent %s extends the built-in intent %s, which takes no sampleUtterances and no slots.", name, *sig)
		}
		if *sig == "AMAZON.FallbackIntent" && (d.DialogCodeHook != nil || d.ConfirmationPrompt != nil) {
			return badRequest("AMAZON.FallbackIntent does not support dialogCodeHook or confirmationPrompt.")
		}
	}
	if d.KendraConfiguration != nil && (d.ParentIntentSignature == nil || *d.ParentIntentSignature != "AMAZON.KendraSearchIntent") {
		return badRequest("kendraConfiguration is only allowed on intents whose parentIntentSignature is AMAZON.KendraSearchIntent.")
	}
	slots := map[string]bool{}
	for _, s := range d.Slots {
		if slots[strings.ToLower(s.Name)] {
			return badRequest("The slot name '%s' is used more than once in intent %s.", s.Name, name)
		}
		slots[strings.ToLower(s.Name)] = true
		if s.SlotType == nil {
			return badRequest("Slot %s needs a slotType.", s.Name)
		}
		if strings.HasPrefix(*s.SlotType, "AMAZON.") {
			if !isBuiltinSlotType(*s.SlotType) {
				return badRequest("The slot type %s of slot %s is not a built-in slot type.", *s.SlotType, s.Name)
			}
			if s.SlotTypeVersion != nil {
				return badRequest("Slot %s uses the built-in slot type %s, which has no versions: remove slotTypeVersion.", s.Name, *s.SlotType)
			}
		}
		if s.SlotConstraint == "Required" && s.ValueElicitationPrompt == nil {
			return badRequest("Slot %s is Required and needs a valueElicitationPrompt.", s.Name)
		}
		for _, u := range s.SampleUtterances {
			refs := slotRefs(u)
			if len(refs) != 1 || refs[0] != s.Name {
				return badRequest("The sample utterance '%s' of slot %s must contain {%s} exactly once and no other slot.", u, s.Name, s.Name)
			}
		}
	}
	for _, u := range d.SampleUtterances {
		seen := map[string]bool{}
		for _, r := range slotRefs(u) {
			if seen[r] {
				return badRequest("The sample utterance '%s' refers to slot {%s} more than once.", u, r)
			}
			seen[r] = true
		}
	}
	return nil
}

// slotRefs lists the {Slot} placeholders of an utterance.
func slotRefs(u string) []string {
	var out []string
	for _, m := range reSlotRef.FindAllStringSubmatch(u, -1) {
		out = append(out, m[1])
	}
	return out
}

// validateBot checks a PutBot definition (locale/childDirected presence is
// checked by the caller, which knows what was sent).
func validateBot(name string, d *BotDef) error {
	var c checker
	c.str("name", name, 2, 50, reName)
	c.description("description", d.Description)
	c.enum("locale", d.Locale, Locales...)
	c.count("intents", len(d.Intents), 0, 250)
	for i, r := range d.Intents {
		f := fmt.Sprintf("intents.%d.member", i+1)
		c.str(f+".intentName", r.IntentName, 1, 100, reName)
		c.str(f+".intentVersion", r.IntentVersion, 1, 64, reVersion)
	}
	c.prompt("clarificationPrompt", d.ClarificationPrompt)
	c.statement("abortStatement", d.AbortStatement)
	c.intRange("idleSessionTTLInSeconds", d.IdleSessionTTLInSeconds, 60, 86400)
	if d.NluIntentConfidenceThreshold != nil {
		if t := *d.NluIntentConfidenceThreshold; t < 0 || t > 1 {
			c.fail(strconv.FormatFloat(t, 'f', -1, 64), "nluIntentConfidenceThreshold", "Member must have value between 0 and 1")
		}
	}
	if err := c.err(); err != nil {
		return err
	}
	if d.VoiceID != "" && !voiceFits(d.VoiceID, d.Locale) {
		return badRequest("The voiceId %s is not a valid voice for the locale %s.", d.VoiceID, d.Locale)
	}
	seen := map[string]bool{}
	for _, r := range d.Intents {
		if seen[r.IntentName] {
			return badRequest("The intent %s is listed more than once in bot %s.", r.IntentName, name)
		}
		seen[r.IntentName] = true
	}
	return nil
}

// validateTags checks a tag list (spec §2.2: ≤50 per resource, keys
// unique case-insensitively, aws: reserved).
func validateTags(field string, tags []Tag) error {
	var c checker
	c.count(field, len(tags), 0, 200)
	for i, t := range tags {
		f := fmt.Sprintf("%s.%d.member", field, i+1)
		c.str(f+".key", t.Key, 1, 128, nil)
		c.str(f+".value", t.Value, 0, 256, nil)
	}
	if err := c.err(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, t := range tags {
		k := strings.ToLower(t.Key)
		if strings.HasPrefix(k, "aws:") {
			return badRequest("Tag keys starting with 'aws:' are reserved: %s", t.Key)
		}
		if seen[k] {
			return badRequest("Duplicate tag key: %s", t.Key)
		}
		seen[k] = true
	}
	return nil
}

// maxResults validates a page size; def applies when absent.
func maxResults(v *int, def int) (int, error) {
	if v == nil {
		return def, nil
	}
	var c checker
	c.intRange("maxResults", *v, 1, 50)
	if err := c.err(); err != nil {
		return 0, err
	}
	return *v, nil
}
