package lexmodels

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// PutIntentInput is PUT /intents/{name}/versions/$LATEST.
type PutIntentInput struct {
	Name                  string               `location:"uri" locationName:"name" json:"name"`
	Checksum              *string              `json:"checksum,omitempty"`
	CreateVersion         *bool                `json:"createVersion,omitempty"`
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

func (in *PutIntentInput) def() *IntentDef {
	return &IntentDef{
		Description: in.Description, Slots: in.Slots, SampleUtterances: in.SampleUtterances,
		ConfirmationPrompt: in.ConfirmationPrompt, RejectionStatement: in.RejectionStatement,
		FollowUpPrompt: in.FollowUpPrompt, ConclusionStatement: in.ConclusionStatement,
		DialogCodeHook: in.DialogCodeHook, FulfillmentActivity: in.FulfillmentActivity,
		ParentIntentSignature: in.ParentIntentSignature, KendraConfiguration: in.KendraConfiguration,
		InputContexts: in.InputContexts, OutputContexts: in.OutputContexts,
	}
}

// IntentOutput is the intent document PutIntent, GetIntent and
// CreateIntentVersion return.
type IntentOutput struct {
	Name                  string               `json:"name"`
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
	Version               string               `json:"version"`
	Checksum              string               `json:"checksum"`
	CreatedDate           *protocol.Time       `json:"createdDate,omitempty"`
	LastUpdatedDate       *protocol.Time       `json:"lastUpdatedDate,omitempty"`
	CreateVersion         *bool                `json:"createVersion,omitempty"`
}

func intentOutput(r *resource) (*IntentOutput, error) {
	var d IntentDef
	if err := json.Unmarshal(r.Doc, &d); err != nil {
		return nil, err
	}
	return &IntentOutput{
		Name: r.Name, Description: d.Description, Slots: d.Slots, SampleUtterances: d.SampleUtterances,
		ConfirmationPrompt: d.ConfirmationPrompt, RejectionStatement: d.RejectionStatement,
		FollowUpPrompt: d.FollowUpPrompt, ConclusionStatement: d.ConclusionStatement,
		DialogCodeHook: d.DialogCodeHook, FulfillmentActivity: d.FulfillmentActivity,
		ParentIntentSignature: d.ParentIntentSignature, KendraConfiguration: d.KendraConfiguration,
		InputContexts: d.InputContexts, OutputContexts: d.OutputContexts,
		Version: r.Version, Checksum: r.Checksum,
		CreatedDate: protocol.TimePtr(r.Created), LastUpdatedDate: protocol.TimePtr(r.Updated),
	}, nil
}

func (s *Service) putIntent(ctx context.Context, c *catalog.Call, in *PutIntentInput) (*IntentOutput, error) {
	d := in.def()
	out, err := s.storeIntent(ctx, c.Tx, scopeOf(c), in.Name, d, in.Checksum, c.Now)
	if err != nil {
		return nil, err
	}
	if in.CreateVersion != nil && *in.CreateVersion {
		if _, err := publishIntent(ctx, c.Tx, scopeOf(c), in.Name, nil, c.Now); err != nil {
			return nil, err
		}
	}
	out.CreateVersion = boolPtr(in.CreateVersion != nil && *in.CreateVersion)
	return out, nil
}

// storeIntent validates d and writes it to $LATEST with its slot type
// edges.
func (s *Service) storeIntent(ctx context.Context, tx *store.Tx, sc scope, name string, d *IntentDef, checksum *string, now time.Time) (*IntentOutput, error) {
	if err := validateIntent(name, d); err != nil {
		return nil, err
	}
	if reservedName(name, true) {
		return nil, badRequest("The name %s is reserved for the built-in intent AMAZON.%s. Choose a different name.", name, name)
	}
	// Slot types must exist at the versions named.
	var deps []ref
	for _, sl := range d.Slots {
		st := *sl.SlotType
		if strings.HasPrefix(st, "AMAZON.") {
			continue
		}
		if sl.SlotTypeVersion == nil {
			return nil, badRequest("Slot %s uses the custom slot type %s and needs a slotTypeVersion ($LATEST or a version number).", sl.Name, st)
		}
		ok, err := exists(ctx, tx, sc, kindSlotType, st, *sl.SlotTypeVersion)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, badRequest("The slot type %s version %s used by slot %s does not exist.", st, *sl.SlotTypeVersion, sl.Name)
		}
		deps = append(deps, ref{kindSlotType, st, *sl.SlotTypeVersion})
	}
	r := &resource{Kind: kindIntent, Name: name, Description: d.Description, Doc: mustJSON(d)}
	old, err := putLatest(ctx, tx, sc, r, checksum, now)
	if err != nil {
		return nil, err
	}
	if err := setRefs(ctx, tx, sc, ref{kindIntent, name, latest}, deps); err != nil {
		return nil, err
	}
	if old != nil && old.ContentHash != r.ContentHash {
		if err := markBotsNotBuilt(ctx, tx, sc, kindIntent, name, now); err != nil {
			return nil, err
		}
	}
	return intentOutput(r)
}

func publishIntent(ctx context.Context, tx *store.Tx, sc scope, name string, checksum *string, now time.Time) (*resource, error) {
	deps, err := outRefs(ctx, tx, sc, ref{kindIntent, name, latest})
	if err != nil {
		return nil, err
	}
	return publish(ctx, tx, sc, kindIntent, name, checksum, now, deps)
}

// GetIntentInput is GET /intents/{name}/versions/{version}.
type GetIntentInput struct {
	Name    string `location:"uri" locationName:"name" json:"name"`
	Version string `location:"uri" locationName:"version" json:"version"`
}

func (s *Service) getIntent(ctx context.Context, c *catalog.Call, in *GetIntentInput) (*IntentOutput, error) {
	if err := checkNameVersion(in.Name, in.Version, false); err != nil {
		return nil, err
	}
	r, err := getResource(ctx, c.Tx, scopeOf(c), kindIntent, in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, notFound("The intent %s version %s does not exist. Check the name and version and try again.", in.Name, in.Version)
	}
	return intentOutput(r)
}

func (s *Service) createIntentVersion(ctx context.Context, c *catalog.Call, in *CreateVersionInput) (*IntentOutput, error) {
	if err := checkNameVersion(in.Name, "", false); err != nil {
		return nil, err
	}
	v, err := publishIntent(ctx, c.Tx, scopeOf(c), in.Name, in.Checksum, c.Now)
	if err != nil {
		return nil, err
	}
	return intentOutput(v)
}

func (s *Service) deleteIntent(ctx context.Context, c *catalog.Call, in *DeleteInput) (*Empty, error) {
	sc := scopeOf(c)
	if err := checkNameVersion(in.Name, "", false); err != nil {
		return nil, err
	}
	ok, err := exists(ctx, c.Tx, sc, kindIntent, in.Name, latest)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("The intent %s does not exist. Check the name and try again.", in.Name)
	}
	if from, ok, err := firstReferrer(ctx, c.Tx, sc, kindIntent, in.Name, ""); err != nil {
		return nil, err
	} else if ok {
		return nil, inUse("Bot", ResourceReference{Name: from.name, Version: from.version})
	}
	return &Empty{}, deleteAll(ctx, c.Tx, sc, kindIntent, in.Name)
}

func (s *Service) deleteIntentVersion(ctx context.Context, c *catalog.Call, in *DeleteVersionInput) (*Empty, error) {
	sc := scopeOf(c)
	if err := checkNameVersion(in.Name, in.Version, true); err != nil {
		return nil, err
	}
	ok, err := exists(ctx, c.Tx, sc, kindIntent, in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("The intent %s version %s does not exist.", in.Name, in.Version)
	}
	if from, ok, err := firstReferrer(ctx, c.Tx, sc, kindIntent, in.Name, in.Version); err != nil {
		return nil, err
	} else if ok {
		return nil, inUse("Bot", ResourceReference{Name: from.name, Version: from.version})
	}
	return &Empty{}, deleteVersionRow(ctx, c.Tx, sc, kindIntent, in.Name, in.Version)
}
