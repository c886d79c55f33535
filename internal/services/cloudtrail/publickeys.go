package cloudtrail

import (
	"context"

	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
)

// ListPublicKeysInput is ListPublicKeys' request.
type ListPublicKeysInput struct {
	StartTime *protocol.Time `json:"StartTime,omitempty"`
	EndTime   *protocol.Time `json:"EndTime,omitempty"`
	NextToken *string        `json:"NextToken,omitempty"`
}

// PublicKey is a digest signing key's public half: Value is the PKCS#1
// DER (base64 on the wire), Fingerprint the hex MD5 of it.
type PublicKey struct {
	Value             []byte        `json:"Value"`
	ValidityStartTime protocol.Time `json:"ValidityStartTime"`
	ValidityEndTime   protocol.Time `json:"ValidityEndTime"`
	Fingerprint       string        `json:"Fingerprint"`
}

// ListPublicKeysOutput is ListPublicKeys' response.
type ListPublicKeysOutput struct {
	PublicKeyList []PublicKey `json:"PublicKeyList"`
}

// listPublicKeys returns the call region's digest signing keys whose
// validity overlaps [StartTime, EndTime] (each defaults to now; the key
// for now is made if it does not exist yet).
func (s *Service) listPublicKeys(ctx context.Context, c *catalog.Call, in *ListPublicKeysInput) (*ListPublicKeysOutput, error) {
	start, end := c.Now, c.Now
	if in.StartTime != nil {
		start = in.StartTime.Time
	}
	if in.EndTime != nil {
		end = in.EndTime.Time
	}
	if start.After(end) {
		return nil, clientError("InvalidTimeRangeException", "Start time must be before end time.")
	}
	if str(in.NextToken) != "" {
		return nil, clientError("InvalidTokenException", "Invalid NextToken.")
	}
	out := &ListPublicKeysOutput{PublicKeyList: []PublicKey{}}
	if s.cfg.SigningKeys == nil {
		return out, nil
	}
	if !c.Now.Before(start) && !c.Now.After(end) {
		if _, err := s.cfg.SigningKeys.Current(ctx, c.Region, c.Now); err != nil {
			return nil, err
		}
	}
	keys, err := s.cfg.SigningKeys.Public(ctx, c.Region, start, end)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		out.PublicKeyList = append(out.PublicKeyList, PublicKey{Value: k.PublicDER, ValidityStartTime: protocol.NewTime(k.ValidFrom),
			ValidityEndTime: protocol.NewTime(k.ValidTo), Fingerprint: k.Fingerprint})
	}
	return out, nil
}
