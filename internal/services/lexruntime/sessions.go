package lexruntime

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"lextrail/internal/dialog"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/store"
)

// sessionKey identifies a conversation.
type sessionKey struct {
	acct, region, bot, alias, user string
}

func (k sessionKey) String() string {
	return k.acct + "\x00" + k.region + "\x00" + k.bot + "\x00" + k.alias + "\x00" + k.user
}

// session is a lex_sessions row.
type session struct {
	ID         string
	BotVersion string
	ModelID    string
	State      *dialog.State
	Turn       int64 // -1: no row
	Started    time.Time
	Expires    time.Time
	// Logs is the alias's conversation-log settings when the session began.
	Logs json.RawMessage
}

// stored is the JSON kept in lex_sessions.state.
type stored struct {
	Dialog *dialog.State   `json:"dialog"`
	Logs   json.RawMessage `json:"logs,omitempty"`
}

// live reports whether the row holds a session that has not expired.
func (s *session) live(now time.Time) bool { return s != nil && s.Turn >= 0 && now.Before(s.Expires) }

// The session statements (prepared once when the service is built; nil
// statements run as plain queries, for tests).
const (
	loadQuery = `SELECT session_id, bot_version, model_id, state, turn, started_ms, expires_ms FROM lex_sessions
		WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_alias=$4 AND user_id=$5`
	saveQuery = `INSERT INTO lex_sessions (account_id, region, bot_name, bot_alias, user_id, session_id, bot_version, model_id, state, turn, started_ms, updated_ms, expires_ms)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
		ON CONFLICT (account_id, region, bot_name, bot_alias, user_id) DO UPDATE SET session_id=excluded.session_id, bot_version=excluded.bot_version,
			model_id=excluded.model_id, state=excluded.state, turn=excluded.turn, started_ms=excluded.started_ms, updated_ms=excluded.updated_ms, expires_ms=excluded.expires_ms
		WHERE lex_sessions.turn = $14`
	deleteQuery = `DELETE FROM lex_sessions WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_alias=$4 AND user_id=$5 AND turn=$6`
)

// statements are the prepared per-turn statements.
type statements struct {
	load, save, del *store.Stmt
	models          *lexmodels.RuntimeStatements
}

func prepare(ctx context.Context, db *store.DB) (*statements, error) {
	st := &statements{}
	var err error
	for _, p := range []struct {
		dst   **store.Stmt
		query string
	}{{&st.load, loadQuery}, {&st.save, saveQuery}, {&st.del, deleteQuery}} {
		if *p.dst, err = db.Prepare(ctx, p.query); err != nil {
			return nil, err
		}
	}
	if st.models, err = lexmodels.PrepareRuntime(ctx, db); err != nil {
		return nil, err
	}
	return st, nil
}

func queryRow(ctx context.Context, tx *store.Tx, s *store.Stmt, q string, args ...any) *sql.Row {
	if s == nil {
		return tx.QueryRow(ctx, q, args...)
	}
	return tx.QueryRowStmt(ctx, s, args...)
}

func exec(ctx context.Context, tx *store.Tx, s *store.Stmt, q string, args ...any) (sql.Result, error) {
	if s == nil {
		return tx.Exec(ctx, q, args...)
	}
	return tx.ExecStmt(ctx, s, args...)
}

// loadSession reads a session row (expired or not); Turn is -1 when
// there is none.
func (st *statements) loadSession(ctx context.Context, tx *store.Tx, k sessionKey) (*session, error) {
	s := &session{Turn: -1}
	var state string
	var started, expires int64
	err := queryRow(ctx, tx, st.load, loadQuery, k.acct, k.region, k.bot, k.alias, k.user).Scan(&s.ID, &s.BotVersion, &s.ModelID, &state, &s.Turn, &started, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	var doc stored
	if err := json.Unmarshal([]byte(state), &doc); err != nil || doc.Dialog == nil {
		// An unreadable state is a session that cannot continue; the
		// next write replaces it.
		doc.Dialog = dialog.NewState(s.ID)
	}
	s.State, s.Logs = doc.Dialog, doc.Logs
	s.Started, s.Expires = store.FromMillis(started), store.FromMillis(expires)
	return s, nil
}

// saveSession writes s if the row's turn is still prev (the turn read,
// -1 for none): it reports false when another request committed first.
func (st *statements) saveSession(ctx context.Context, tx *store.Tx, k sessionKey, s *session, prev int64, now time.Time) (bool, error) {
	state, err := json.Marshal(stored{Dialog: s.State, Logs: s.Logs})
	if err != nil {
		return false, err
	}
	res, err := exec(ctx, tx, st.save, saveQuery,
		k.acct, k.region, k.bot, k.alias, k.user, s.ID, s.BotVersion, s.ModelID, string(state), prev+1,
		store.Millis(s.Started), store.Millis(now), store.Millis(s.Expires), prev)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// deleteSession removes the row if its turn is still prev.
func (st *statements) deleteSessionRow(ctx context.Context, tx *store.Tx, k sessionKey, prev int64) (bool, error) {
	res, err := exec(ctx, tx, st.del, deleteQuery,
		k.acct, k.region, k.bot, k.alias, k.user, prev)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const sessionLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newSessionID is an ISO timestamp with milliseconds and a random suffix
// ("2026-11-22T10:00:00.000Z-AbCdEfGh"), the shape real session IDs have.
func newSessionID(now time.Time) string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = sessionLetters[int(b[i])%len(sessionLetters)]
	}
	return now.UTC().Format("2006-01-02T15:04:05.000Z") + "-" + string(b)
}

// Sweeper deletes expired sessions in the background (register it with
// server.AddWorker). Expired rows are already invisible to the API; this
// only reclaims their space.
type Sweeper struct{ s *Service }

// Sweeper returns the service's session sweeper.
func (s *Service) Sweeper() *Sweeper { return &Sweeper{s: s} }

// Run sweeps every SweepInterval until ctx is cancelled.
func (w *Sweeper) Run(ctx context.Context) error {
	t := time.NewTicker(w.s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := w.SweepOnce(ctx); err != nil && ctx.Err() == nil {
				w.s.log.Error("lex session sweep", "err", err)
			}
		}
	}
}

// SweepOnce deletes the sessions expired at the service clock's now and
// returns how many.
func (w *Sweeper) SweepOnce(ctx context.Context) (int64, error) {
	var n int64
	err := w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM lex_sessions WHERE expires_ms <= $1`, store.Millis(w.s.cfg.Now()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
