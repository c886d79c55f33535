package lexmodels_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	"lextrail/internal/services/lexmodels"
)

// TestBuildLifecycle covers SAVE/BUILD, FAILED reasons and the NOT_BUILT
// flip when a $LATEST dependency changes (spec §2.5, §2.3).
func TestBuildLifecycle(t *testing.T) { lexmodels.EachDriver(t, testBuildLifecycle) }

func testBuildLifecycle(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	c, ctx := f.c, f.ctx

	// B2: SAVE reports NOT_BUILT at once.
	saved := must(f.putBot("SavedBot", nil, nil, types.ProcessBehaviorSave)).ok(t)
	if saved.Status != types.StatusNotBuilt || aws.ToString(saved.Version) != "$LATEST" || aws.ToBool(saved.CreateVersion) {
		t.Fatalf("SAVE: %+v", saved)
	}
	if bytes := string(f.lastBody()); strings.Contains(bytes, "processBehavior") {
		t.Fatalf("processBehavior must not be echoed: %s", bytes)
	}
	// B7: no intents fails with a reason.
	must(f.putBot("EmptyBot", nil, nil, types.ProcessBehaviorBuild)).ok(t)
	if b := f.waitBot("EmptyBot", "$LATEST"); b.Status != types.StatusFailed || !strings.Contains(aws.ToString(b.FailureReason), "no intents") {
		t.Fatalf("EmptyBot: %s %q", b.Status, aws.ToString(b.FailureReason))
	}
	_, err := c.CreateBotVersion(ctx, &lm.CreateBotVersionInput{Name: aws.String("EmptyBot")})
	wantCode(t, err, "BadRequestException")

	// An utterance naming a slot the intent lacks.
	must(c.PutIntent(ctx, &lm.PutIntentInput{Name: aws.String("Colorful"), SampleUtterances: []string{"paint it {Color}"},
		FulfillmentActivity: &types.FulfillmentActivity{Type: types.FulfillmentActivityTypeReturnIntent}})).ok(t)
	must(f.putBot("PaintBot", []types.Intent{{IntentName: aws.String("Colorful"), IntentVersion: aws.String("$LATEST")}}, nil, "")).ok(t)
	if b := f.waitBot("PaintBot", "$LATEST"); b.Status != types.StatusFailed || !strings.Contains(aws.ToString(b.FailureReason), "{Color}") {
		t.Fatalf("PaintBot: %s %q", b.Status, aws.ToString(b.FailureReason))
	}
	// An intent without utterances.
	must(c.PutIntent(ctx, &lm.PutIntentInput{Name: aws.String("Mute"), FulfillmentActivity: &types.FulfillmentActivity{Type: types.FulfillmentActivityTypeReturnIntent}})).ok(t)
	must(f.putBot("MuteBot", []types.Intent{{IntentName: aws.String("Mute"), IntentVersion: aws.String("$LATEST")}}, nil, "")).ok(t)
	if b := f.waitBot("MuteBot", "$LATEST"); b.Status != types.StatusFailed || !strings.Contains(aws.ToString(b.FailureReason), "no sample utterances") {
		t.Fatalf("MuteBot: %s %q", b.Status, aws.ToString(b.FailureReason))
	}

	// A bot on $LATEST intents goes NOT_BUILT when the intent changes, and
	// when a slot type that intent uses through $LATEST changes.
	st := f.flowerTypes("FlowerTypes")
	in := must(f.orderIntent("OrderFlowers", "FlowerTypes", "$LATEST", nil)).ok(t)
	b := must(f.putBot("LiveBot", []types.Intent{{IntentName: aws.String("OrderFlowers"), IntentVersion: aws.String("$LATEST")}}, nil, "")).ok(t)
	if b.Status != types.StatusBuilding {
		t.Fatalf("BUILD: %s", b.Status)
	}
	if got := f.waitBot("LiveBot", "$LATEST"); got.Status != types.StatusReady {
		t.Fatalf("LiveBot: %s %q", got.Status, aws.ToString(got.FailureReason))
	}
	must(f.orderIntent("OrderFlowers", "FlowerTypes", "$LATEST", in.Checksum)).ok(t) // unchanged content
	if got := f.waitBot("LiveBot", "$LATEST"); got.Status != types.StatusReady {
		t.Fatalf("an unchanged intent un-built the bot: %s", got.Status)
	}
	must(c.PutSlotType(ctx, &lm.PutSlotTypeInput{Name: aws.String("FlowerTypes"), Checksum: st.Checksum,
		EnumerationValues: []types.EnumerationValue{{Value: aws.String("daisies")}}})).ok(t)
	if got := f.waitBot("LiveBot", "$LATEST"); got.Status != types.StatusNotBuilt {
		t.Fatalf("slot type change: bot %s, want NOT_BUILT", got.Status)
	}
	// Rebuild with PutBot, then change the intent.
	lb := must(c.GetBot(ctx, &lm.GetBotInput{Name: aws.String("LiveBot"), VersionOrAlias: aws.String("$LATEST")})).ok(t)
	must(f.putBot("LiveBot", lb.Intents, lb.Checksum, "")).ok(t)
	if got := f.waitBot("LiveBot", "$LATEST"); got.Status != types.StatusReady {
		t.Fatalf("rebuild: %s", got.Status)
	}
	cur := must(c.GetIntent(ctx, &lm.GetIntentInput{Name: aws.String("OrderFlowers"), Version: aws.String("$LATEST")})).ok(t)
	must(c.PutIntent(ctx, &lm.PutIntentInput{Name: aws.String("OrderFlowers"), Checksum: cur.Checksum, SampleUtterances: []string{"flowers now"},
		FulfillmentActivity: &types.FulfillmentActivity{Type: types.FulfillmentActivityTypeReturnIntent}})).ok(t)
	if got := f.waitBot("LiveBot", "$LATEST"); got.Status != types.StatusNotBuilt {
		t.Fatalf("intent change: bot %s, want NOT_BUILT", got.Status)
	}
	// A bot on a numbered intent version is not affected.
	f2 := newFixture(t, drv)
	f2.orderFlowers("PinnedBot")
	c, f = f2.c, f2
	cur = must(c.GetIntent(ctx, &lm.GetIntentInput{Name: aws.String("OrderFlowers"), Version: aws.String("$LATEST")})).ok(t)
	must(c.PutIntent(ctx, &lm.PutIntentInput{Name: aws.String("OrderFlowers"), Checksum: cur.Checksum, SampleUtterances: []string{"flowers later"},
		FulfillmentActivity: &types.FulfillmentActivity{Type: types.FulfillmentActivityTypeReturnIntent}})).ok(t)
	if got := f.waitBot("PinnedBot", "$LATEST"); got.Status != types.StatusReady {
		t.Fatalf("pinned bot: %s", got.Status)
	}
}
