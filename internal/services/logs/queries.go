package logs

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/logs/insights"
	"lextrail/internal/store"
)

// Query statuses.
const (
	statusScheduled = "Scheduled"
	statusRunning   = "Running"
	statusComplete  = "Complete"
	statusFailed    = "Failed"
	statusCancelled = "Cancelled"
	statusTimeout   = "Timeout"
)

// StartQueryInput is StartQuery's request.
type StartQueryInput struct {
	LogGroupName        *string  `json:"logGroupName,omitempty"`
	LogGroupNames       []string `json:"logGroupNames,omitempty"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers,omitempty"`
	StartTime           *int64   `json:"startTime,omitempty"` // epoch seconds
	EndTime             *int64   `json:"endTime,omitempty"`   // epoch seconds
	QueryString         *string  `json:"queryString,omitempty"`
	Limit               *int32   `json:"limit,omitempty"`
	QueryLanguage       *string  `json:"queryLanguage,omitempty"`
}

func (in *StartQueryInput) idents() []string {
	var out []string
	if in.LogGroupName != nil {
		out = append(out, *in.LogGroupName)
	}
	out = append(out, in.LogGroupNames...)
	return append(out, in.LogGroupIdentifiers...)
}

// StartQueryOutput is StartQuery's response.
type StartQueryOutput struct {
	QueryId string `json:"queryId"`
}

func queryRes(c *catalog.Call, in any) []catalog.Resource {
	q, ok := in.(*StartQueryInput)
	if !ok {
		return nil
	}
	var res []catalog.Resource
	for _, id := range q.idents() {
		acct, name := resolveIdent(c, id)
		if name != "" {
			res = append(res, catalog.Resource{ARN: GroupARN(c.Region, acct, name) + ":*", AccountID: acct, Type: "AWS::Logs::LogGroup"})
		}
	}
	return res
}

type queryGroup struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func (s *Service) startQuery(ctx context.Context, c *catalog.Call, in *StartQueryInput) (*StartQueryOutput, error) {
	var v validator
	v.required("startTime", in.StartTime != nil)
	v.required("endTime", in.EndTime != nil)
	v.nonNegative("startTime", in.StartTime)
	v.nonNegative("endTime", in.EndTime)
	if v.required("queryString", in.QueryString != nil) {
		v.length("queryString", *in.QueryString, 0, insights.MaxLength)
	}
	v.rangeInt("limit", in.Limit, 1, 10000)
	if in.LogGroupNames != nil && (len(in.LogGroupNames) < 1 || len(in.LogGroupNames) > 50) {
		v.add("list of "+itoa(len(in.LogGroupNames)), "logGroupNames", "Member must have length between 1 and 50")
	}
	if in.LogGroupIdentifiers != nil && (len(in.LogGroupIdentifiers) < 1 || len(in.LogGroupIdentifiers) > 50) {
		v.add("list of "+itoa(len(in.LogGroupIdentifiers)), "logGroupIdentifiers", "Member must have length between 1 and 50")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	given := 0
	for _, b := range []bool{in.LogGroupName != nil, in.LogGroupNames != nil, in.LogGroupIdentifiers != nil} {
		if b {
			given++
		}
	}
	if given != 1 {
		return nil, invalidParam("Specify exactly one of logGroupName, logGroupNames or logGroupIdentifiers (lextrail does not support the SOURCE command).")
	}
	if in.QueryLanguage != nil && *in.QueryLanguage != "CWLI" {
		return nil, invalidParam("Query language %s is not supported by lextrail; use CWLI (Logs Insights).", *in.QueryLanguage)
	}
	if *in.StartTime > *in.EndTime {
		return nil, invalidParam("The end time must be after the start time.")
	}
	if _, err := insights.Parse(*in.QueryString); err != nil {
		var ce *insights.CompileError
		if errors.As(err, &ce) {
			return nil, awserr.New(400, "MalformedQueryException", "%s", ce.Msg).With("queryCompileError", map[string]any{
				"location": map[string]int{"startCharOffset": ce.Start, "endCharOffset": ce.End},
				"message":  ce.Msg,
			})
		}
		return nil, err
	}
	limit := int64(insights.DefaultLimit)
	if in.Limit != nil {
		limit = int64(*in.Limit)
	}
	id := uuid.NewString()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var groups []queryGroup
		for _, ident := range in.idents() {
			g, err := loadGroup(ctx, tx, c, ident)
			if err != nil {
				return err
			}
			groups = append(groups, queryGroup{g.ID, g.Name})
		}
		var n int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM logs_queries WHERE account_id = $1 AND region = $2 AND status IN ('Scheduled', 'Running')`, c.AccountID(), c.Region).Scan(&n); err != nil {
			return err
		}
		if n >= int64(s.cfg.MaxQueriesPerAccount) {
			return awserr.New(400, "LimitExceededException", "Account maximum query concurrency limit of [%d] reached.", s.cfg.MaxQueriesPerAccount)
		}
		gj, _ := json.Marshal(groups)
		_, err := tx.Exec(ctx, `INSERT INTO logs_queries (query_id, account_id, region, query_string, groups, start_ms, end_ms, row_limit, status, created_ms)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			id, c.AccountID(), c.Region, *in.QueryString, string(gj), *in.StartTime*1000, *in.EndTime*1000+999, limit, statusScheduled, store.Millis(c.Now))
		tx.AfterCommit(s.q.poke)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &StartQueryOutput{QueryId: id}, nil
}

// GetQueryResultsInput is GetQueryResults' request.
type GetQueryResultsInput struct {
	QueryId   *string `json:"queryId,omitempty"`
	MaxItems  *int32  `json:"maxItems,omitempty"`
	NextToken *string `json:"nextToken,omitempty"`
}

// GetQueryResultsOutput is GetQueryResults' response.
type GetQueryResultsOutput struct {
	QueryLanguage string              `json:"queryLanguage"`
	Results       [][]insights.Field  `json:"results"`
	Statistics    insights.Statistics `json:"statistics"`
	Status        string              `json:"status"`
	NextToken     string              `json:"nextToken,omitempty"`
}

func (s *Service) getQueryResults(ctx context.Context, c *catalog.Call, in *GetQueryResultsInput) (*GetQueryResultsOutput, error) {
	var v validator
	if v.required("queryId", in.QueryId != nil) {
		v.length("queryId", *in.QueryId, 0, 256)
	}
	v.rangeInt("maxItems", in.MaxItems, 1, 10000)
	if err := v.err(); err != nil {
		return nil, err
	}
	var status, results, stats string
	err := c.Tx.QueryRow(ctx, `SELECT status, results, statistics FROM logs_queries WHERE query_id = $1 AND account_id = $2 AND region = $3`, *in.QueryId, c.AccountID(), c.Region).Scan(&status, &results, &stats)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, awserr.New(400, "ResourceNotFoundException", "Query does not exist.")
	}
	if err != nil {
		return nil, err
	}
	out := &GetQueryResultsOutput{QueryLanguage: "CWLI", Status: status, Results: [][]insights.Field{}}
	if stats != "" {
		if err := json.Unmarshal([]byte(stats), &out.Statistics); err != nil {
			return nil, err
		}
	}
	if results != "" {
		if err := json.Unmarshal([]byte(results), &out.Results); err != nil {
			return nil, err
		}
	}
	max := 10000
	if in.MaxItems != nil {
		max = int(*in.MaxItems)
	}
	from := 0
	hash := paramHash("GetQueryResults", *in.QueryId)
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil || len(b) != 16 || string(b[:8]) != string(hash) {
			return nil, errInvalidToken()
		}
		from = int(binary.BigEndian.Uint64(b[8:]))
	}
	rows := out.Results
	if from > len(rows) {
		from = len(rows)
	}
	rows = rows[from:]
	if len(rows) > max {
		rows = rows[:max]
		tok := binary.BigEndian.AppendUint64(append([]byte(nil), hash...), uint64(from+max))
		out.NextToken = base64.RawURLEncoding.EncodeToString(tok)
	}
	out.Results = rows
	return out, nil
}

// StopQueryInput is StopQuery's request.
type StopQueryInput struct {
	QueryId *string `json:"queryId,omitempty"`
}

// StopQueryOutput is StopQuery's response.
type StopQueryOutput struct {
	Success bool `json:"success"`
}

func (s *Service) stopQuery(ctx context.Context, c *catalog.Call, in *StopQueryInput) (*StopQueryOutput, error) {
	var v validator
	if v.required("queryId", in.QueryId != nil) {
		v.length("queryId", *in.QueryId, 0, 256)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	var status string
	err := c.Tx.QueryRow(ctx, `SELECT status FROM logs_queries WHERE query_id = $1 AND account_id = $2 AND region = $3`, *in.QueryId, c.AccountID(), c.Region).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, awserr.New(400, "ResourceNotFoundException", "Query does not exist.")
	}
	if err != nil {
		return nil, err
	}
	res, err := c.Tx.Exec(ctx, `UPDATE logs_queries SET status = $1, done_ms = $2 WHERE query_id = $3 AND status IN ('Scheduled', 'Running')`, statusCancelled, store.Millis(c.Now), *in.QueryId)
	if err != nil {
		return nil, err
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		id := *in.QueryId
		c.Tx.AfterCommit(func() { s.q.cancel(id) })
	}
	return &StopQueryOutput{Success: n > 0}, nil
}

// ---- the background runner ----

// queryLease is how long a node owns a running query between renewals.
const queryLease = 30 * time.Second

type queryRunner struct {
	s    *Service
	wake chan struct{}

	mu      sync.Mutex
	running map[string]context.CancelFunc
}

func newQueryRunner(s *Service) *queryRunner {
	return &queryRunner{s: s, wake: make(chan struct{}, 1), running: map[string]context.CancelFunc{}}
}

func (qr *queryRunner) poke() {
	select {
	case qr.wake <- struct{}{}:
	default:
	}
}

func (qr *queryRunner) cancel(id string) {
	qr.mu.Lock()
	if f := qr.running[id]; f != nil {
		f()
	}
	qr.mu.Unlock()
}

// QueryWorker runs scheduled Logs Insights queries. Run it for the
// server's lifetime (server.AddWorker).
func (s *Service) QueryWorker() interface{ Run(context.Context) error } { return s.q }

// Run claims and runs queries until ctx ends.
func (qr *queryRunner) Run(ctx context.Context) error {
	s := qr.s
	sem := make(chan struct{}, s.cfg.QueryWorkers)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		// Claim as many as there are free workers.
		for {
			select {
			case sem <- struct{}{}:
			default:
				goto wait
			}
			job, err := qr.claim(ctx)
			if err != nil || job == nil {
				<-sem
				if err != nil && ctx.Err() == nil {
					s.log.Warn("logs: claiming a query", "err", err)
				}
				goto wait
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				qr.execute(ctx, job)
				qr.poke()
			}()
		}
	wait:
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-qr.wake:
		case <-tick.C:
		}
	}
}

type queryJob struct {
	id, account, region, query string
	groups                     []queryGroup
	start, end                 int64
	limit                      int
	created                    int64
}

// claim takes the oldest scheduled query (or one whose owner stopped
// renewing its lease).
func (qr *queryRunner) claim(ctx context.Context) (*queryJob, error) {
	s := qr.s
	now := store.Millis(s.cfg.Now())
	var j queryJob
	var groups string
	var limit int64
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `UPDATE logs_queries SET status = 'Running', lease_owner = $1, lease_until = $2
			WHERE query_id = (SELECT query_id FROM logs_queries WHERE status = 'Scheduled' OR (status = 'Running' AND lease_until < $3) ORDER BY created_ms LIMIT 1)
			AND (status = 'Scheduled' OR (status = 'Running' AND lease_until < $3))
			RETURNING query_id, account_id, region, query_string, groups, start_ms, end_ms, row_limit, created_ms`,
			s.cfg.Node, now+queryLease.Milliseconds(), now).
			Scan(&j.id, &j.account, &j.region, &j.query, &groups, &j.start, &j.end, &limit, &j.created)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	j.limit = int(limit)
	if err := json.Unmarshal([]byte(groups), &j.groups); err != nil {
		return nil, err
	}
	return &j, nil
}

// execute runs a claimed query and records its outcome.
func (qr *queryRunner) execute(parent context.Context, j *queryJob) {
	s := qr.s
	ctx, cancel := context.WithCancel(parent)
	qr.mu.Lock()
	qr.running[j.id] = cancel
	qr.mu.Unlock()
	defer func() {
		qr.mu.Lock()
		delete(qr.running, j.id)
		qr.mu.Unlock()
		cancel()
	}()
	q, err := insights.Parse(j.query)
	if err != nil {
		qr.finish(parent, j, statusFailed, nil)
		return
	}
	x := q.NewExecutor(j.limit)
	lastSave := time.Now()
	status := statusComplete
	err = qr.scanGroups(ctx, j, func(rec *insights.Record) error {
		x.Add(rec)
		return nil
	}, func() error {
		// Between pages: renew the lease, save progress, stop when
		// cancelled (here or by StopQuery on another node) or timed out.
		if time.Since(lastSave) < 2*time.Second {
			return ctx.Err()
		}
		lastSave = time.Now()
		if s.cfg.Now().Sub(store.FromMillis(j.created)) > s.cfg.QueryTimeout {
			status = statusTimeout
			return errStopQuery
		}
		rows, st := x.Result()
		still, err := qr.progress(parent, j, rows, st)
		if err != nil {
			return err
		}
		if !still {
			return errStopQuery
		}
		return ctx.Err()
	})
	switch {
	case errors.Is(err, errStopQuery) && status == statusTimeout:
	case errors.Is(err, errStopQuery), errors.Is(err, context.Canceled) && parent.Err() == nil:
		return // cancelled: StopQuery recorded it
	case parent.Err() != nil:
		return // shutting down: another node (or a restart) takes it over when the lease ends
	case err != nil:
		s.log.Warn("logs: query failed", "query_id", j.id, "err", err)
		status = statusFailed
	}
	rows, st := x.Result()
	qr.finish(parent, j, status, &resultSet{rows, st})
}

var errStopQuery = errors.New("logs: query stopped")

type resultSet struct {
	rows  [][]insights.Field
	stats insights.Statistics
}

// progress saves partial results and renews the lease; it reports false
// when the query is no longer this node's to run.
func (qr *queryRunner) progress(ctx context.Context, j *queryJob, rows [][]insights.Field, st insights.Statistics) (bool, error) {
	s := qr.s
	rj, _ := json.Marshal(rows)
	sj, _ := json.Marshal(st)
	var n int64
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE logs_queries SET results = $1, statistics = $2, lease_until = $3 WHERE query_id = $4 AND status = 'Running' AND lease_owner = $5`,
			string(rj), string(sj), store.Millis(s.cfg.Now())+queryLease.Milliseconds(), j.id, s.cfg.Node)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n > 0, err
}

func (qr *queryRunner) finish(ctx context.Context, j *queryJob, status string, rs *resultSet) {
	s := qr.s
	rj, sj := "[]", "{}"
	if rs != nil {
		b, _ := json.Marshal(rs.rows)
		c, _ := json.Marshal(rs.stats)
		rj, sj = string(b), string(c)
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE logs_queries SET status = $1, results = $2, statistics = $3, done_ms = $4 WHERE query_id = $5 AND status = 'Running' AND lease_owner = $6`,
			status, rj, sj, store.Millis(s.cfg.Now()), j.id, s.cfg.Node)
		return err
	})
	if err != nil && ctx.Err() == nil {
		s.log.Warn("logs: recording a query's result", "query_id", j.id, "err", err)
	}
}

// scanGroups feeds every event of the job's groups in its time range to
// fn, a page of blocks per read transaction; between pages it calls
// between.
func (qr *queryRunner) scanGroups(ctx context.Context, j *queryJob, fn func(*insights.Record) error, between func() error) error {
	s := qr.s
	for _, g := range j.groups {
		logName := j.account + ":" + g.Name
		var cursor *blockMeta
		for {
			if err := between(); err != nil {
				return err
			}
			var page []blockMeta
			done := false
			err := s.db.Scan(ctx, func(tx *store.Tx) error {
				// The group may have been deleted (and its name reused).
				var n int64
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM logs_groups WHERE group_id = $1`, g.ID).Scan(&n); err != nil || n == 0 {
					done = true
					return err
				}
				names := map[int64]string{}
				rows, err := tx.Query(ctx, `SELECT stream_id, name FROM logs_streams WHERE group_id = $1`, g.ID)
				if err != nil {
					return err
				}
				for rows.Next() {
					var id int64
					var name string
					if err := rows.Scan(&id, &name); err != nil {
						rows.Close()
						return err
					}
					names[id] = name
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
				page, err = listBlocks(ctx, tx, g.ID, j.start, j.end, cursor, 64)
				if err != nil {
					return err
				}
				if len(page) < 64 {
					done = true
				}
				var evs []event
				for _, b := range page {
					name, live := names[b.streamID]
					if !live {
						continue
					}
					var data []byte
					if err := tx.QueryRow(ctx, `SELECT data FROM logs_blocks WHERE stream_id = $1 AND first_seq = $2`, b.streamID, b.firstSeq).Scan(&data); err != nil {
						return err
					}
					if b.flags&flagEncrypted != 0 {
						a, err := s.dataKeyFor(ctx, tx, b.dek)
						if err != nil {
							return err
						}
						if data, err = open(a, data, blockAAD(b.streamID, b.firstSeq, 'd')); err != nil {
							return errCorruptBlock
						}
					}
					if b.flags&flagS2 != 0 {
						if data, err = decompressBlock(data); err != nil {
							return err
						}
					}
					if evs, err = decodeBlock(evs, data, b.minTS, b.firstSeq); err != nil {
						return err
					}
					for _, e := range evs {
						if e.ts < j.start || e.ts > j.end {
							continue
						}
						if err := fn(&insights.Record{Timestamp: e.ts, IngestionTime: b.ingest, Message: e.msg, LogStream: name, Log: logName}); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(page) > 0 {
				cursor = &page[len(page)-1]
			}
			if done {
				break
			}
		}
	}
	return nil
}

// listBlocks lists a group's blocks overlapping [lo, hi] after cursor, in
// (min_ts, stream, seq) order.
func listBlocks(ctx context.Context, tx *store.Tx, groupID, lo, hi int64, after *blockMeta, limit int) ([]blockMeta, error) {
	q := `SELECT stream_id, first_seq, min_ts, max_ts, events, raw_bytes, ingest_ms, dek_id, flags FROM logs_blocks
		WHERE group_id = $1 AND min_ts >= $2 AND min_ts <= $3 AND max_ts >= $4`
	args := []any{groupID, sat(lo - maxBatchSpan), hi, lo}
	if after != nil {
		q += ` AND (min_ts > $5 OR (min_ts = $5 AND (stream_id > $6 OR (stream_id = $6 AND first_seq > $7))))`
		args = append(args, after.minTS, after.streamID, after.firstSeq)
	}
	q += fmt.Sprintf(` ORDER BY min_ts, stream_id, first_seq LIMIT %d`, limit)
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []blockMeta
	for rows.Next() {
		var b blockMeta
		if err := rows.Scan(&b.streamID, &b.firstSeq, &b.minTS, &b.maxTS, &b.events, &b.rawBytes, &b.ingest, &b.dek, &b.flags); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
