package lexmodels_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
)

// TestBuiltinCatalogue walks GetBuiltinIntents and GetBuiltinSlotTypes for
// every Lex V1 locale with the SDK paginators: the Lex-native intents and
// slot types of spec §2.8 are listed in each locale (KendraSearchIntent and
// the Alexa built-ins in en-US only), every supportedLocales value is a
// locale of the enum and includes the one asked for, and GetBuiltinIntent
// returns the signature's slots.
func TestBuiltinCatalogue(t *testing.T) {
	f := newFixture(t)
	c, ctx := f.c, f.ctx
	native := []string{"AMAZON.CancelIntent", "AMAZON.FallbackIntent", "AMAZON.HelpIntent", "AMAZON.PauseIntent",
		"AMAZON.RepeatIntent", "AMAZON.ResumeIntent", "AMAZON.StartOverIntent", "AMAZON.StopIntent"}
	slotTypes := []string{"AMAZON.Airport", "AMAZON.AlphaNumeric", "AMAZON.City", "AMAZON.Country", "AMAZON.DATE",
		"AMAZON.DURATION", "AMAZON.EmailAddress", "AMAZON.FirstName", "AMAZON.LastName", "AMAZON.NUMBER",
		"AMAZON.Percentage", "AMAZON.PhoneNumber", "AMAZON.SpeedUnit", "AMAZON.State", "AMAZON.StreetName",
		"AMAZON.TIME", "AMAZON.WeightUnit"}
	enum := types.Locale("").Values()
	for _, loc := range []types.Locale{types.LocaleEnUs, types.LocaleEnGb, types.LocaleEnAu, types.LocaleEnIn, types.LocaleEsUs,
		types.LocaleEsEs, types.LocaleEs419, types.LocaleDeDe, types.LocaleFrFr, types.LocaleFrCa, types.LocaleItIt,
		types.LocaleJaJp, types.LocaleKoKr} {
		t.Run(string(loc), func(t *testing.T) {
			var intents, slots []string
			check := func(sig string, locales []types.Locale) {
				if !slices.Contains(locales, loc) {
					t.Errorf("%s listed for %s but supports %v", sig, loc, locales)
				}
				for _, l := range locales {
					if !slices.Contains(enum, l) {
						t.Errorf("%s: locale %q not in the Locale enum", sig, l)
					}
				}
			}
			ip := lm.NewGetBuiltinIntentsPaginator(c, &lm.GetBuiltinIntentsInput{Locale: loc, MaxResults: aws.Int32(7)})
			for ip.HasMorePages() {
				for _, b := range must(ip.NextPage(ctx)).ok(t).Intents {
					intents = append(intents, aws.ToString(b.Signature))
					check(aws.ToString(b.Signature), b.SupportedLocales)
				}
			}
			sp := lm.NewGetBuiltinSlotTypesPaginator(c, &lm.GetBuiltinSlotTypesInput{Locale: loc, MaxResults: aws.Int32(50)})
			for sp.HasMorePages() {
				for _, b := range must(sp.NextPage(ctx)).ok(t).SlotTypes {
					slots = append(slots, aws.ToString(b.Signature))
					check(aws.ToString(b.Signature), b.SupportedLocales)
				}
			}
			for _, sig := range native {
				if !slices.Contains(intents, sig) {
					t.Errorf("intent %s missing in %s", sig, loc)
				}
			}
			for _, sig := range slotTypes {
				if !slices.Contains(slots, sig) {
					t.Errorf("slot type %s missing in %s", sig, loc)
				}
			}
			enUS := loc == types.LocaleEnUs
			if got := slices.Contains(intents, "AMAZON.KendraSearchIntent"); got != enUS {
				t.Errorf("KendraSearchIntent listed %v", got)
			}
			if got := slices.Contains(intents, "AMAZON.SelectIntent"); got != enUS {
				t.Errorf("Alexa built-in AMAZON.SelectIntent listed %v", got)
			}
			if slices.Contains(intents, "AMAZON.YesIntent") || slices.Contains(intents, "AMAZON.NoIntent") || slices.Contains(slots, "AMAZON.LITERAL") {
				t.Errorf("built-ins Lex V1 does not have are listed")
			}
			if !slices.IsSorted(intents) || !slices.IsSorted(slots) {
				t.Errorf("not in signature order")
			}
		})
	}
	sel := must(c.GetBuiltinIntent(ctx, &lm.GetBuiltinIntentInput{Signature: aws.String("AMAZON.SelectIntent")})).ok(t)
	var names []string
	for _, s := range sel.Slots {
		names = append(names, aws.ToString(s.Name))
	}
	if !slices.Equal(names, []string{"Anaphor", "ListPosition", "PositionRelation", "VisualModeTrigger"}) || !slices.Equal(sel.SupportedLocales, []types.Locale{types.LocaleEnUs}) {
		t.Errorf("AMAZON.SelectIntent %v %v", names, sel.SupportedLocales)
	}
	_, err := c.GetBuiltinIntents(ctx, &lm.GetBuiltinIntentsInput{Locale: "xx-XX"})
	wantCode(t, err, "BadRequestException")
	_, err = c.GetBuiltinSlotTypes(ctx, &lm.GetBuiltinSlotTypesInput{MaxResults: aws.Int32(51)})
	wantCode(t, err, "BadRequestException")
}
