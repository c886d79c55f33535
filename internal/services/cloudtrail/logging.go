package cloudtrail

import (
	"context"
	"errors"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
	"lextrail/internal/trail"
)

func (s *Service) startLogging(ctx context.Context, c *catalog.Call, in *NameInput) (*struct{}, error) {
	t, err := s.find(ctx, c, str(in.Name), true)
	if err != nil {
		return nil, err
	}
	if err := trail.StartLogging(ctx, c.Tx, t, store.Millis(c.Now)); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) stopLogging(ctx context.Context, c *catalog.Call, in *NameInput) (*struct{}, error) {
	t, err := s.find(ctx, c, str(in.Name), true)
	if err != nil {
		return nil, err
	}
	if err := trail.StopLogging(ctx, c.Tx, t, store.Millis(c.Now)); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// GetTrailStatusOutput is GetTrailStatus' response: times only for what
// happened, errors only when the last attempt failed; the deprecated
// string members are ISO 8601 times or "".
type GetTrailStatusOutput struct {
	IsLogging                          bool           `json:"IsLogging"`
	LatestDeliveryError                string         `json:"LatestDeliveryError,omitempty"`
	LatestNotificationError            string         `json:"LatestNotificationError,omitempty"`
	LatestDeliveryTime                 *protocol.Time `json:"LatestDeliveryTime,omitempty"`
	LatestNotificationTime             *protocol.Time `json:"LatestNotificationTime,omitempty"`
	StartLoggingTime                   *protocol.Time `json:"StartLoggingTime,omitempty"`
	StopLoggingTime                    *protocol.Time `json:"StopLoggingTime,omitempty"`
	LatestDigestDeliveryTime           *protocol.Time `json:"LatestDigestDeliveryTime,omitempty"`
	LatestDigestDeliveryError          string         `json:"LatestDigestDeliveryError,omitempty"`
	LatestDeliveryAttemptTime          string         `json:"LatestDeliveryAttemptTime"`
	LatestNotificationAttemptTime      string         `json:"LatestNotificationAttemptTime"`
	LatestNotificationAttemptSucceeded string         `json:"LatestNotificationAttemptSucceeded"`
	LatestDeliveryAttemptSucceeded     string         `json:"LatestDeliveryAttemptSucceeded"`
	TimeLoggingStarted                 string         `json:"TimeLoggingStarted"`
	TimeLoggingStopped                 string         `json:"TimeLoggingStopped"`
}

func isoOrEmpty(ms int64) string {
	if ms == 0 {
		return ""
	}
	return store.FromMillis(ms).Format("2006-01-02T15:04:05Z")
}

func timeOrNil(ms int64) *protocol.Time { return protocol.TimePtr(store.FromMillis(ms)) }

func (s *Service) getTrailStatus(ctx context.Context, c *catalog.Call, in *NameInput) (*GetTrailStatusOutput, error) {
	t, err := s.find(ctx, c, str(in.Name), false)
	if err != nil {
		// GetTrailStatus names the trail by ARN in its not-found message.
		var e *awserr.Error
		if errors.As(err, &e) && e.Code == "TrailNotFoundException" && !trail.IsARN(str(in.Name)) {
			return nil, errTrailNotFound(trail.ARN(c.Region, c.AccountID(), str(in.Name)), c.AccountID())
		}
		return nil, err
	}
	st := &t.Status
	return &GetTrailStatusOutput{
		IsLogging:                          t.Logging,
		LatestDeliveryError:                st.LatestDeliveryError,
		LatestNotificationError:            st.LatestNotificationError,
		LatestDeliveryTime:                 timeOrNil(st.LatestDeliveryMs),
		LatestNotificationTime:             timeOrNil(st.LatestNotificationMs),
		StartLoggingTime:                   timeOrNil(t.StartLoggingMs),
		StopLoggingTime:                    timeOrNil(t.StopLoggingMs),
		LatestDigestDeliveryTime:           timeOrNil(st.LatestDigestMs),
		LatestDigestDeliveryError:          st.LatestDigestError,
		LatestDeliveryAttemptTime:          isoOrEmpty(st.LatestDeliveryAttemptMs),
		LatestDeliveryAttemptSucceeded:     isoOrEmpty(st.LatestDeliveryMs),
		LatestNotificationAttemptTime:      isoOrEmpty(st.LatestNotificationAttemptMs),
		LatestNotificationAttemptSucceeded: isoOrEmpty(st.LatestNotificationMs),
		TimeLoggingStarted:                 isoOrEmpty(t.StartLoggingMs),
		TimeLoggingStopped:                 isoOrEmpty(t.StopLoggingMs),
	}, nil
}
