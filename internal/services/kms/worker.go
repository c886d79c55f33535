package kms

import (
	"context"
	"time"

	"lextrail/internal/store"
)

// Purge deletes the keys whose deletion date has passed, with their
// aliases. (Such keys are treated as deleted from their deletion date on
// whether or not Purge ran.) It returns how many keys it deleted.
func (s *Service) Purge(ctx context.Context) (int, error) {
	now := store.Millis(s.cfg.Now())
	n := 0
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM kms_aliases WHERE key_id IN
			(SELECT key_id FROM kms_keys WHERE state = $1 AND deletion_ms <= $2)`, StatePendingDeletion, now); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM kms_keys WHERE state = $1 AND deletion_ms <= $2`, StatePendingDeletion, now)
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n = int(m)
		return nil
	})
	if n > 0 {
		// Drop the deleted keys' unsealed material from memory.
		s.mu.Lock()
		clear(s.aeads)
		s.mu.Unlock()
	}
	return n, err
}

// Worker returns the background purge of deleted keys.
func (s *Service) Worker() *Purger { return &Purger{s: s} }

// Purger runs Purge every Config.PurgeInterval.
type Purger struct{ s *Service }

// Run purges until ctx is cancelled.
func (p *Purger) Run(ctx context.Context) error {
	t := time.NewTicker(p.s.cfg.PurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if n, err := p.s.Purge(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				p.s.cfg.Logger.Warn("kms: purging deleted keys", "err", err)
			} else if n > 0 {
				p.s.cfg.Logger.Info("kms: deleted keys past their deletion date", "keys", n)
			}
		}
	}
}
