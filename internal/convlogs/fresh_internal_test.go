package convlogs

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"lextrail/internal/identity"
	"lextrail/internal/services/lexruntime"
	"lextrail/internal/services/logs"
	"lextrail/internal/services/sts"
	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
)

// fakeSessions assumes every role.
type fakeSessions struct{}

func (fakeSessions) AssumeRoleAsService(ctx context.Context, in sts.ServiceAssumeInput) (*identity.Principal, error) {
	return &identity.Principal{AccountID: in.SourceAccount, InvokedBy: LexService,
		Session: &identity.Session{Expiration: time.Now().Add(time.Hour)}}, nil
}

// fakeLogs records the messages appended by committed transactions.
type fakeLogs struct {
	mu   sync.Mutex
	msgs []string
}

func (f *fakeLogs) GroupExists(ctx context.Context, tx *store.Tx, accountID, region, name string) (bool, error) {
	return true, nil
}

func (f *fakeLogs) Append(ctx context.Context, in logs.AppendInput) (*logs.AppendOutput, error) {
	var msgs []string
	for _, e := range in.Events {
		msgs = append(msgs, e.Message)
	}
	in.Tx.AfterCommit(func() {
		f.mu.Lock()
		f.msgs = append(f.msgs, msgs...)
		f.mu.Unlock()
	})
	return &logs.AppendOutput{Accepted: len(in.Events)}, nil
}

func (f *fakeLogs) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.msgs {
		i := strings.Index(m, `"requestId":"`)
		out = append(out, strings.SplitN(m[i+len(`"requestId":"`):], `"`, 2)[0])
	}
	sort.Strings(out)
	return out
}

// TestDeliverFresh: a process delivers the text rows it queued from memory
// (their bodies in the queue are not read: here they are made unreadable);
// another process's rows between them are left alone, rows not in memory
// are read from the queue every PollInterval, and every document is
// appended exactly once; on SQLite, where a seq is reused once its row is
// gone, a reused seq is told apart by the row's id.
func TestDeliverFresh(t *testing.T) {
	ctx := context.Background()
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			url := "sqlite://" + filepath.Join(t.TempDir(), "q.db")
			if driver == "postgres" {
				url = pgtest.Start(t)
			}
			db, err := store.Open(ctx, store.Config{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			now := time.Date(2026, 5, 1, 10, 0, 5, 0, time.UTC)
			fl := &fakeLogs{}
			proc := func() (*Service, *Worker) {
				s, err := New(ctx, Config{DB: db, Now: func() time.Time { return now }})
				if err != nil {
					t.Fatal(err)
				}
				s.Bind(Deps{Sessions: fakeSessions{}, Logs: fl})
				return s, s.Worker()
			}
			a, wa := proc()
			b, wb := proc()
			n := 0
			commit := func(s *Service, k int) []string {
				var ws []lexruntime.TurnWrite
				var ids []string
				for i := 0; i < k; i++ {
					n++
					tr := turn()
					tr.RequestID = fmt.Sprintf("req-%02d", n)
					ids = append(ids, tr.RequestID)
					ws = append(ws, s.PrepareTurn(tr))
				}
				if err := db.Write(ctx, func(tx *store.Tx) error { return s.WriteTurns(ctx, tx, ws) }); err != nil {
					t.Fatal(err)
				}
				return ids
			}
			run := func(w *Worker) Pass {
				p, err := w.RunOnce(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			queued := func() int {
				var c int
				db.Read(ctx, func(tx *store.Tx) error {
					return tx.QueryRow(ctx, `SELECT COUNT(*) FROM convlogs_queue`).Scan(&c)
				})
				return c
			}
			var want []string

			// From memory: the queued bodies are unreadable.
			want = append(want, commit(a, 2)...)
			want = append(want, commit(a, 3)...)
			if err := db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE convlogs_queue SET body = '~not a document'`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if p := run(wa); p.Delivered != 5 || p.Failed != 0 || queued() != 0 {
				t.Fatalf("from memory: %+v, %d rows left", p, queued())
			}
			if got := fl.requests(); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("delivered %v, want %v", got, want)
			}

			// Another process's row between this one's (in the range a
			// delivery from memory deletes first): each process delivers
			// its own.
			want = append(want, commit(a, 1)...)
			want = append(want, commit(b, 2)...)
			want = append(want, commit(a, 1)...)
			if p := run(wa); p.Delivered != 2 || queued() != 1 {
				t.Fatalf("interleaved: %+v, %d rows left", p, queued())
			}
			if p := run(wb); p.Delivered != 2 || queued() != 0 {
				t.Fatalf("the other process: %+v, %d rows left", p, queued())
			}
			// Rows not in memory (another process's) are read from the
			// queue every PollInterval.
			want = append(want, commit(b, 1)...)
			b.takeFresh()
			if p := run(wa); p.Delivered != 0 || queued() != 1 {
				t.Fatalf("read the queue before PollInterval: %+v", p)
			}
			now = now.Add(time.Second)
			if p := run(wa); p.Delivered != 1 || queued() != 0 {
				t.Fatalf("queue path: %+v, %d rows left", p, queued())
			}

			// A row delivered by another process, then its seq reused.
			want = append(want, commit(a, 1)...)
			var first int64
			if f := a.fresh; len(f) != 1 {
				t.Fatalf("%d rows in memory", len(f))
			} else {
				first = f[0].seq
			}
			now = now.Add(time.Second)
			if p := run(wb); p.Delivered != 1 || queued() != 0 {
				t.Fatalf("other process: %+v", p)
			}
			want = append(want, commit(a, 2)...)
			if driver == "sqlite" && a.fresh[1].seq != first {
				t.Fatalf("seq %d not reused (first %d)", a.fresh[1].seq, first)
			}
			if p := run(wa); p.Delivered != 2 || queued() != 0 {
				t.Fatalf("reused seq: %+v, %d rows left", p, queued())
			}
			sort.Strings(want)
			if got := fl.requests(); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("delivered %v,\nwant %v", got, want)
			}
		})
	}
}
