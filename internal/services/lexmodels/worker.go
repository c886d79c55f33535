package lexmodels

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/services/lexmodels/build"
	"lextrail/internal/store"
)

// Worker runs bot builds and imports in the background. Work is queued in
// the database (bots with status BUILDING, imports IN_PROGRESS) and
// claimed with a lease, so several lextrail nodes sharing one database
// never build the same thing twice, and a node that dies mid-build has its
// work taken over when the lease runs out.
type Worker struct {
	s  *Service
	id string
}

// Worker returns the service's background worker (register it with
// server.AddWorker).
func (s *Service) Worker() *Worker { return &Worker{s: s, id: "lexbuild-" + uuid.NewString()} }

// Run processes work until ctx is cancelled.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.s.cfg.PollInterval)
	defer t.Stop()
	for {
		if err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.s.log.Error("lex build worker", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.s.wakeCh:
		}
	}
}

// RunOnce does every piece of work that is due now: queued builds,
// READY_BASIC_TESTING promotions and imports.
func (w *Worker) RunOnce(ctx context.Context) error {
	for {
		n, err := w.buildPass(ctx)
		if err != nil {
			return err
		}
		m, err := w.importPass(ctx)
		if err != nil {
			return err
		}
		if err := w.promote(ctx); err != nil {
			return err
		}
		if n == 0 && m == 0 {
			return nil
		}
	}
}

type buildJob struct {
	acct, region, name, version string
	gen                         int64
}

// buildPass claims and runs the builds that are due; it returns how many
// it ran.
func (w *Worker) buildPass(ctx context.Context) (int, error) {
	jobs, err := w.dueBuilds(ctx)
	if err != nil {
		return 0, err
	}
	ran := 0
	for _, j := range jobs {
		claimed, err := w.claimBuild(ctx, j)
		if err != nil {
			return ran, err
		}
		if !claimed {
			continue
		}
		if err := w.runBuild(ctx, j); err != nil {
			return ran, err
		}
		ran++
	}
	return ran, nil
}

// dueBuilds lists bot versions waiting for a build whose lease (if any)
// has run out.
func (w *Worker) dueBuilds(ctx context.Context) ([]buildJob, error) {
	now := store.Millis(w.s.cfg.Now())
	var jobs []buildJob
	err := w.s.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT account_id, region, name, version, build_gen FROM lex_resources
			WHERE status='BUILDING' AND kind='bot' AND (build_owner='' OR build_lease_ms < $1) ORDER BY updated_ms LIMIT 20`, now)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j buildJob
			if err := rows.Scan(&j.acct, &j.region, &j.name, &j.version, &j.gen); err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
		return rows.Err()
	})
	return jobs, err
}

// claimBuild takes the lease on a build: one conditional UPDATE, so of
// several nodes racing for it exactly one wins.
func (w *Worker) claimBuild(ctx context.Context, j buildJob) (bool, error) {
	now := store.Millis(w.s.cfg.Now())
	claimed := false
	err := w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE lex_resources SET build_owner=$1, build_lease_ms=$2
			WHERE account_id=$3 AND region=$4 AND kind='bot' AND name=$5 AND version=$6 AND build_gen=$7 AND status='BUILDING' AND (build_owner='' OR build_lease_ms < $8)`,
			w.id, now+w.s.cfg.Lease.Milliseconds(), j.acct, j.region, j.name, j.version, j.gen, now)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		claimed = n == 1
		return nil
	})
	return claimed, err
}

// runBuild compiles a claimed bot version and records the outcome, unless
// the bot changed meanwhile (its build_gen moved on).
func (w *Worker) runBuild(ctx context.Context, j buildJob) error {
	db := w.s.cfg.DB
	sc := scope{j.acct, j.region}
	var in build.Input
	err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		in, err = loadBuildInput(ctx, tx, sc, j.name, j.version)
		return err
	})
	if err != nil {
		return err
	}
	status, reason := statusBasic, ""
	var model []byte
	var parts map[string][]byte
	m, err := build.Compile(in)
	var be *build.Error
	switch {
	case errors.As(err, &be):
		status, reason = statusFailed, failureReason(be.Reasons)
	case err != nil:
		status, reason = statusFailed, "Internal build error: "+err.Error()
	default:
		var reasons []string
		if parts, reasons = w.s.compileParts(m); len(reasons) > 0 {
			status, reason = statusFailed, failureReason(reasons)
			break
		}
		model, err = json.Marshal(m)
		if err != nil {
			return err
		}
	}
	now := w.s.cfg.Now()
	modelID := ""
	if model != nil {
		sum := sha256.Sum256(model)
		modelID = hex.EncodeToString(sum[:16])
	}
	return db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE lex_resources SET status=$1, failure_reason=$2, build_owner='', build_lease_ms=0, build_ready_ms=$3, model_id=$10
			WHERE account_id=$4 AND region=$5 AND kind='bot' AND name=$6 AND version=$7 AND build_gen=$8 AND build_owner=$9 AND status='BUILDING'`,
			status, reason, store.Millis(now.Add(w.s.cfg.ReadyDelay)), j.acct, j.region, j.name, j.version, j.gen, w.id, modelID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 || model == nil {
			return nil // superseded, or failed: nothing to store
		}
		_, err = tx.Exec(ctx, `INSERT INTO lex_models (account_id, region, bot_name, bot_version, build_gen, model, built_ms, model_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
			ON CONFLICT (account_id, region, bot_name, bot_version) DO UPDATE SET build_gen=excluded.build_gen, model=excluded.model, built_ms=excluded.built_ms, model_id=excluded.model_id`,
			j.acct, j.region, j.name, j.version, j.gen, string(model), store.Millis(now), modelID)
		if err != nil {
			return err
		}
		return storeParts(ctx, tx, j.acct, j.region, j.name, j.version, modelID, parts)
	})
}

// failureReason joins build failure reasons within a readable length.
func failureReason(reasons []string) string {
	const max = 4000
	var b strings.Builder
	for i, r := range reasons {
		if b.Len()+len(r) > max {
			b.WriteString(" (and more)")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r)
	}
	return b.String()
}

// promote turns READY_BASIC_TESTING bots whose delay has passed READY.
func (w *Worker) promote(ctx context.Context) error {
	now := store.Millis(w.s.cfg.Now())
	return w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE lex_resources SET status='READY' WHERE status='READY_BASIC_TESTING' AND kind='bot' AND build_ready_ms <= $1`, now)
		return err
	})
}

// loadBuildInput gathers a bot version and everything it uses.
func loadBuildInput(ctx context.Context, tx *store.Tx, sc scope, bot, version string) (build.Input, error) {
	var in build.Input
	r, err := getResource(ctx, tx, sc, kindBot, bot, version)
	if err != nil {
		return in, err
	}
	if r == nil {
		return in, errors.New("bot vanished")
	}
	in.Bot = build.Resource{Name: bot, Version: version, Def: r.Doc}
	var d BotDef
	if err := json.Unmarshal(r.Doc, &d); err != nil {
		return in, err
	}
	seen := map[ref]bool{}
	for _, ir := range d.Intents {
		ir2, err := getResource(ctx, tx, sc, kindIntent, ir.IntentName, ir.IntentVersion)
		if err != nil {
			return in, err
		}
		res := build.Resource{Name: ir.IntentName, Version: ir.IntentVersion}
		if ir2 == nil {
			in.Intents = append(in.Intents, res)
			continue
		}
		res.Def = ir2.Doc
		in.Intents = append(in.Intents, res)
		var idef IntentDef
		if err := json.Unmarshal(ir2.Doc, &idef); err != nil {
			return in, err
		}
		for _, sl := range idef.Slots {
			if sl.SlotType == nil || strings.HasPrefix(*sl.SlotType, "AMAZON.") || sl.SlotTypeVersion == nil {
				continue
			}
			k := ref{kindSlotType, *sl.SlotType, *sl.SlotTypeVersion}
			if seen[k] {
				continue
			}
			seen[k] = true
			st, err := getResource(ctx, tx, sc, kindSlotType, k.name, k.version)
			if err != nil {
				return in, err
			}
			sr := build.Resource{Name: k.name, Version: k.version}
			if st != nil {
				sr.Def = st.Doc
			}
			in.SlotTypes = append(in.SlotTypes, sr)
		}
	}
	return in, nil
}

// LoadModel returns the compiled model of a bot version, or nil when the
// version has not been built (for the runtime).
func LoadModel(ctx context.Context, tx *store.Tx, accountID, region, bot, version string) (*build.Model, error) {
	var text string
	err := tx.QueryRow(ctx, `SELECT model FROM lex_models WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_version=$4`, accountID, region, bot, version).Scan(&text)
	if err != nil {
		if errors.Is(err, errNoRows) {
			return nil, nil
		}
		return nil, err
	}
	var m build.Model
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, err
	}
	return &m, nil
}
