package lexmodels

import (
	"context"

	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
)

// Channel associations (Facebook, Slack, Kik, Twilio SMS) can only be
// created in the AWS console, and lextrail has no console channels yet:
// there are never any. The API answers truthfully — empty lists and
// NotFound — rather than pretending.

// ChannelInput names a channel association.
type ChannelInput struct {
	BotName  string `location:"uri" locationName:"botName" json:"botName"`
	BotAlias string `location:"uri" locationName:"aliasName" json:"botAlias"`
	Name     string `location:"uri" locationName:"name" json:"name"`
}

// BotChannelAssociation is a channel association (never produced).
type BotChannelAssociation struct {
	Name             string            `json:"name,omitempty"`
	Description      string            `json:"description,omitempty"`
	BotAlias         string            `json:"botAlias,omitempty"`
	BotName          string            `json:"botName,omitempty"`
	CreatedDate      *protocol.Time    `json:"createdDate,omitempty"`
	Type             string            `json:"type,omitempty"`
	BotConfiguration map[string]string `json:"botConfiguration,omitempty"`
	Status           string            `json:"status,omitempty"`
	FailureReason    string            `json:"failureReason,omitempty"`
}

func (in *ChannelInput) check() error {
	var ck checker
	ck.str("botName", in.BotName, 2, 50, reName)
	ck.str("aliasName", in.BotAlias, 1, 100, reName)
	ck.str("name", in.Name, 1, 100, reName)
	return ck.err()
}

func channelNotFound(in *ChannelInput) error {
	return notFound("There is no channel association named %s for alias %s of bot %s. lextrail does not support channel associations.", in.Name, in.BotAlias, in.BotName)
}

func (s *Service) getBotChannelAssociation(_ context.Context, _ *catalog.Call, in *ChannelInput) (*BotChannelAssociation, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	return nil, channelNotFound(in)
}

func (s *Service) deleteBotChannelAssociation(_ context.Context, _ *catalog.Call, in *ChannelInput) (*Empty, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	return nil, channelNotFound(in)
}

// ChannelsInput is GET /bots/{botName}/aliases/{aliasName}/channels/.
type ChannelsInput struct {
	BotName      string  `location:"uri" locationName:"botName" json:"botName"`
	BotAlias     string  `location:"uri" locationName:"aliasName" json:"botAlias"`
	NextToken    *string `location:"querystring" locationName:"nextToken" json:"nextToken,omitempty"`
	MaxResults   *int    `location:"querystring" locationName:"maxResults" json:"maxResults,omitempty"`
	NameContains *string `location:"querystring" locationName:"nameContains" json:"nameContains,omitempty"`
}

// ChannelsOutput is the (always empty) list.
type ChannelsOutput struct {
	BotChannelAssociations []BotChannelAssociation `json:"botChannelAssociations"`
	NextToken              *string                 `json:"nextToken,omitempty"`
}

func (s *Service) getBotChannelAssociations(_ context.Context, _ *catalog.Call, in *ChannelsInput) (*ChannelsOutput, error) {
	var ck checker
	ck.str("botName", in.BotName, 2, 50, reName)
	if in.BotAlias != "-" {
		ck.str("aliasName", in.BotAlias, 1, 100, reName)
	}
	if in.NameContains != nil {
		ck.str("nameContains", *in.NameContains, 1, 100, reName)
	}
	if err := ck.err(); err != nil {
		return nil, err
	}
	if _, err := maxResults(in.MaxResults, 50); err != nil {
		return nil, err
	}
	if _, err := decodeToken(in.NextToken); err != nil {
		return nil, err
	}
	return &ChannelsOutput{BotChannelAssociations: []BotChannelAssociation{}}, nil
}
