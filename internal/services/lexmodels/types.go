package lexmodels

// Wire shapes shared by several operations and the stored definitions.
// Field names and JSON keys are the lex-models 2017-04-19 model's; optional
// members are pointers or omitempty so that absent stays absent (full
// replacement on Put, and "omit, don't null" on output).

// Message is one prompt or statement message.
type Message struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
	GroupNumber *int   `json:"groupNumber,omitempty"`
}

// Prompt elicits something from the user.
type Prompt struct {
	Messages     []Message `json:"messages"`
	MaxAttempts  *int      `json:"maxAttempts,omitempty"`
	ResponseCard *string   `json:"responseCard,omitempty"`
}

// Statement tells the user something.
type Statement struct {
	Messages     []Message `json:"messages"`
	ResponseCard *string   `json:"responseCard,omitempty"`
}

// FollowUpPrompt follows a fulfilled intent.
type FollowUpPrompt struct {
	Prompt             *Prompt    `json:"prompt,omitempty"`
	RejectionStatement *Statement `json:"rejectionStatement,omitempty"`
}

// CodeHook names a Lambda function.
type CodeHook struct {
	URI            string `json:"uri"`
	MessageVersion string `json:"messageVersion"`
}

// FulfillmentActivity says how an intent is fulfilled.
type FulfillmentActivity struct {
	Type     string    `json:"type"`
	CodeHook *CodeHook `json:"codeHook,omitempty"`
}

// KendraConfiguration configures AMAZON.KendraSearchIntent.
type KendraConfiguration struct {
	KendraIndex       string  `json:"kendraIndex"`
	QueryFilterString *string `json:"queryFilterString,omitempty"`
	Role              string  `json:"role"`
}

// InputContext gates an intent.
type InputContext struct {
	Name string `json:"name"`
}

// OutputContext is set when an intent is fulfilled.
type OutputContext struct {
	Name                string `json:"name"`
	TimeToLiveInSeconds *int   `json:"timeToLiveInSeconds,omitempty"`
	TurnsToLive         *int   `json:"turnsToLive,omitempty"`
}

// SlotDefaultValue is one default value source.
type SlotDefaultValue struct {
	DefaultValue string `json:"defaultValue"`
}

// SlotDefaultValueSpec lists default value sources.
type SlotDefaultValueSpec struct {
	DefaultValueList []SlotDefaultValue `json:"defaultValueList"`
}

// Slot is an intent's slot.
type Slot struct {
	Name                   string                `json:"name"`
	Description            string                `json:"description,omitempty"`
	SlotConstraint         string                `json:"slotConstraint"`
	SlotType               *string               `json:"slotType,omitempty"`
	SlotTypeVersion        *string               `json:"slotTypeVersion,omitempty"`
	ValueElicitationPrompt *Prompt               `json:"valueElicitationPrompt,omitempty"`
	Priority               *int                  `json:"priority,omitempty"`
	SampleUtterances       []string              `json:"sampleUtterances,omitempty"`
	ResponseCard           *string               `json:"responseCard,omitempty"`
	ObfuscationSetting     string                `json:"obfuscationSetting,omitempty"`
	DefaultValueSpec       *SlotDefaultValueSpec `json:"defaultValueSpec,omitempty"`
}

// EnumerationValue is one slot type value with its synonyms.
type EnumerationValue struct {
	Value    string   `json:"value"`
	Synonyms []string `json:"synonyms,omitempty"`
}

// SlotTypeRegexConfiguration is a regular-expression slot type.
type SlotTypeRegexConfiguration struct {
	Pattern string `json:"pattern"`
}

// SlotTypeConfiguration extends a parent slot type.
type SlotTypeConfiguration struct {
	RegexConfiguration *SlotTypeRegexConfiguration `json:"regexConfiguration,omitempty"`
}

// IntentRef is a bot's reference to an intent version.
type IntentRef struct {
	IntentName    string `json:"intentName"`
	IntentVersion string `json:"intentVersion"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// LogSettingsRequest is one conversation-log destination.
type LogSettingsRequest struct {
	Destination string  `json:"destination"`
	KmsKeyArn   *string `json:"kmsKeyArn,omitempty"`
	LogType     string  `json:"logType"`
	ResourceArn string  `json:"resourceArn"`
}

// ConversationLogsRequest is PutBotAlias's conversationLogs.
type ConversationLogsRequest struct {
	IamRoleArn  string               `json:"iamRoleArn"`
	LogSettings []LogSettingsRequest `json:"logSettings"`
}

// LogSettingsResponse is one destination as returned.
type LogSettingsResponse struct {
	Destination    string  `json:"destination,omitempty"`
	KmsKeyArn      *string `json:"kmsKeyArn,omitempty"`
	LogType        string  `json:"logType,omitempty"`
	ResourceArn    string  `json:"resourceArn,omitempty"`
	ResourcePrefix string  `json:"resourcePrefix,omitempty"`
}

// ConversationLogsResponse is the stored conversation-log configuration.
type ConversationLogsResponse struct {
	IamRoleArn  string                `json:"iamRoleArn,omitempty"`
	LogSettings []LogSettingsResponse `json:"logSettings,omitempty"`
}

// ResourceReference is ResourceInUseException's exampleReference.
type ResourceReference struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// SlotTypeDef is the stored definition of a slot type version.
type SlotTypeDef struct {
	Description             string                  `json:"description,omitempty"`
	EnumerationValues       []EnumerationValue      `json:"enumerationValues,omitempty"`
	ParentSlotTypeSignature *string                 `json:"parentSlotTypeSignature,omitempty"`
	SlotTypeConfigurations  []SlotTypeConfiguration `json:"slotTypeConfigurations,omitempty"`
	ValueSelectionStrategy  string                  `json:"valueSelectionStrategy,omitempty"`
}

// IntentDef is the stored definition of an intent version.
type IntentDef struct {
	Description           string               `json:"description,omitempty"`
	Slots                 []Slot               `json:"slots,omitempty"`
	SampleUtterances      []string             `json:"sampleUtterances,omitempty"`
	ConfirmationPrompt    *Prompt              `json:"confirmationPrompt,omitempty"`
	RejectionStatement    *Statement           `json:"rejectionStatement,omitempty"`
	FollowUpPrompt        *FollowUpPrompt      `json:"followUpPrompt,omitempty"`
	ConclusionStatement   *Statement           `json:"conclusionStatement,omitempty"`
	DialogCodeHook        *CodeHook            `json:"dialogCodeHook,omitempty"`
	FulfillmentActivity   *FulfillmentActivity `json:"fulfillmentActivity,omitempty"`
	ParentIntentSignature *string              `json:"parentIntentSignature,omitempty"`
	KendraConfiguration   *KendraConfiguration `json:"kendraConfiguration,omitempty"`
	InputContexts         []InputContext       `json:"inputContexts,omitempty"`
	OutputContexts        []OutputContext      `json:"outputContexts,omitempty"`
}

// BotDef is the stored definition of a bot version.
type BotDef struct {
	Description                  string      `json:"description,omitempty"`
	Intents                      []IntentRef `json:"intents,omitempty"`
	EnableModelImprovements      bool        `json:"enableModelImprovements"`
	NluIntentConfidenceThreshold *float64    `json:"nluIntentConfidenceThreshold,omitempty"`
	ClarificationPrompt          *Prompt     `json:"clarificationPrompt,omitempty"`
	AbortStatement               *Statement  `json:"abortStatement,omitempty"`
	IdleSessionTTLInSeconds      int         `json:"idleSessionTTLInSeconds"`
	VoiceID                      string      `json:"voiceId,omitempty"`
	DetectSentiment              bool        `json:"detectSentiment"`
	Locale                       string      `json:"locale"`
	ChildDirected                bool        `json:"childDirected"`
}
