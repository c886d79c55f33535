package lexmodels

import (
	"context"
	"encoding/json"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// PutSlotTypeInput is PUT /slottypes/{name}/versions/$LATEST.
type PutSlotTypeInput struct {
	Name                    string                  `location:"uri" locationName:"name" json:"name"`
	Checksum                *string                 `json:"checksum,omitempty"`
	CreateVersion           *bool                   `json:"createVersion,omitempty"`
	Description             string                  `json:"description,omitempty"`
	EnumerationValues       []EnumerationValue      `json:"enumerationValues,omitempty"`
	ParentSlotTypeSignature *string                 `json:"parentSlotTypeSignature,omitempty"`
	SlotTypeConfigurations  []SlotTypeConfiguration `json:"slotTypeConfigurations,omitempty"`
	ValueSelectionStrategy  string                  `json:"valueSelectionStrategy,omitempty"`
}

// SlotTypeOutput is the slot type document PutSlotType, GetSlotType and
// CreateSlotTypeVersion return.
type SlotTypeOutput struct {
	Name                    string                  `json:"name"`
	Description             string                  `json:"description,omitempty"`
	EnumerationValues       []EnumerationValue      `json:"enumerationValues,omitempty"`
	ParentSlotTypeSignature *string                 `json:"parentSlotTypeSignature,omitempty"`
	SlotTypeConfigurations  []SlotTypeConfiguration `json:"slotTypeConfigurations,omitempty"`
	ValueSelectionStrategy  string                  `json:"valueSelectionStrategy,omitempty"`
	Version                 string                  `json:"version"`
	Checksum                string                  `json:"checksum"`
	CreatedDate             *protocol.Time          `json:"createdDate,omitempty"`
	LastUpdatedDate         *protocol.Time          `json:"lastUpdatedDate,omitempty"`
	CreateVersion           *bool                   `json:"createVersion,omitempty"`
}

func slotTypeOutput(r *resource) (*SlotTypeOutput, error) {
	var d SlotTypeDef
	if err := json.Unmarshal(r.Doc, &d); err != nil {
		return nil, err
	}
	return &SlotTypeOutput{
		Name: r.Name, Description: d.Description, EnumerationValues: d.EnumerationValues,
		ParentSlotTypeSignature: d.ParentSlotTypeSignature, SlotTypeConfigurations: d.SlotTypeConfigurations,
		ValueSelectionStrategy: d.ValueSelectionStrategy, Version: r.Version, Checksum: r.Checksum,
		CreatedDate: protocol.TimePtr(r.Created), LastUpdatedDate: protocol.TimePtr(r.Updated),
	}, nil
}

func (in *PutSlotTypeInput) def() *SlotTypeDef {
	d := &SlotTypeDef{
		Description: in.Description, EnumerationValues: in.EnumerationValues,
		ParentSlotTypeSignature: in.ParentSlotTypeSignature, SlotTypeConfigurations: in.SlotTypeConfigurations,
		ValueSelectionStrategy: in.ValueSelectionStrategy,
	}
	if d.ValueSelectionStrategy == "" {
		d.ValueSelectionStrategy = "ORIGINAL_VALUE"
	}
	return d
}

func (s *Service) putSlotType(ctx context.Context, c *catalog.Call, in *PutSlotTypeInput) (*SlotTypeOutput, error) {
	d := in.def()
	if err := validateSlotType(in.Name, d); err != nil {
		return nil, err
	}
	if reservedName(in.Name, false) {
		return nil, badRequest("The name %s is reserved for the built-in slot type AMAZON.%s. Choose a different name.", in.Name, in.Name)
	}
	out, err := s.storeSlotType(ctx, c.Tx, scopeOf(c), in.Name, d, in.Checksum, c.Now)
	if err != nil {
		return nil, err
	}
	if in.CreateVersion != nil && *in.CreateVersion {
		if _, err := publish(ctx, c.Tx, scopeOf(c), kindSlotType, in.Name, nil, c.Now, nil); err != nil {
			return nil, err
		}
	}
	out.CreateVersion = boolPtr(in.CreateVersion != nil && *in.CreateVersion)
	return out, nil
}

// storeSlotType writes a validated definition to $LATEST.
func (s *Service) storeSlotType(ctx context.Context, tx *store.Tx, sc scope, name string, d *SlotTypeDef, checksum *string, now time.Time) (*SlotTypeOutput, error) {
	r := &resource{Kind: kindSlotType, Name: name, Description: d.Description, Doc: mustJSON(d)}
	old, err := putLatest(ctx, tx, sc, r, checksum, now)
	if err != nil {
		return nil, err
	}
	if old != nil && old.ContentHash != r.ContentHash {
		if err := markBotsNotBuilt(ctx, tx, sc, kindSlotType, name, now); err != nil {
			return nil, err
		}
	}
	return slotTypeOutput(r)
}

// GetSlotTypeInput is GET /slottypes/{name}/versions/{version}.
type GetSlotTypeInput struct {
	Name    string `location:"uri" locationName:"name" json:"name"`
	Version string `location:"uri" locationName:"version" json:"version"`
}

func (s *Service) getSlotType(ctx context.Context, c *catalog.Call, in *GetSlotTypeInput) (*SlotTypeOutput, error) {
	if err := checkNameVersion(in.Name, in.Version, false); err != nil {
		return nil, err
	}
	r, err := getResource(ctx, c.Tx, scopeOf(c), kindSlotType, in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, notFound("The slot type %s version %s does not exist. Check the name and version and try again.", in.Name, in.Version)
	}
	return slotTypeOutput(r)
}

// CreateVersionInput is POST /{bots|intents|slottypes}/{name}/versions.
type CreateVersionInput struct {
	Name     string  `location:"uri" locationName:"name" json:"name"`
	Checksum *string `json:"checksum,omitempty"`
}

func (s *Service) createSlotTypeVersion(ctx context.Context, c *catalog.Call, in *CreateVersionInput) (*SlotTypeOutput, error) {
	if err := checkNameVersion(in.Name, "", false); err != nil {
		return nil, err
	}
	v, err := publish(ctx, c.Tx, scopeOf(c), kindSlotType, in.Name, in.Checksum, c.Now, nil)
	if err != nil {
		return nil, err
	}
	return slotTypeOutput(v)
}

// DeleteInput is DELETE /{bots|intents|slottypes}/{name}.
type DeleteInput struct {
	Name string `location:"uri" locationName:"name" json:"name"`
}

// Empty is the output of operations that answer 204.
type Empty struct{}

func (s *Service) deleteSlotType(ctx context.Context, c *catalog.Call, in *DeleteInput) (*Empty, error) {
	sc := scopeOf(c)
	if err := checkNameVersion(in.Name, "", false); err != nil {
		return nil, err
	}
	r, err := getResource(ctx, c.Tx, sc, kindSlotType, in.Name, latest)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, notFound("The slot type %s does not exist. Check the name and try again.", in.Name)
	}
	if from, ok, err := firstReferrer(ctx, c.Tx, sc, kindSlotType, in.Name, ""); err != nil {
		return nil, err
	} else if ok {
		return nil, inUse("Intent", ResourceReference{Name: from.name, Version: from.version})
	}
	return &Empty{}, deleteAll(ctx, c.Tx, sc, kindSlotType, in.Name)
}

// DeleteVersionInput is DELETE /{bots|intents}/{name}/versions/{version}
// and /slottypes/{name}/version/{version}.
type DeleteVersionInput struct {
	Name    string `location:"uri" locationName:"name" json:"name"`
	Version string `location:"uri" locationName:"version" json:"version"`
}

func (s *Service) deleteSlotTypeVersion(ctx context.Context, c *catalog.Call, in *DeleteVersionInput) (*Empty, error) {
	sc := scopeOf(c)
	if err := checkNameVersion(in.Name, in.Version, true); err != nil {
		return nil, err
	}
	r, err := getResource(ctx, c.Tx, sc, kindSlotType, in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, notFound("The slot type %s version %s does not exist.", in.Name, in.Version)
	}
	if from, ok, err := firstReferrer(ctx, c.Tx, sc, kindSlotType, in.Name, in.Version); err != nil {
		return nil, err
	} else if ok {
		return nil, inUse("Intent", ResourceReference{Name: from.name, Version: from.version})
	}
	return &Empty{}, deleteVersionRow(ctx, c.Tx, sc, kindSlotType, in.Name, in.Version)
}

// checkNameVersion validates a name label (1–100, the name pattern) and,
// when version is non-empty, a version label: numeric only when
// numericOnly (deletes and exports), else $LATEST or a number.
func checkNameVersion(name, version string, numericOnly bool) error {
	var c checker
	c.str("name", name, 1, 100, reName)
	if numericOnly {
		c.str("version", version, 1, 64, reNumVersion)
	} else if version != "" {
		c.str("version", version, 1, 64, reVersion)
	}
	return c.err()
}

func boolPtr(b bool) *bool { return &b }
