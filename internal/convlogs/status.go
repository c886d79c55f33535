package convlogs

import (
	"context"
	"time"

	"lextrail/internal/store"
)

// DeliveryStatus is how an alias's conversation logs of one type are
// delivered.
type DeliveryStatus struct {
	BotName, BotAlias string
	// LogType is TEXT or AUDIO; Destination the log group ARN or bucket.
	LogType, Destination string
	// Delivered and Dropped count entries; Failed counts failed delivery
	// attempts (of one or more entries each).
	Delivered, Failed, Dropped int64
	// Pending entries wait in the queue.
	Pending int64
	// LastDelivery is the last successful delivery; LastError and
	// LastErrorTime the last failure (or drop).
	LastDelivery  time.Time
	LastError     string
	LastErrorTime time.Time
}

// Failing reports whether the last attempt failed (no delivery since).
func (d DeliveryStatus) Failing() bool { return d.LastErrorTime.After(d.LastDelivery) }

type statusDelta struct {
	delivered, failed, dropped int64
	lastDelivery               time.Time
	lastError                  string
	lastErrorAt                time.Time
}

const statusUpsert = `INSERT INTO convlogs_status (account_id, region, bot_name, bot_alias, log_type, destination, delivered, failed, dropped,
	last_delivery_ms, last_error, last_error_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
	ON CONFLICT (account_id, region, bot_name, bot_alias, log_type) DO UPDATE SET destination = excluded.destination,
	delivered = convlogs_status.delivered + excluded.delivered, failed = convlogs_status.failed + excluded.failed,
	dropped = convlogs_status.dropped + excluded.dropped,
	last_delivery_ms = CASE WHEN excluded.last_delivery_ms > convlogs_status.last_delivery_ms THEN excluded.last_delivery_ms ELSE convlogs_status.last_delivery_ms END,
	last_error = CASE WHEN excluded.last_error_ms > 0 THEN excluded.last_error ELSE convlogs_status.last_error END,
	last_error_ms = CASE WHEN excluded.last_error_ms > convlogs_status.last_error_ms THEN excluded.last_error_ms ELSE convlogs_status.last_error_ms END`

func (s *Service) updateStatus(ctx context.Context, tx *store.Tx, r row, logType string, d statusDelta) error {
	_, err := tx.Exec(ctx, statusUpsert, r.d.account, r.d.region, r.d.bot, r.d.alias, logType, r.d.dest, d.delivered, d.failed, d.dropped,
		store.Millis(d.lastDelivery), d.lastError, store.Millis(d.lastErrorAt))
	return err
}

// Status returns the delivery status of a bot alias's conversation logs
// (one entry per log type that has been delivered, failed or queued).
func (s *Service) Status(ctx context.Context, accountID, region, bot, alias string) ([]DeliveryStatus, error) {
	var out []DeliveryStatus
	err := s.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		// The queue is read before the counters: on PostgreSQL each
		// statement has its own snapshot (READ COMMITTED), and a delivery
		// deletes its rows and counts them in one transaction, so counters
		// read afterwards include every delivery the queue no longer shows
		// (no entry is ever in neither).
		type pending struct {
			typ, dest string
			n         int64
		}
		var queued []pending
		rs, err := tx.Query(ctx, `SELECT q.kind, d.destination, SUM(q.docs) FROM convlogs_queue q JOIN convlogs_dests d ON d.group_key = q.group_key
			WHERE d.account_id = $1 AND d.region = $2 AND d.bot_name = $3 AND d.bot_alias = $4 GROUP BY q.kind, d.destination`, accountID, region, bot, alias)
		if err != nil {
			return err
		}
		for rs.Next() {
			var p pending
			var kind string
			if err := rs.Scan(&kind, &p.dest, &p.n); err != nil {
				rs.Close()
				return err
			}
			p.typ = TypeText
			if kind == kindAudio {
				p.typ = TypeAudio
			}
			queued = append(queued, p)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		rs, err = tx.Query(ctx, `SELECT log_type, destination, delivered, failed, dropped, last_delivery_ms, last_error, last_error_ms
			FROM convlogs_status WHERE account_id = $1 AND region = $2 AND bot_name = $3 AND bot_alias = $4 ORDER BY log_type`, accountID, region, bot, alias)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			d := DeliveryStatus{BotName: bot, BotAlias: alias}
			var ld, le int64
			if err := rs.Scan(&d.LogType, &d.Destination, &d.Delivered, &d.Failed, &d.Dropped, &ld, &d.LastError, &le); err != nil {
				return err
			}
			d.LastDelivery, d.LastErrorTime = store.FromMillis(ld), store.FromMillis(le)
			out = append(out, d)
		}
		if err := rs.Err(); err != nil {
			return err
		}
		for _, p := range queued {
			found := false
			for i := range out {
				if out[i].LogType == p.typ {
					out[i].Pending += p.n
					found = true
				}
			}
			if !found {
				out = append(out, DeliveryStatus{BotName: bot, BotAlias: alias, LogType: p.typ, Destination: p.dest, Pending: p.n})
			}
		}
		return nil
	})
	return out, err
}
