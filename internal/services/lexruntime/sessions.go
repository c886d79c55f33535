package lexruntime

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"
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
	// Version is the row's version (a random number every write sets;
	// writers compare-and-swap on it).
	Version int64
	Started time.Time
	Expires time.Time
	// Sweep is the row's sweep_ms (0: no row yet): expires_ms rounded up
	// to sweepGrain, raised only when Expires passes it (migration 0851).
	Sweep int64
	// Logs is the alias's conversation-log settings when the session began.
	Logs json.RawMessage
	// doc, when set, is encodeStored's document for this row, made by the
	// request before its turn is queued so that the committer's serial
	// section (every turn of the process passes through it) does not
	// spend its time encoding.
	doc string
}

// stored is the JSON kept in lex_sessions.state.
type stored struct {
	Dialog *dialog.State   `json:"dialog"`
	Logs   json.RawMessage `json:"logs,omitempty"`
}

// encodeStored is json.Marshal(stored{s.State, s.Logs}) without
// encoding/json's reflection (State.AppendJSON writes the same bytes) and
// its validation and compaction of the RawMessage on every turn (8 µs for
// an alias's settings): Logs is always JSON lextrail wrote compact (the
// alias's stored settings, or a row's as read back).
func encodeStored(s *session) (string, error) {
	bp := docBufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"dialog":`...)
	b, err := s.State.AppendJSON(b)
	if err != nil {
		docBufs.Put(bp)
		return "", err
	}
	if len(s.Logs) > 0 {
		b = append(b, `,"logs":`...)
		b = append(b, s.Logs...)
	}
	doc := string(append(b, '}')) // the one allocation: the buffer is reused
	if cap(b) <= maxDocBuf {
		*bp = b
		docBufs.Put(bp)
	}
	return doc, nil
}

// docBufs are encodeStored's buffers; one that grew past maxDocBuf is
// dropped.
var docBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

const maxDocBuf = 64 << 10

// live reports whether the row holds a session that has not expired.
func (s *session) live(now time.Time) bool { return s != nil && s.Turn >= 0 && now.Before(s.Expires) }

// The session statements. On SQLite each connection keeps them compiled
// (internal/store's statement cache); pgx caches them per connection.
const (
	loadQuery = `SELECT session_id, bot_version, model_id, state, turn, version, started_ms, expires_ms, sweep_ms FROM lex_sessions
		WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_alias=$4 AND user_id=$5`
	saveQuery = `INSERT INTO lex_sessions (account_id, region, bot_name, bot_alias, user_id, session_id, bot_version, model_id, state, turn, version, started_ms, updated_ms, expires_ms, sweep_ms)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$16)
		ON CONFLICT (account_id, region, bot_name, bot_alias, user_id) DO UPDATE SET session_id=excluded.session_id, bot_version=excluded.bot_version,
			model_id=excluded.model_id, state=excluded.state, turn=excluded.turn, version=excluded.version, started_ms=excluded.started_ms,
			updated_ms=excluded.updated_ms, expires_ms=excluded.expires_ms, sweep_ms=excluded.sweep_ms
		WHERE lex_sessions.version = $15`
	// continueQuery writes a turn of the session prev holds: it must
	// still be there (a session deleted meanwhile is not re-created).
	continueQuery = `UPDATE lex_sessions SET session_id=$6, bot_version=$7, model_id=$8, state=$9, turn=$10, version=$11, started_ms=$12, updated_ms=$13, expires_ms=$14
		WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_alias=$4 AND user_id=$5 AND version=$15`
	// continueSweepQuery is continueQuery for a turn whose expiry passes
	// the row's sweep_ms. Most turns do not set it at all, so that the
	// sweeper's index is not rewritten with every turn.
	continueSweepQuery = `UPDATE lex_sessions SET session_id=$6, bot_version=$7, model_id=$8, state=$9, turn=$10, version=$11, started_ms=$12, updated_ms=$13, expires_ms=$14, sweep_ms=$16
		WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_alias=$4 AND user_id=$5 AND version=$15`
	deleteQuery = `DELETE FROM lex_sessions WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_alias=$4 AND user_id=$5 AND version=$6`
)

// statements are the per-turn statements into lexmodels' tables.
type statements struct {
	models *lexmodels.RuntimeStatements
}

func prepare(ctx context.Context, db *store.DB) (*statements, error) {
	return &statements{models: &lexmodels.RuntimeStatements{}}, nil
}

// loadSession reads a session row (expired or not); Turn is -1 when
// there is none.
func (st *statements) loadSession(ctx context.Context, tx *store.Tx, k sessionKey) (*session, error) {
	s := &session{Turn: -1}
	var state string
	var started, expires int64
	err := tx.QueryRow(ctx, loadQuery, k.acct, k.region, k.bot, k.alias, k.user).Scan(&s.ID, &s.BotVersion, &s.ModelID, &state, &s.Turn, &s.Version, &started, &expires, &s.Sweep)
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

// newVersion is a random non-zero row version.
func newVersion() int64 {
	var b [8]byte
	rand.Read(b[:])
	v := int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	if v == 0 {
		v = 1
	}
	return v
}

// saveSession writes s as turn prev.Turn+1 if the row still has prev's
// version (prev.Turn -1: there must be no row; cont: s continues prev's
// session, which must still exist): it reports false when another request
// committed first. On success s.Turn and s.Version are the row's new ones.
func (st *statements) saveSession(ctx context.Context, tx *store.Tx, k sessionKey, s *session, prev *session, cont bool, now time.Time) (bool, error) {
	state := s.doc
	if state == "" {
		var err error
		if state, err = encodeStored(s); err != nil {
			return false, err
		}
	}
	var want any // NULL matches no row
	if prev.Turn >= 0 {
		want = prev.Version
	}
	version := newVersion()
	expires := store.Millis(s.Expires)
	q, sweep := saveQuery, sweepAfter(expires)
	if cont && prev.Turn >= 0 {
		q = continueSweepQuery
		if prev.Sweep >= expires {
			q, sweep = continueQuery, prev.Sweep
		}
	}
	args := []any{k.acct, k.region, k.bot, k.alias, k.user, s.ID, s.BotVersion, s.ModelID, state, prev.Turn + 1, version,
		store.Millis(s.Started), store.Millis(now), expires, want, sweep}
	if q == continueQuery {
		args = args[:15] // no $16 (PostgreSQL counts the arguments)
	}
	res, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if n == 1 {
		s.Turn, s.Version, s.Sweep = prev.Turn+1, version, sweep
	}
	return n == 1, err
}

// sweepGrain is what sweep_ms rounds expiry deadlines up to.
const sweepGrain = time.Minute

// sweepAfter is expires (epoch ms) rounded up to sweepGrain.
func sweepAfter(expires int64) int64 {
	g := sweepGrain.Milliseconds()
	return (expires + g - 1) / g * g
}

// deleteSessionRow removes the row if it still has prev's version.
func (st *statements) deleteSessionRow(ctx context.Context, tx *store.Tx, k sessionKey, prev *session) (bool, error) {
	res, err := tx.Exec(ctx, deleteQuery, k.acct, k.region, k.bot, k.alias, k.user, prev.Version)
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

// SweepOnce deletes the sessions expired at the service clock's now
// whose sweep deadline (expiry rounded up to the minute) has passed too,
// and returns how many. It deletes sweepChunk rows per transaction, so
// that on SQLite, where turns commit through the one writer, a sweep of
// many expired sessions never holds the writer for long.
func (w *Sweeper) SweepOnce(ctx context.Context) (int64, error) {
	var total int64
	now := store.Millis(w.s.cfg.Now())
	for {
		var n int64
		err := w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
			res, err := tx.Exec(ctx, sweepQuery, now, sweepChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += n
		if err != nil || n < sweepChunk {
			return total, err
		}
	}
}

// sweepChunk is how many expired sessions one sweep transaction deletes.
const sweepChunk = 500

const sweepQuery = `DELETE FROM lex_sessions WHERE (account_id, region, bot_name, bot_alias, user_id) IN (
	SELECT account_id, region, bot_name, bot_alias, user_id FROM lex_sessions WHERE sweep_ms <= $1 AND expires_ms <= $1 LIMIT $2)`
