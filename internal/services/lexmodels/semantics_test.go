package lexmodels_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	"lextrail/internal/services/lexmodels"
)

// TestChecksumTable walks spec §2.3's decision table for every Put*.
func TestChecksumTable(t *testing.T) { lexmodels.EachDriver(t, testChecksumTable) }

func testChecksumTable(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	f.orderFlowers("OrderFlowersBot")
	must(f.c.CreateBotVersion(f.ctx, &lm.CreateBotVersionInput{Name: aws.String("OrderFlowersBot")})).ok(t)
	f.waitBot("OrderFlowersBot", "1")

	type putFn func(name string, checksum *string) (string, error)
	puts := map[string]putFn{
		"PutSlotType": func(name string, ck *string) (string, error) {
			o, err := f.c.PutSlotType(f.ctx, &lm.PutSlotTypeInput{Name: aws.String(name), Checksum: ck, EnumerationValues: []types.EnumerationValue{{Value: aws.String("a")}}})
			if err != nil {
				return "", err
			}
			return aws.ToString(o.Checksum), nil
		},
		"PutIntent": func(name string, ck *string) (string, error) {
			o, err := f.c.PutIntent(f.ctx, &lm.PutIntentInput{Name: aws.String(name), Checksum: ck, SampleUtterances: []string{"hello there"},
				FulfillmentActivity: &types.FulfillmentActivity{Type: types.FulfillmentActivityTypeReturnIntent}})
			if err != nil {
				return "", err
			}
			return aws.ToString(o.Checksum), nil
		},
		"PutBot": func(name string, ck *string) (string, error) {
			o, err := f.putBot(name, nil, ck, types.ProcessBehaviorSave)
			if err != nil {
				return "", err
			}
			return aws.ToString(o.Checksum), nil
		},
		"PutBotAlias": func(name string, ck *string) (string, error) {
			o, err := f.c.PutBotAlias(f.ctx, &lm.PutBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String(name), Checksum: ck, BotVersion: aws.String("1")})
			if err != nil {
				return "", err
			}
			return aws.ToString(o.Checksum), nil
		},
	}
	for op, put := range puts {
		t.Run(op, func(t *testing.T) {
			_, err := put("NewThing", aws.String("abc"))
			wantCode(t, err, "BadRequestException") // checksum on create
			ck1, err := put("Thing", nil)
			if err != nil || ck1 == "" {
				t.Fatalf("create: %q %v", ck1, err)
			}
			_, err = put("Thing", nil)
			wantCode(t, err, "PreconditionFailedException")
			if f.status() != 412 {
				t.Fatalf("status %d", f.status())
			}
			_, err = put("Thing", aws.String("wrong"))
			wantCode(t, err, "PreconditionFailedException")
			ck2, err := put("Thing", &ck1)
			if err != nil || ck2 == ck1 {
				t.Fatalf("update: %q %v", ck2, err)
			}
			_, err = put("Thing", &ck1) // stale
			wantCode(t, err, "PreconditionFailedException")
			_, err = put("thing", nil) // same name, other case
			wantCode(t, err, "BadRequestException")
		})
	}
	// createdDate survives an update; the message is the documented one.
	o1 := f.flowerTypes("Dates")
	o2 := must(f.c.PutSlotType(f.ctx, &lm.PutSlotTypeInput{Name: aws.String("Dates"), Checksum: o1.Checksum, EnumerationValues: []types.EnumerationValue{{Value: aws.String("x")}}})).ok(t)
	if !o2.CreatedDate.Equal(*o1.CreatedDate) || o2.LastUpdatedDate.Before(*o1.LastUpdatedDate) {
		t.Fatalf("dates %v %v / %v %v", o1.CreatedDate, o1.LastUpdatedDate, o2.CreatedDate, o2.LastUpdatedDate)
	}
	_, err := f.orderIntent("OrderFlowers", "FlowerTypes", "1", nil)
	if !strings.Contains(err.Error(), "Intent OrderFlowers already exists. If you are trying to update OrderFlowers you must specify the checksum.") {
		t.Fatalf("message: %v", err)
	}
}

// TestVersions covers numbering, unchanged publish, never-reused numbers
// and the $LATEST dependency rule (spec §2.4).
func TestVersions(t *testing.T) { lexmodels.EachDriver(t, testVersions) }

func testVersions(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	c, ctx := f.c, f.ctx
	st := f.flowerTypes("FlowerTypes")
	create := func() string {
		t.Helper()
		return aws.ToString(must(c.CreateSlotTypeVersion(ctx, &lm.CreateSlotTypeVersionInput{Name: aws.String("FlowerTypes")})).ok(t).Version)
	}
	if v := create(); v != "1" {
		t.Fatalf("first version %s", v)
	}
	if v := create(); v != "1" {
		t.Fatalf("unchanged $LATEST made version %s", v)
	}
	_, err := c.CreateSlotTypeVersion(ctx, &lm.CreateSlotTypeVersionInput{Name: aws.String("FlowerTypes"), Checksum: aws.String("stale")})
	wantCode(t, err, "PreconditionFailedException")
	st2 := must(c.PutSlotType(ctx, &lm.PutSlotTypeInput{Name: aws.String("FlowerTypes"), Checksum: st.Checksum,
		EnumerationValues: []types.EnumerationValue{{Value: aws.String("daisies")}}})).ok(t)
	if v := create(); v != "2" {
		t.Fatalf("changed $LATEST made version %s", v)
	}
	must(c.DeleteSlotTypeVersion(ctx, &lm.DeleteSlotTypeVersionInput{Name: aws.String("FlowerTypes"), Version: aws.String("2")})).ok(t)
	must(c.PutSlotType(ctx, &lm.PutSlotTypeInput{Name: aws.String("FlowerTypes"), Checksum: st2.Checksum,
		EnumerationValues: []types.EnumerationValue{{Value: aws.String("orchids")}}})).ok(t)
	if v := create(); v != "3" {
		t.Fatalf("after deleting 2, next version %s, want 3 (never reused)", v)
	}
	vs := must(c.GetSlotTypeVersions(ctx, &lm.GetSlotTypeVersionsInput{Name: aws.String("FlowerTypes")})).ok(t)
	var got []string
	for _, m := range vs.SlotTypes {
		got = append(got, aws.ToString(m.Version))
	}
	if strings.Join(got, ",") != "$LATEST,1,3" {
		t.Fatalf("versions %v", got)
	}
	_, err = c.DeleteSlotTypeVersion(ctx, &lm.DeleteSlotTypeVersionInput{Name: aws.String("FlowerTypes"), Version: aws.String("$LATEST")})
	wantCode(t, err, "BadRequestException")
	_, err = c.CreateSlotTypeVersion(ctx, &lm.CreateSlotTypeVersionInput{Name: aws.String("Nope")})
	wantCode(t, err, "NotFoundException")

	// An intent on $LATEST slot types cannot be published.
	io := must(f.orderIntent("OrderFlowers", "FlowerTypes", "$LATEST", nil)).ok(t)
	_, err = c.CreateIntentVersion(ctx, &lm.CreateIntentVersionInput{Name: aws.String("OrderFlowers")})
	wantCode(t, err, "BadRequestException")
	if !strings.Contains(err.Error(), "Resource 'OrderFlowers' should refer to immutable versions to create new version") {
		t.Fatalf("message %v", err)
	}
	must(f.orderIntent("OrderFlowers", "FlowerTypes", "1", io.Checksum)).ok(t)
	if v := aws.ToString(must(c.CreateIntentVersion(ctx, &lm.CreateIntentVersionInput{Name: aws.String("OrderFlowers")})).ok(t).Version); v != "1" {
		t.Fatalf("intent version %s", v)
	}
	// A bot on $LATEST intents likewise.
	must(f.putBot("FlowerBot", []types.Intent{{IntentName: aws.String("OrderFlowers"), IntentVersion: aws.String("$LATEST")}}, nil, "")).ok(t)
	f.waitBot("FlowerBot", "$LATEST")
	_, err = c.CreateBotVersion(ctx, &lm.CreateBotVersionInput{Name: aws.String("FlowerBot")})
	wantCode(t, err, "BadRequestException")

	// createVersion on Put: response stays $LATEST, the version appears.
	p := must(c.PutSlotType(ctx, &lm.PutSlotTypeInput{Name: aws.String("Colors"), CreateVersion: aws.Bool(true),
		EnumerationValues: []types.EnumerationValue{{Value: aws.String("red")}}})).ok(t)
	if aws.ToString(p.Version) != "$LATEST" || !aws.ToBool(p.CreateVersion) {
		t.Fatalf("createVersion response %+v", p)
	}
	if n := len(must(c.GetSlotTypeVersions(ctx, &lm.GetSlotTypeVersionsInput{Name: aws.String("Colors")})).ok(t).SlotTypes); n != 2 {
		t.Fatalf("createVersion made %d entries", n)
	}
}

// TestResourceInUse checks each delete's blocking reference (spec §2.6)
// and the error body shape (§1.6).
func TestResourceInUse(t *testing.T) { lexmodels.EachDriver(t, testResourceInUse) }

func testResourceInUse(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	c, ctx := f.c, f.ctx
	f.orderFlowers("OrderFlowersBot")
	must(c.CreateBotVersion(ctx, &lm.CreateBotVersionInput{Name: aws.String("OrderFlowersBot")})).ok(t)
	must(c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod"), BotVersion: aws.String("1")})).ok(t)

	cases := []struct {
		name     string
		call     func() error
		refType  types.ReferenceType
		ref, ver string
	}{
		{"DeleteBot with alias", func() error {
			_, err := c.DeleteBot(ctx, &lm.DeleteBotInput{Name: aws.String("OrderFlowersBot")})
			return err
		}, types.ReferenceTypeBotalias, "prod", ""},
		{"DeleteBotVersion with alias", func() error {
			_, err := c.DeleteBotVersion(ctx, &lm.DeleteBotVersionInput{Name: aws.String("OrderFlowersBot"), Version: aws.String("1")})
			return err
		}, types.ReferenceTypeBotalias, "prod", ""},
		{"DeleteIntent used by bot", func() error {
			_, err := c.DeleteIntent(ctx, &lm.DeleteIntentInput{Name: aws.String("OrderFlowers")})
			return err
		}, types.ReferenceTypeBot, "OrderFlowersBot", "$LATEST"},
		{"DeleteIntentVersion used by bot", func() error {
			_, err := c.DeleteIntentVersion(ctx, &lm.DeleteIntentVersionInput{Name: aws.String("OrderFlowers"), Version: aws.String("1")})
			return err
		}, types.ReferenceTypeBot, "OrderFlowersBot", "$LATEST"},
		{"DeleteSlotType used by intent", func() error {
			_, err := c.DeleteSlotType(ctx, &lm.DeleteSlotTypeInput{Name: aws.String("FlowerTypes")})
			return err
		}, types.ReferenceTypeIntent, "OrderFlowers", "$LATEST"},
		{"DeleteSlotTypeVersion used by intent", func() error {
			_, err := c.DeleteSlotTypeVersion(ctx, &lm.DeleteSlotTypeVersionInput{Name: aws.String("FlowerTypes"), Version: aws.String("1")})
			return err
		}, types.ReferenceTypeIntent, "OrderFlowers", "$LATEST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var riu *types.ResourceInUseException
			if !errors.As(err, &riu) {
				t.Fatalf("err %v", err)
			}
			if f.status() != 400 || riu.ReferenceType != tc.refType || aws.ToString(riu.ExampleReference.Name) != tc.ref || aws.ToString(riu.ExampleReference.Version) != tc.ver {
				t.Fatalf("status %d ref %s %+v", f.status(), riu.ReferenceType, riu.ExampleReference)
			}
			body := string(f.lastBody())
			if strings.Contains(body, "message") || !strings.Contains(body, `"referenceType"`) {
				t.Fatalf("body %s", body)
			}
		})
	}
	// Unwinding the chain in order works; missing resources are 404.
	for _, step := range []func() error{
		func() error {
			_, err := c.DeleteBotAlias(ctx, &lm.DeleteBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod")})
			return err
		},
		func() error {
			_, err := c.DeleteBot(ctx, &lm.DeleteBotInput{Name: aws.String("OrderFlowersBot")})
			return err
		},
		func() error {
			_, err := c.DeleteIntent(ctx, &lm.DeleteIntentInput{Name: aws.String("OrderFlowers")})
			return err
		},
		func() error {
			_, err := c.DeleteSlotType(ctx, &lm.DeleteSlotTypeInput{Name: aws.String("FlowerTypes")})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.DeleteBot(ctx, &lm.DeleteBotInput{Name: aws.String("OrderFlowersBot")})
	wantCode(t, err, "NotFoundException")
	_, err = c.GetBot(ctx, &lm.GetBotInput{Name: aws.String("OrderFlowersBot"), VersionOrAlias: aws.String("$LATEST")})
	wantCode(t, err, "NotFoundException")
}

// TestPaging walks every list operation page by page.
func TestPaging(t *testing.T) { lexmodels.EachDriver(t, testPaging) }

func testPaging(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	c, ctx := f.c, f.ctx
	names := []string{"AlphaBot", "BetaBot", "GammaBot", "DeltaBot", "Zeta_Bot"}
	for _, n := range names {
		must(f.putBot(n, nil, nil, types.ProcessBehaviorSave)).ok(t)
	}
	var got []string
	p := lm.NewGetBotsPaginator(c, &lm.GetBotsInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page := must(p.NextPage(ctx)).ok(t)
		pages++
		for _, b := range page.Bots {
			got = append(got, aws.ToString(b.Name))
			if b.Status != types.StatusNotBuilt || aws.ToString(b.Version) != "$LATEST" {
				t.Fatalf("item %+v", b)
			}
		}
	}
	if pages != 3 || strings.Join(got, ",") != "AlphaBot,BetaBot,DeltaBot,GammaBot,Zeta_Bot" {
		t.Fatalf("%d pages: %v", pages, got)
	}
	for _, tc := range []struct{ contains, want string }{{"eta", "BetaBot,Zeta_Bot"}, {"ETA", "BetaBot,Zeta_Bot"}, {"a_B", "Zeta_Bot"}, {"x", ""}} {
		out := must(c.GetBots(ctx, &lm.GetBotsInput{NameContains: aws.String(tc.contains)})).ok(t)
		var n []string
		for _, b := range out.Bots {
			n = append(n, aws.ToString(b.Name))
		}
		if strings.Join(n, ",") != tc.want {
			t.Errorf("nameContains %q: %v", tc.contains, n)
		}
	}
	_, err := c.GetBots(ctx, &lm.GetBotsInput{MaxResults: aws.Int32(51)})
	wantCode(t, err, "BadRequestException")
	_, err = c.GetBots(ctx, &lm.GetBotsInput{NextToken: aws.String("not-a-token")})
	wantCode(t, err, "BadRequestException")
	if out := must(c.GetBots(ctx, &lm.GetBotsInput{NextToken: aws.String("")})).ok(t); len(out.Bots) != 5 {
		t.Fatalf("empty nextToken: %d bots", len(out.Bots))
	}

	// Versions: $LATEST first, then numbers, across pages.
	st := f.flowerTypes("Colors")
	for i := 0; i < 4; i++ {
		st = must(c.PutSlotType(ctx, &lm.PutSlotTypeInput{Name: aws.String("Colors"), Checksum: st.Checksum,
			EnumerationValues: []types.EnumerationValue{{Value: aws.String(fmt.Sprint("c", string(rune('a'+i))))}}})).ok(t)
		must(c.CreateSlotTypeVersion(ctx, &lm.CreateSlotTypeVersionInput{Name: aws.String("Colors")})).ok(t)
	}
	var vs []string
	vp := lm.NewGetSlotTypeVersionsPaginator(c, &lm.GetSlotTypeVersionsInput{Name: aws.String("Colors"), MaxResults: aws.Int32(2)})
	for vp.HasMorePages() {
		for _, m := range must(vp.NextPage(ctx)).ok(t).SlotTypes {
			vs = append(vs, aws.ToString(m.Version))
		}
	}
	if strings.Join(vs, ",") != "$LATEST,1,2,3,4" {
		t.Fatalf("versions %v", vs)
	}
	_, err = c.GetBotVersions(ctx, &lm.GetBotVersionsInput{Name: aws.String("NoSuchBot")})
	wantCode(t, err, "NotFoundException")

	// Aliases (default page 50; the limit is 5 per bot).
	f.orderFlowers("FlowerBot")
	must(c.CreateBotVersion(ctx, &lm.CreateBotVersionInput{Name: aws.String("FlowerBot")})).ok(t)
	for _, a := range []string{"a", "b", "c", "d", "e"} {
		must(c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String("FlowerBot"), Name: aws.String(a), BotVersion: aws.String("1")})).ok(t)
	}
	_, err = c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String("FlowerBot"), Name: aws.String("f"), BotVersion: aws.String("1")})
	wantCode(t, err, "BadRequestException")
	var as []string
	ap := lm.NewGetBotAliasesPaginator(c, &lm.GetBotAliasesInput{BotName: aws.String("FlowerBot"), MaxResults: aws.Int32(2)})
	for ap.HasMorePages() {
		for _, a := range must(ap.NextPage(ctx)).ok(t).BotAliases {
			as = append(as, aws.ToString(a.Name))
		}
	}
	if strings.Join(as, ",") != "a,b,c,d,e" {
		t.Fatalf("aliases %v", as)
	}

	// Built-ins.
	var sigs []string
	bp := lm.NewGetBuiltinIntentsPaginator(c, &lm.GetBuiltinIntentsInput{Locale: types.LocaleDeDe, MaxResults: aws.Int32(4)})
	for bp.HasMorePages() {
		for _, b := range must(bp.NextPage(ctx)).ok(t).Intents {
			sigs = append(sigs, aws.ToString(b.Signature))
		}
	}
	if len(sigs) != 8 || sigs[0] != "AMAZON.CancelIntent" {
		t.Fatalf("de-DE built-in intents %v", sigs)
	}
	sts := must(c.GetBuiltinSlotTypes(ctx, &lm.GetBuiltinSlotTypesInput{SignatureContains: aws.String("date"), Locale: types.LocaleEsUs})).ok(t)
	if len(sts.SlotTypes) != 1 || aws.ToString(sts.SlotTypes[0].Signature) != "AMAZON.DATE" {
		t.Fatalf("built-in slot types %+v", sts.SlotTypes)
	}
	_, err = c.GetBuiltinIntent(ctx, &lm.GetBuiltinIntentInput{Signature: aws.String("AMAZON.NoSuchIntent")})
	wantCode(t, err, "NotFoundException")
}
