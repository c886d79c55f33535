package cloudtrail

import (
	"context"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
	"lextrail/internal/trail"
)

// PutEventSelectorsInput is PutEventSelectors' request.
type PutEventSelectorsInput struct {
	TrailName              *string                       `json:"TrailName,omitempty"`
	EventSelectors         []trail.EventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors []trail.AdvancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

func (in *PutEventSelectorsInput) trailID() string { return str(in.TrailName) }

// EventSelectorsOutput is PutEventSelectors' and GetEventSelectors'
// response.
type EventSelectorsOutput struct {
	TrailARN               string                        `json:"TrailARN"`
	EventSelectors         []trail.EventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors []trail.AdvancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

func selectorsOutput(t *trail.Trail) *EventSelectorsOutput {
	sel := t.Settings.Selectors
	out := &EventSelectorsOutput{TrailARN: t.ARN, EventSelectors: sel.Basic, AdvancedEventSelectors: sel.Advanced}
	if len(sel.Basic) == 0 && len(sel.Advanced) == 0 {
		out.EventSelectors = trail.DefaultSelectors().Basic
	}
	return out
}

func (s *Service) putEventSelectors(ctx context.Context, c *catalog.Call, in *PutEventSelectorsInput) (*EventSelectorsOutput, error) {
	t, err := s.find(ctx, c, str(in.TrailName), true)
	if err != nil {
		return nil, err
	}
	switch {
	case in.EventSelectors != nil && in.AdvancedEventSelectors != nil:
		return nil, errParamCombination("You cannot apply both event selectors and advanced event selectors to a trail.")
	case in.EventSelectors == nil && in.AdvancedEventSelectors == nil:
		return nil, errParamCombination("You must specify either event selectors or advanced event selectors.")
	}
	st := t.Settings
	if in.EventSelectors != nil {
		basic, err := trail.NormalizeBasic(in.EventSelectors)
		if err != nil {
			return nil, errSelectors(err.Error())
		}
		st.Selectors = trail.Selectors{Basic: basic, Custom: true}
	} else {
		adv, err := trail.NormalizeAdvanced(in.AdvancedEventSelectors)
		if err != nil {
			return nil, errSelectors(err.Error())
		}
		st.Selectors = trail.Selectors{Advanced: adv, Custom: true}
	}
	if err := trail.SaveSettings(ctx, c.Tx, t, st, store.Millis(c.Now)); err != nil {
		return nil, err
	}
	return selectorsOutput(t), nil
}

// GetEventSelectorsInput is GetEventSelectors' request.
type GetEventSelectorsInput struct {
	TrailName *string `json:"TrailName,omitempty"`
}

func (in *GetEventSelectorsInput) trailID() string { return str(in.TrailName) }

func (s *Service) getEventSelectors(ctx context.Context, c *catalog.Call, in *GetEventSelectorsInput) (*EventSelectorsOutput, error) {
	t, err := s.find(ctx, c, str(in.TrailName), false)
	if err != nil {
		return nil, err
	}
	return selectorsOutput(t), nil
}
