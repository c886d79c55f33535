package logs

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"lextrail/internal/store"
)

// PurgeWorker enforces retention and removes deleted streams' events, in
// bounded batches: every PurgeInterval (and soon after a DeleteLogGroup,
// DeleteLogStream or PutRetentionPolicy) it deletes blocks whose newest
// event is older than the group's retention, the blocks of streams in
// logs_trash, data keys no block uses any more, and finished queries past
// QueryRetention. Run it for the server's lifetime.
func (s *Service) PurgeWorker() interface{ Run(context.Context) error } { return purger{s} }

type purger struct{ s *Service }

func (s *Service) wakePurge() {
	select {
	case s.purgeCh <- struct{}{}:
	default:
	}
}

func (p purger) Run(ctx context.Context) error {
	s := p.s
	t := time.NewTicker(s.cfg.PurgeInterval)
	defer t.Stop()
	for {
		if _, err := s.Purge(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("logs: purge", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-s.purgeCh:
		}
	}
}

// PurgeStats says what one Purge pass deleted.
type PurgeStats struct {
	ExpiredBlocks, TrashedBlocks, DataKeys, Queries int
}

// Purge runs one pass of the purge worker until nothing is left to delete
// (each batch in its own transaction) and reports what it removed.
func (s *Service) Purge(ctx context.Context) (PurgeStats, error) {
	var st PurgeStats
	now := s.cfg.Now()
	// Retention: per group with a policy, blocks wholly older than it.
	type ret struct {
		id   int64
		days int64
	}
	var groups []ret
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT group_id, retention_days FROM logs_groups WHERE retention_days > 0`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r ret
			if err := rows.Scan(&r.id, &r.days); err != nil {
				return err
			}
			groups = append(groups, r)
		}
		return rows.Err()
	})
	if err != nil {
		return st, err
	}
	for _, g := range groups {
		cutoff := now.UnixMilli() - g.days*24*60*60*1000
		for {
			n, more, err := s.purgeBatch(ctx, `SELECT stream_id, first_seq, raw_bytes FROM logs_blocks WHERE group_id = $1 AND max_ts < $2 ORDER BY max_ts LIMIT $3`, g.id, cutoff)
			if err != nil {
				return st, err
			}
			st.ExpiredBlocks += n
			if !more {
				break
			}
		}
	}
	// Trash: the blocks of deleted streams, then the trash rows.
	var trash []int64
	err = s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT stream_id FROM logs_trash ORDER BY deleted_ms LIMIT 1000`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			trash = append(trash, id)
		}
		return rows.Err()
	})
	if err != nil {
		return st, err
	}
	for _, id := range trash {
		for {
			n, more, err := s.purgeBatch(ctx, `SELECT stream_id, first_seq, 0 FROM logs_blocks WHERE stream_id = $1 AND $2 >= 0 ORDER BY first_seq LIMIT $3`, id, int64(0))
			if err != nil {
				return st, err
			}
			st.TrashedBlocks += n
			if !more {
				break
			}
		}
		if err := s.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM logs_trash WHERE stream_id = $1`, id)
			return err
		}); err != nil {
			return st, err
		}
	}
	// Data keys of deleted groups that no block needs.
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM logs_data_keys WHERE group_id NOT IN (SELECT group_id FROM logs_groups)
			AND NOT EXISTS (SELECT 1 FROM logs_blocks b WHERE b.dek_id = logs_data_keys.dek_id)`)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		st.DataKeys = int(n)
		res, err = tx.Exec(ctx, `DELETE FROM logs_queries WHERE done_ms > 0 AND done_ms < $1`, store.Millis(now.Add(-s.cfg.QueryRetention)))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		st.Queries = int(n)
		return nil
	})
	return st, err
}

// purgeBatch deletes up to PurgeBatch blocks chosen by sel (args: a, b,
// limit; rows: stream_id, first_seq, raw_bytes to subtract from the
// group) in one transaction and returns how many went and whether the
// batch was full (more may be left).
func (s *Service) purgeBatch(ctx context.Context, sel string, a, b int64) (int, bool, error) {
	n := 0
	more := false
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		n = 0
		type key struct{ stream, seq, raw int64 }
		var keys []key
		rows, err := tx.Query(ctx, sel, a, b, int64(s.cfg.PurgeBatch))
		if err != nil {
			return err
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.stream, &k.seq, &k.raw); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		more = len(keys) == s.cfg.PurgeBatch
		for _, k := range keys {
			var group, raw int64
			err := tx.QueryRow(ctx, `DELETE FROM logs_blocks WHERE stream_id = $1 AND first_seq = $2 RETURNING group_id, raw_bytes`, k.stream, k.seq).Scan(&group, &raw)
			if errors.Is(err, sql.ErrNoRows) {
				continue // another node's purge took it first
			}
			if err != nil {
				return err
			}
			n++
			if k.raw > 0 {
				if _, err := tx.Exec(ctx, `UPDATE logs_groups SET stored_bytes = stored_bytes - $1 WHERE group_id = $2`, raw, group); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return n, more, err
}
