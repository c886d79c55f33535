package lexmodels_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/services/lexmodels"
	"lextrail/internal/testenv"
)

// recorder keeps the last raw response the SDK received.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	last struct {
		method, path string
		status       int
		header       http.Header
		body         []byte
	}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	r.last.method, r.last.path, r.last.status, r.last.header, r.last.body = req.Method, req.URL.EscapedPath(), resp.StatusCode, resp.Header.Clone(), b
	r.mu.Unlock()
	return resp, nil
}

type fixture struct {
	t   testing.TB
	drv lexmodels.TestDriver
	env *testenv.Env
	c   *lm.Client
	rec *recorder
	ctx context.Context
}

// newFixture starts a server on the driver's database (SQLite when none is
// given).
func newFixture(t testing.TB, d ...lexmodels.TestDriver) *fixture {
	drv := lexmodels.TestDrivers[0]
	if len(d) > 0 {
		drv = d[0]
	}
	env := testenv.New(t, testenv.Options{DatabaseURL: drv.URL(t)})
	cfg := env.Config()
	hc := env.Client()
	rec := &recorder{next: hc.Transport}
	hc.Transport = rec
	cfg.HTTPClient = hc
	return &fixture{t: t, drv: drv, env: env, c: lm.NewFromConfig(cfg), rec: rec, ctx: context.Background()}
}

// status returns the HTTP status of the last call.
func (f *fixture) status() int {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	return f.rec.last.status
}

func (f *fixture) lastBody() []byte {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	return f.rec.last.body
}

// result carries a call's outcome so that must(call(...)).ok(t) reads
// in one line.
type result[T any] struct {
	v   T
	err error
}

func must[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) ok(t testing.TB) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

// code is the AWS error code of err ("" for nil).
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return ""
}

func wantCode(t testing.TB, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Fatalf("error code = %q, want %q (err %v)", got, want, err)
	}
}

func prompt(text string) *types.Prompt {
	return &types.Prompt{MaxAttempts: aws.Int32(2), Messages: []types.Message{{ContentType: types.ContentTypePlainText, Content: aws.String(text)}}}
}

func statement(text string) *types.Statement {
	return &types.Statement{Messages: []types.Message{{ContentType: types.ContentTypePlainText, Content: aws.String(text)}}}
}

// flowerTypes creates the FlowerTypes slot type.
func (f *fixture) flowerTypes(name string) *lm.PutSlotTypeOutput {
	return must(f.c.PutSlotType(f.ctx, &lm.PutSlotTypeInput{Name: aws.String(name), Description: aws.String("Types of flowers"),
		EnumerationValues: []types.EnumerationValue{{Value: aws.String("roses")}, {Value: aws.String("tulips"), Synonyms: []string{"tulip"}}, {Value: aws.String("lilies")}}})).ok(f.t)
}

func (f *fixture) orderIntent(name, slotType, slotTypeVersion string, checksum *string) (*lm.PutIntentOutput, error) {
	return f.c.PutIntent(f.ctx, &lm.PutIntentInput{
		Name: aws.String(name), Checksum: checksum,
		SampleUtterances: []string{"I would like to order {FlowerType}", "I want flowers", "order flowers please"},
		Slots: []types.Slot{{
			Name: aws.String("FlowerType"), SlotConstraint: types.SlotConstraintRequired,
			SlotType: aws.String(slotType), SlotTypeVersion: aws.String(slotTypeVersion), Priority: aws.Int32(1),
			ValueElicitationPrompt: prompt("What type of flowers would you like to order?"),
		}, {
			Name: aws.String("PickupDate"), SlotConstraint: types.SlotConstraintRequired, SlotType: aws.String("AMAZON.DATE"), Priority: aws.Int32(2),
			ValueElicitationPrompt: prompt("What day do you want the {FlowerType} to be picked up?"),
		}},
		ConfirmationPrompt:  prompt("Okay, your {FlowerType} will be ready for pickup on {PickupDate}. Does this sound okay?"),
		RejectionStatement:  statement("Okay, I will not place your order."),
		FulfillmentActivity: &types.FulfillmentActivity{Type: types.FulfillmentActivityTypeReturnIntent},
	})
}

func (f *fixture) putBot(name string, intents []types.Intent, checksum *string, pb types.ProcessBehavior) (*lm.PutBotOutput, error) {
	return f.c.PutBot(f.ctx, &lm.PutBotInput{
		Name: aws.String(name), Locale: types.LocaleEnUs, ChildDirected: aws.Bool(false), Checksum: checksum,
		Intents: intents, ProcessBehavior: pb, VoiceId: aws.String("Salli"),
		ClarificationPrompt: prompt("I didn't understand you, what would you like to do?"),
		AbortStatement:      statement("Sorry, I am not able to assist at this time"),
	})
}

// waitBot polls GetBot until the version's status is not BUILDING or
// READY_BASIC_TESTING.
func (f *fixture) waitBot(name, version string) *lm.GetBotOutput {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := must(f.c.GetBot(f.ctx, &lm.GetBotInput{Name: aws.String(name), VersionOrAlias: aws.String(version)})).ok(f.t)
		if out.Status != types.StatusBuilding && out.Status != types.StatusReadyBasicTesting {
			return out
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("bot %s:%s still %s", name, version, out.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// orderFlowers builds the OrderFlowers example up to a published intent
// version 1 on slot type version 1, and a READY bot on it.
func (f *fixture) orderFlowers(bot string) {
	f.t.Helper()
	f.flowerTypes("FlowerTypes")
	must(f.c.CreateSlotTypeVersion(f.ctx, &lm.CreateSlotTypeVersionInput{Name: aws.String("FlowerTypes")})).ok(f.t)
	must(f.orderIntent("OrderFlowers", "FlowerTypes", "1", nil)).ok(f.t)
	must(f.c.CreateIntentVersion(f.ctx, &lm.CreateIntentVersionInput{Name: aws.String("OrderFlowers")})).ok(f.t)
	must(f.putBot(bot, []types.Intent{{IntentName: aws.String("OrderFlowers"), IntentVersion: aws.String("1")}}, nil, "")).ok(f.t)
	if st := f.waitBot(bot, "$LATEST"); st.Status != types.StatusReady {
		f.t.Fatalf("bot status %s (%s)", st.Status, aws.ToString(st.FailureReason))
	}
}
