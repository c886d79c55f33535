package convlogs_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"lextrail/internal/convlogs"
	"lextrail/internal/objstore/localdir"
	"lextrail/internal/store"
)

// metric reads one series of a node's /metrics (0 when absent).
func (n *node) metric(t testing.TB, name, labels string) float64 {
	t.Helper()
	resp, err := n.HTTP.Client().Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name+"{"+labels+"}") + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func (c *clients) deleteRolePolicy(role string) {
	c.t.Helper()
	if _, err := c.iam.DeleteRolePolicy(c.ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("conversation-logs")}); err != nil {
		c.t.Fatal(err)
	}
}

// failing waits until both log types of the alias show a failed delivery
// with entries pending.
func (c *clients) failing(bot, alias string, types ...string) []convlogs.DeliveryStatus {
	c.t.Helper()
	var st []convlogs.DeliveryStatus
	c.eventually("failing deliveries of "+bot+"/"+alias, func() (bool, error) {
		var err error
		st, err = c.n.Server.ConvLogs.Status(c.ctx, acct, "us-east-1", bot, alias)
		n := 0
		for _, s := range st {
			for _, typ := range types {
				if s.LogType == typ && s.Failing() && s.Failed > 0 && s.Pending > 0 {
					n++
				}
			}
		}
		return n == len(types), err
	})
	return st
}

// TestDeliveryOutage: the role loses its permission to write, so the log
// group and the bucket refuse the Lex service for a while: the
// conversation goes on unaffected, the failure shows in Status, /metrics
// and the log, lextrail restarts in between, and once the permission is
// back every turn's text and audio arrive, none lost or doubled.
func TestDeliveryOutage(t *testing.T) { eachDriver(t, testOutage) }

func testOutage(t *testing.T, db string) {
	cl := newCluster(t, db)
	n1 := cl.node()
	c := n1.clients(t)
	key := c.dests("lex-text", "lex-audio")
	c.deploy(flowersBot("OrderFlowers"))
	c.mustAlias("OrderFlowers", "prod", "1", logsConfig(roleARN("LexConvLogs"), "lex-text", "lex-audio", key))

	before := c.converse("OrderFlowers", "prod", []spoken{{user: "user-1", text: "i would like to order flowers"}, {user: "user-2", text: "i want to order lilies", speech: true}})
	c.waitEvents("lex-text", 2)
	c.drained("OrderFlowers", "prod")

	c.deleteRolePolicy("LexConvLogs")
	outage := c.converse("OrderFlowers", "prod", []spoken{
		{user: "user-1", text: "roses"},
		{user: "user-2", text: "tuesday", speech: true},
		{user: "user-1", text: "tuesday"},
	})
	for _, tr := range outage {
		if tr.state != "ElicitSlot" {
			t.Errorf("%q during the outage: dialogState %q", tr.text, tr.state)
		}
	}
	st := c.failing("OrderFlowers", "prod", convlogs.TypeText, convlogs.TypeAudio)
	for _, s := range st {
		// CloudWatch Logs names the principal; S3 says "Access Denied"
		if !strings.Contains(s.LastError, "AccessDenied") || s.LogType == convlogs.TypeText && !strings.Contains(s.LastError, "assumed-role/LexConvLogs/lex-conversation-logs") {
			t.Errorf("%s status: last error %q", s.LogType, s.LastError)
		}
	}
	if v := n1.metric(t, "lextrail_convlogs_delivery_failures_total", `reason="access_denied",type="text"`); v < 1 {
		t.Errorf("text failures in /metrics: %v", v)
	}
	if v := n1.metric(t, "lextrail_convlogs_delivery_failures_total", `reason="access_denied",type="audio"`); v < 1 {
		t.Errorf("audio failures in /metrics: %v", v)
	}
	if !strings.Contains(cl.logs.String(), "conversation logs: delivery failed; will retry") {
		t.Errorf("no log line for the failure")
	}
	if evs := c.events("lex-text"); len(evs) != 2 {
		t.Errorf("%d events during the outage", len(evs))
	}

	// restart, and talk more while the permission is still missing
	n1.stop()
	n2 := cl.node()
	c2 := n2.clients(t)
	after := c2.converse("OrderFlowers", "prod", []spoken{
		{user: "user-1", text: "10:00 a.m."},
		{user: "user-3", text: "i want to order tulips", speech: true},
	})
	for _, tr := range after {
		if tr.state == "" || tr.state == "Failed" {
			t.Errorf("%q after the restart: dialogState %q", tr.text, tr.state)
		}
	}
	c2.failing("OrderFlowers", "prod", convlogs.TypeText, convlogs.TypeAudio)

	// the permission is back; the backoff runs out
	c2.putRolePolicy("LexConvLogs", writerPolicy("lex-text", "lex-audio", key))
	cl.clock.Advance(10 * time.Minute)
	n2.Server.ConvLogs.Wake()
	all := append(append(append([]spoken{}, before...), outage...), after...)
	c2.waitEvents("lex-text", len(all))
	st = c2.drained("OrderFlowers", "prod")
	text, audio := c2.loggedTurns("lex-text", "lex-audio")
	var spokenTurns []spoken
	for _, tr := range all {
		if tr.speech {
			spokenTurns = append(spokenTurns, tr)
		}
	}
	if !sameIDs(text, ids(all...)) {
		t.Errorf("text logs %v, want each of %v once", text, ids(all...))
	}
	if !sameIDs(audio, ids(spokenTurns...)) {
		t.Errorf("audio logs %v, want each of %v once", audio, ids(spokenTurns...))
	}
	for _, s := range st {
		want := int64(len(all))
		if s.LogType == convlogs.TypeAudio {
			want = int64(len(spokenTurns))
		}
		if s.Failing() || s.Delivered != want || s.Dropped != 0 || s.Pending != 0 {
			t.Errorf("status after recovery: %+v", s)
		}
	}
	if v := n2.metric(t, "lextrail_convlogs_delivered_total", `type="text"`); v != float64(len(all)-2) {
		t.Errorf("text delivered by the restarted process: %v, want %d", v, len(all)-2)
	}
}

// TestLeaseTakeover: rows a dead process had claimed are delivered by
// another once their lease has run out, not before, and once.
func TestLeaseTakeover(t *testing.T) { eachDriver(t, testLeaseTakeover) }

func testLeaseTakeover(t *testing.T, db string) {
	cl := newCluster(t, db)
	n := cl.node()
	c := n.clients(t)
	key := c.dests("lex-text", "lex-audio")
	c.deploy(flowersBot("OrderFlowers"))
	c.mustAlias("OrderFlowers", "prod", "1", logsConfig(roleARN("LexConvLogs"), "lex-text", "lex-audio", key))
	c.deleteRolePolicy("LexConvLogs")
	turns := c.converse("OrderFlowers", "prod", []spoken{{user: "user-1", text: "order flowers"}, {user: "user-1", text: "roses", speech: true}})
	c.failing("OrderFlowers", "prod", convlogs.TypeText, convlogs.TypeAudio)

	// a process that died holding the rows
	now := cl.clock.Now()
	err := n.Server.DB.Write(c.ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(c.ctx, `UPDATE convlogs_queue SET lease_owner = 'dead-process', lease_until_ms = $1, next_ms = $2`,
			store.Millis(now.Add(time.Minute)), store.Millis(now))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c.putRolePolicy("LexConvLogs", writerPolicy("lex-text", "lex-audio", key))
	cl.clock.Advance(30 * time.Second) // past the backoff, not the lease
	for i := 0; i < 20; i++ {
		n.Server.ConvLogs.Wake()
		time.Sleep(10 * time.Millisecond)
	}
	if evs := c.events("lex-text"); len(evs) != 0 {
		t.Fatalf("%d events delivered while another process held them", len(evs))
	}
	cl.clock.Advance(31 * time.Second)
	n.Server.ConvLogs.Wake()
	c.waitEvents("lex-text", 2)
	c.drained("OrderFlowers", "prod")
	text, audio := c.loggedTurns("lex-text", "lex-audio")
	if !sameIDs(text, ids(turns...)) || !sameIDs(audio, ids(turns[1])) {
		t.Errorf("text %v audio %v, want %v and %v", text, audio, ids(turns...), ids(turns[1]))
	}
}

// TestSeveralProcesses: two lextrail processes on one database, each with
// its delivery worker, take turns; every turn is logged once.
func TestSeveralProcesses(t *testing.T) { eachDriver(t, testSeveralProcesses) }

func testSeveralProcesses(t *testing.T, db string) {
	cl := newCluster(t, db)
	// processes sharing a database share an object store too (here one
	// localdir store without SSE-KMS, so the audio is not encrypted)
	objects, err := localdir.Open(localdir.Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cl.objects = objects
	n1 := cl.node()
	c1 := n1.clients(t)
	c1.dests("lex-text", "lex-audio")
	c1.deploy(flowersBot("OrderFlowers"))
	c1.mustAlias("OrderFlowers", "prod", "1", logsConfig(roleARN("LexConvLogs"), "lex-text", "lex-audio", ""))
	n2 := cl.node()
	c2 := n2.clients(t)
	var all, audio []spoken
	for i := 0; i < 12; i++ {
		c := c1
		if i%2 == 1 {
			c = c2
		}
		user := fmt.Sprintf("user-%d", i%4)
		tr := c.converse("OrderFlowers", "prod", []spoken{{user: user, text: []string{"order flowers", "roses", "tuesday"}[i/4], speech: i%3 == 0}})[0]
		all = append(all, tr)
		if tr.speech {
			audio = append(audio, tr)
		}
	}
	c1.waitEvents("lex-text", len(all))
	c1.drained("OrderFlowers", "prod")
	text, objs := c1.loggedTurns("lex-text", "lex-audio")
	if !sameIDs(text, ids(all...)) || !sameIDs(objs, ids(audio...)) {
		t.Errorf("text %v audio %v, want %v and %v", text, objs, ids(all...), ids(audio...))
	}
	d1 := n1.metric(t, "lextrail_convlogs_delivered_total", `type="text"`)
	d2 := n2.metric(t, "lextrail_convlogs_delivered_total", `type="text"`)
	if d1+d2 != float64(len(all)) {
		t.Errorf("delivered %v + %v, want %d", d1, d2, len(all))
	}
}
