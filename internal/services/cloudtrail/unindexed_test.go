package cloudtrail_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"lextrail/internal/audit"
	"lextrail/internal/server"
	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
	"lextrail/internal/testenv"
)

// indexState is the lookup index's end and the event counter.
func indexState(t *testing.T, db *store.DB) (upto, counter int64) {
	t.Helper()
	err := db.Read(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT upto FROM audit_index_state WHERE id = 1`).Scan(&upto); err != nil {
			return err
		}
		var err error
		counter, err = audit.Horizon(ctx, tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return upto, counter
}

// TestLookupFindsUnindexedEvents: with the Recorder's indexer held off (an
// hour's IndexDelay and IndexPoll), every call's event is found through
// the SDK's LookupEvents right after the call returned, by each of the
// eight lookup attributes (ResourceName both by ARN and by short name),
// although no event has a single index entry: lookups read the unindexed
// tail. The calls cover the three ways an event is written: in a mutating
// call's transaction (CreateUser, PutSlotType), through the group
// committer (GetCallerIdentity, read-only) and as a failure (GetUser of a
// missing user). Then the index is filled and every lookup must return
// exactly the same events through it. SQLite and PostgreSQL.
func TestLookupFindsUnindexedEvents(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			opts := testenv.Options{Configure: func(c *server.Config) {
				c.Audit = func(a *audit.Config) { a.IndexDelay, a.IndexPoll = time.Hour, time.Hour }
			}}
			if driver == "postgres" {
				opts.DatabaseURL = pgtest.Start(t)
			}
			e := testenv.New(t, opts)
			db := e.Server.DB
			upto0, _ := indexState(t, db)
			ct, _, lx := clients(e)
			im := iam.NewFromConfig(e.Config())

			// ana gets an access key of her own, so that Username and
			// AccessKeyId tell her events from root's.
			if _, err := im.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ana")}); err != nil {
				t.Fatal(err)
			}
			k, err := im.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ana")})
			if err != nil {
				t.Fatal(err)
			}
			ana := aws.Credentials{AccessKeyID: *k.AccessKey.AccessKeyId, SecretAccessKey: *k.AccessKey.SecretAccessKey}
			stAna := sts.NewFromConfig(e.Config(ana))

			meta := func(md middleware.Metadata) string {
				id, _ := awsmiddleware.GetRequestIDMetadata(md)
				return id
			}
			calls := []struct {
				name string
				call func() string // returns the request ID
			}{
				{"CreateUser", func() string {
					out, err := im.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bruno")})
					if err != nil {
						t.Fatal(err)
					}
					return meta(out.ResultMetadata)
				}},
				{"GetCallerIdentity", func() string {
					out, err := stAna.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
					if err != nil {
						t.Fatal(err)
					}
					return meta(out.ResultMetadata)
				}},
				{"PutSlotType", func() string {
					putSlotType(t, lx, "Roses")
					// putSlotType keeps no metadata: the newest PutSlotType.
					all := lookupAll(t, ct, &cloudtrail.LookupEventsInput{LookupAttributes: attr(types.LookupAttributeKeyEventName, "PutSlotType"), MaxResults: aws.Int32(1)})
					if len(all) == 0 {
						t.Fatal("PutSlotType not found by EventName right after the call")
					}
					return recordOf(t, all[0]).RequestID
				}},
				{"GetUser", func() string {
					_, err := im.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
					if errorCode(err) != "NoSuchEntity" {
						t.Fatalf("GetUser of a missing user: %v", err)
					}
					return requestID(t, err)
				}},
			}
			type lookup struct {
				key   types.LookupAttributeKey
				value string
			}
			// results[lookup] = the request IDs found (LookupEvents' own
			// events left out), for the comparison with the index below.
			results := map[lookup][]string{}
			find := func(l lookup) []string {
				var ids []string
				for _, ev := range lookupAll(t, ct, &cloudtrail.LookupEventsInput{LookupAttributes: attr(l.key, l.value)}) {
					if *ev.EventName != "LookupEvents" {
						ids = append(ids, recordOf(t, ev).RequestID)
					}
				}
				return ids
			}
			checked := map[types.LookupAttributeKey]bool{}
			for _, c := range calls {
				req := c.call()
				// The event, by the unfiltered lookup.
				var ev *types.Event
				for _, x := range lookupAll(t, ct, &cloudtrail.LookupEventsInput{}) {
					if recordOf(t, x).RequestID == req {
						ev = &x
						break
					}
				}
				if ev == nil {
					t.Fatalf("%s (request %s): not found by an unfiltered lookup right after the call", c.name, req)
				}
				rec := recordOf(t, *ev)
				ls := []lookup{
					{types.LookupAttributeKeyEventId, *ev.EventId},
					{types.LookupAttributeKeyEventName, *ev.EventName},
					{types.LookupAttributeKeyReadOnly, *ev.ReadOnly},
					{types.LookupAttributeKeyUsername, *ev.Username},
					{types.LookupAttributeKeyEventSource, *ev.EventSource},
					{types.LookupAttributeKeyAccessKeyId, *ev.AccessKeyId},
				}
				for _, r := range rec.Resources {
					ls = append(ls, lookup{types.LookupAttributeKeyResourceType, r.Type},
						lookup{types.LookupAttributeKeyResourceName, r.ARN}, lookup{types.LookupAttributeKeyResourceName, audit.ResourceName(r.ARN)})
				}
				for _, l := range ls {
					ids := find(l)
					if !slices.Contains(ids, req) {
						t.Errorf("%s (request %s): not found by %s=%s right after the call (found %v)", c.name, req, l.key, l.value, ids)
					}
					results[l] = ids
					checked[l.key] = true
				}
				if upto, counter := indexState(t, db); upto != upto0 || counter <= upto {
					t.Fatalf("after %s: index upto %d (was %d), counter %d: the indexer ran", c.name, upto, upto0, counter)
				}
			}
			for _, key := range types.LookupAttributeKey("").Values() {
				if !checked[key] {
					t.Errorf("attribute %s never looked up", key)
				}
			}
			// The calls' own attribute values, as CloudTrail shows them.
			for l, want := range map[lookup]int{
				{types.LookupAttributeKeyUsername, "ana"}:                                             1, // her GetCallerIdentity
				{types.LookupAttributeKeyAccessKeyId, ana.AccessKeyID}:                                1,
				{types.LookupAttributeKeyResourceType, "AWS::IAM::User"}:                              4, // ana, her key, bruno, nobody
				{types.LookupAttributeKeyResourceName, "bruno"}:                                       1,
				{types.LookupAttributeKeyResourceName, "arn:aws:iam::" + e.AccountID + ":user/bruno"}: 1,
				{types.LookupAttributeKeyResourceName, "Roses"}:                                       1,
				{types.LookupAttributeKeyEventSource, "sts.amazonaws.com"}:                            1,
				{types.LookupAttributeKeyReadOnly, "false"}:                                           4, // CreateUser x2, CreateAccessKey, PutSlotType
				{types.LookupAttributeKeyEventName, "GetUser"}:                                        1,
			} {
				if got := len(results[l]); got != want {
					t.Errorf("%s=%s: %d events %v, want %d", l.key, l.value, got, results[l], want)
				}
			}

			// Now through the index: the same events for every lookup.
			if err := db.Write(ctx, func(tx *store.Tx) error { _, err := audit.IndexPending(ctx, db, tx, 0); return err }); err != nil {
				t.Fatal(err)
			}
			if upto, counter := indexState(t, db); upto != counter {
				t.Fatalf("after indexing: upto %d, counter %d", upto, counter)
			}
			for l, want := range results {
				if got := find(l); !slices.Equal(got, want) {
					t.Errorf("%s=%s: through the index %v, from the tail %v", l.key, l.value, got, want)
				}
			}
		})
	}
}

type lookedUpRecord struct {
	RequestID string `json:"requestID"`
	Resources []struct {
		ARN  string `json:"ARN"`
		Type string `json:"type"`
	} `json:"resources"`
}

func recordOf(t *testing.T, ev types.Event) lookedUpRecord {
	t.Helper()
	var r lookedUpRecord
	if err := json.Unmarshal([]byte(*ev.CloudTrailEvent), &r); err != nil {
		t.Fatal(err)
	}
	return r
}
