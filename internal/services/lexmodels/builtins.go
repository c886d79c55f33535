package lexmodels

import (
	"context"
	"sort"
	"strings"

	"lextrail/internal/catalog"
)

// The built-in catalogue (spec §2.8): a static table baked into the server.

var (
	localesLexNative = []string{"de-DE", "en-AU", "en-GB", "en-IN", "en-US", "es-419", "es-ES", "es-US", "fr-CA", "fr-FR", "it-IT", "ja-JP", "ko-KR"}
	localesEnUS      = []string{"en-US"}
)

type builtinIntent struct {
	Signature string
	Locales   []string
	Slots     []string
}

type builtinSlotType struct {
	Signature string
	Locales   []string
}

var builtinIntents = func() []builtinIntent {
	list := []builtinIntent{
		{"AMAZON.CancelIntent", localesLexNative, nil},
		{"AMAZON.FallbackIntent", localesLexNative, nil},
		{"AMAZON.HelpIntent", localesLexNative, nil},
		{"AMAZON.KendraSearchIntent", localesEnUS, nil},
		{"AMAZON.PauseIntent", localesLexNative, nil},
		{"AMAZON.RepeatIntent", localesLexNative, nil},
		{"AMAZON.ResumeIntent", localesLexNative, nil},
		{"AMAZON.StartOverIntent", localesLexNative, nil},
		{"AMAZON.StopIntent", localesLexNative, nil},
	}
	// en-US also exposes Alexa standard built-ins (not Yes/No).
	for _, a := range []struct {
		sig   string
		slots []string
	}{
		{"AMAZON.AddAction<object@Book>", []string{"object.name", "object.type", "targetCollection.type"}},
		{"AMAZON.DeleteAction<object@Book>", []string{"object.name", "object.type"}},
		{"AMAZON.LoopOffIntent", nil},
		{"AMAZON.LoopOnIntent", nil},
		{"AMAZON.MoreIntent", nil},
		{"AMAZON.NavigateHomeIntent", nil},
		{"AMAZON.NavigateSettingsIntent", nil},
		{"AMAZON.NextIntent", nil},
		{"AMAZON.PageDownIntent", nil},
		{"AMAZON.PageUpIntent", nil},
		{"AMAZON.PreviousIntent", nil},
		{"AMAZON.ScrollDownIntent", nil},
		{"AMAZON.ScrollLeftIntent", nil},
		{"AMAZON.ScrollRightIntent", nil},
		{"AMAZON.ScrollUpIntent", nil},
		{"AMAZON.SearchAction<object@WeatherForecast>", []string{"object.location.addressLocality.name", "object.startDate"}},
		{"AMAZON.SelectIntent", []string{"Anaphor", "ListPosition", "PositionRelation", "VisualModeTrigger"}},
		{"AMAZON.ShuffleOffIntent", nil},
		{"AMAZON.ShuffleOnIntent", nil},
	} {
		list = append(list, builtinIntent{a.sig, localesEnUS, a.slots})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Signature < list[j].Signature })
	return list
}()

var builtinSlotTypes = func() []builtinSlotType {
	var list []builtinSlotType
	for _, s := range []string{"AMAZON.Airport", "AMAZON.AlphaNumeric", "AMAZON.City", "AMAZON.Country", "AMAZON.DATE",
		"AMAZON.DURATION", "AMAZON.EmailAddress", "AMAZON.FirstName", "AMAZON.LastName", "AMAZON.NUMBER",
		"AMAZON.Percentage", "AMAZON.PhoneNumber", "AMAZON.SpeedUnit", "AMAZON.State", "AMAZON.StreetName",
		"AMAZON.TIME", "AMAZON.WeightUnit"} {
		list = append(list, builtinSlotType{s, localesLexNative})
	}
	for _, s := range []string{"AMAZON.Actor", "AMAZON.AggregateRating", "AMAZON.Airline", "AMAZON.Animal", "AMAZON.Artist",
		"AMAZON.Athlete", "AMAZON.Author", "AMAZON.Book", "AMAZON.BookSeries", "AMAZON.BroadcastChannel",
		"AMAZON.CivicStructure", "AMAZON.Color", "AMAZON.Corporation", "AMAZON.DayOfWeek", "AMAZON.Dessert",
		"AMAZON.Director", "AMAZON.EducationalOrganization", "AMAZON.Festival", "AMAZON.FictionalCharacter",
		"AMAZON.FoodEstablishment", "AMAZON.Game", "AMAZON.Genre", "AMAZON.Landform", "AMAZON.LandmarksOrHistoricalBuildings",
		"AMAZON.Language", "AMAZON.LocalBusiness", "AMAZON.LocalBusinessType", "AMAZON.MedicalOrganization", "AMAZON.Month",
		"AMAZON.Movie", "AMAZON.MovieSeries", "AMAZON.MovieTheater", "AMAZON.MusicAlbum", "AMAZON.MusicCreativeWorkType",
		"AMAZON.MusicEvent", "AMAZON.MusicGroup", "AMAZON.Musician", "AMAZON.MusicPlaylist", "AMAZON.MusicRecording",
		"AMAZON.MusicVenue", "AMAZON.MusicVideo", "AMAZON.Organization", "AMAZON.Person", "AMAZON.PostalAddress",
		"AMAZON.Professional", "AMAZON.Residence", "AMAZON.Room", "AMAZON.ScreeningEvent", "AMAZON.Service",
		"AMAZON.SocialMediaPlatform", "AMAZON.SoftwareApplication", "AMAZON.SoftwareGame", "AMAZON.Sport",
		"AMAZON.SportsEvent", "AMAZON.SportsTeam", "AMAZON.TelevisionChannel", "AMAZON.TelevisionEpisode",
		"AMAZON.TelevisionSeason", "AMAZON.TelevisionSeries", "AMAZON.VideoGame", "AMAZON.VisualModeTrigger",
		"AMAZON.WeatherCondition", "AMAZON.WrittenCreativeWorkType"} {
		list = append(list, builtinSlotType{s, localesEnUS})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Signature < list[j].Signature })
	return list
}()

func isBuiltinIntent(sig string) bool {
	for _, b := range builtinIntents {
		if b.Signature == sig {
			return true
		}
	}
	return false
}

func isBuiltinSlotType(sig string) bool {
	for _, b := range builtinSlotTypes {
		if b.Signature == sig {
			return true
		}
	}
	return false
}

// reservedName reports whether an intent or slot type name equals a
// built-in's name without its AMAZON. prefix (HelpIntent, DATE).
func reservedName(name string, intents bool) bool {
	if intents {
		for _, b := range builtinIntents {
			if strings.TrimPrefix(b.Signature, "AMAZON.") == name {
				return true
			}
		}
		return false
	}
	for _, b := range builtinSlotTypes {
		if strings.TrimPrefix(b.Signature, "AMAZON.") == name {
			return true
		}
	}
	return false
}

func hasLocale(list []string, l string) bool {
	for _, x := range list {
		if x == l {
			return true
		}
	}
	return false
}

// GetBuiltinIntent.

type GetBuiltinIntentInput struct {
	Signature string `location:"uri" locationName:"signature" json:"signature,omitempty"`
}

type BuiltinIntentSlot struct {
	Name string `json:"name"`
}

type GetBuiltinIntentOutput struct {
	Signature        string              `json:"signature,omitempty"`
	SupportedLocales []string            `json:"supportedLocales,omitempty"`
	Slots            []BuiltinIntentSlot `json:"slots,omitempty"`
}

func (s *Service) getBuiltinIntent(_ context.Context, _ *catalog.Call, in *GetBuiltinIntentInput) (*GetBuiltinIntentOutput, error) {
	for _, b := range builtinIntents {
		if b.Signature == in.Signature {
			out := &GetBuiltinIntentOutput{Signature: b.Signature, SupportedLocales: b.Locales}
			for _, sl := range b.Slots {
				out.Slots = append(out.Slots, BuiltinIntentSlot{Name: sl})
			}
			return out, nil
		}
	}
	return nil, notFound("The built-in intent %s does not exist.", in.Signature)
}

// GetBuiltinIntents / GetBuiltinSlotTypes.

type GetBuiltinsInput struct {
	Locale            string  `location:"querystring" locationName:"locale" json:"locale,omitempty"`
	SignatureContains *string `location:"querystring" locationName:"signatureContains" json:"signatureContains,omitempty"`
	NextToken         *string `location:"querystring" locationName:"nextToken" json:"nextToken,omitempty"`
	MaxResults        *int    `location:"querystring" locationName:"maxResults" json:"maxResults,omitempty"`
}

type BuiltinMetadata struct {
	Signature        string   `json:"signature"`
	SupportedLocales []string `json:"supportedLocales"`
}

type GetBuiltinIntentsOutput struct {
	Intents   []BuiltinMetadata `json:"intents"`
	NextToken *string           `json:"nextToken,omitempty"`
}

type GetBuiltinSlotTypesOutput struct {
	SlotTypes []BuiltinMetadata `json:"slotTypes"`
	NextToken *string           `json:"nextToken,omitempty"`
}

func filterBuiltins(in *GetBuiltinsInput, all []BuiltinMetadata) ([]BuiltinMetadata, *string, error) {
	limit, err := maxResults(in.MaxResults, 10)
	if err != nil {
		return nil, nil, err
	}
	if in.Locale != "" {
		var c checker
		c.enum("locale", in.Locale, Locales...)
		if err := c.err(); err != nil {
			return nil, nil, err
		}
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, nil, err
	}
	var out []BuiltinMetadata
	for _, b := range all {
		if in.Locale != "" && !hasLocale(b.SupportedLocales, in.Locale) {
			continue
		}
		if in.SignatureContains != nil && !strings.Contains(strings.ToLower(b.Signature), strings.ToLower(*in.SignatureContains)) {
			continue
		}
		if after != "" && b.Signature <= after {
			continue
		}
		if len(out) == limit {
			return out, encodeToken(out[len(out)-1].Signature), nil
		}
		out = append(out, b)
	}
	if out == nil {
		out = []BuiltinMetadata{}
	}
	return out, nil, nil
}

func (s *Service) getBuiltinIntents(_ context.Context, _ *catalog.Call, in *GetBuiltinsInput) (*GetBuiltinIntentsOutput, error) {
	all := make([]BuiltinMetadata, len(builtinIntents))
	for i, b := range builtinIntents {
		all[i] = BuiltinMetadata{b.Signature, b.Locales}
	}
	list, next, err := filterBuiltins(in, all)
	if err != nil {
		return nil, err
	}
	return &GetBuiltinIntentsOutput{Intents: list, NextToken: next}, nil
}

func (s *Service) getBuiltinSlotTypes(_ context.Context, _ *catalog.Call, in *GetBuiltinsInput) (*GetBuiltinSlotTypesOutput, error) {
	all := make([]BuiltinMetadata, len(builtinSlotTypes))
	for i, b := range builtinSlotTypes {
		all[i] = BuiltinMetadata{b.Signature, b.Locales}
	}
	list, next, err := filterBuiltins(in, all)
	if err != nil {
		return nil, err
	}
	return &GetBuiltinSlotTypesOutput{SlotTypes: list, NextToken: next}, nil
}
