package lexmodels

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// The LEX export format (spec §2.13): a zip holding one JSON document
// {"metadata":{...},"resource":{...}}. BOT exports embed full intents and a
// top-level slotTypes array; INTENT exports carry the intent's fields at
// resource level plus slotTypes; SLOT_TYPE exports the slot type's fields.
// No checksums, dates or status. Empty slot sampleUtterances and value
// synonyms are written as [] as real exports do.

type exportMetadata struct {
	SchemaVersion string `json:"schemaVersion"`
	ImportType    string `json:"importType"`
	ImportFormat  string `json:"importFormat"`
}

type exportDoc struct {
	Metadata exportMetadata  `json:"metadata"`
	Resource json.RawMessage `json:"resource"`
}

// exportSlot is Slot with sampleUtterances always present.
type exportSlot struct {
	Name                   string                `json:"name"`
	Description            string                `json:"description,omitempty"`
	SlotConstraint         string                `json:"slotConstraint"`
	SlotType               *string               `json:"slotType,omitempty"`
	SlotTypeVersion        *string               `json:"slotTypeVersion,omitempty"`
	ValueElicitationPrompt *Prompt               `json:"valueElicitationPrompt,omitempty"`
	Priority               *int                  `json:"priority,omitempty"`
	SampleUtterances       []string              `json:"sampleUtterances"`
	ResponseCard           *string               `json:"responseCard,omitempty"`
	ObfuscationSetting     string                `json:"obfuscationSetting,omitempty"`
	DefaultValueSpec       *SlotDefaultValueSpec `json:"defaultValueSpec,omitempty"`
}

// exportValue is EnumerationValue with synonyms always present.
type exportValue struct {
	Value    string   `json:"value"`
	Synonyms []string `json:"synonyms"`
}

type exportSlotType struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SlotTypeDef
	EnumerationValues []exportValue `json:"enumerationValues,omitempty"`
}

type exportIntent struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	IntentDef
	Slots     []exportSlot     `json:"slots,omitempty"`
	SlotTypes []exportSlotType `json:"slotTypes,omitempty"`
}

type exportBot struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	BotDef
	Intents   []exportIntent   `json:"intents"`
	SlotTypes []exportSlotType `json:"slotTypes"`
}

func toExportSlotType(name, version string, d SlotTypeDef) exportSlotType {
	e := exportSlotType{Name: name, Version: version, SlotTypeDef: d}
	for _, v := range d.EnumerationValues {
		syn := v.Synonyms
		if syn == nil {
			syn = []string{}
		}
		e.EnumerationValues = append(e.EnumerationValues, exportValue{v.Value, syn})
	}
	e.SlotTypeDef.EnumerationValues = nil
	return e
}

func (e exportSlotType) def() SlotTypeDef {
	d := e.SlotTypeDef
	d.EnumerationValues = nil
	for _, v := range e.EnumerationValues {
		ev := EnumerationValue{Value: v.Value}
		if len(v.Synonyms) > 0 {
			ev.Synonyms = v.Synonyms
		}
		d.EnumerationValues = append(d.EnumerationValues, ev)
	}
	return d
}

func toExportIntent(name, version string, d IntentDef) exportIntent {
	e := exportIntent{Name: name, Version: version, IntentDef: d}
	for _, s := range d.Slots {
		es := exportSlot(s)
		if es.SampleUtterances == nil {
			es.SampleUtterances = []string{}
		}
		e.Slots = append(e.Slots, es)
	}
	e.IntentDef.Slots = nil
	return e
}

func (e exportIntent) def() IntentDef {
	d := e.IntentDef
	d.Slots = nil
	for _, es := range e.Slots {
		s := Slot(es)
		if len(s.SampleUtterances) == 0 {
			s.SampleUtterances = nil
		}
		d.Slots = append(d.Slots, s)
	}
	return d
}

// exportResourceTypes and exportTypes are the GetExport enums.
var (
	exportResourceTypes = []string{"BOT", "INTENT", "SLOT_TYPE"}
	exportTypes         = []string{"ALEXA_SKILLS_KIT", "LEX"}
)

// exportSpec names one export.
type exportSpec struct {
	Account, Region, ResourceType, ExportType, Name, Version string
}

// loadIntentWithTypes reads an intent version and the custom slot type
// versions it uses.
func loadIntentWithTypes(ctx context.Context, tx *store.Tx, sc scope, name, version string, types map[ref]exportSlotType) (*IntentDef, error) {
	r, err := getResource(ctx, tx, sc, kindIntent, name, version)
	if err != nil || r == nil {
		return nil, err
	}
	var d IntentDef
	if err := json.Unmarshal(r.Doc, &d); err != nil {
		return nil, err
	}
	for _, sl := range d.Slots {
		if sl.SlotType == nil || sl.SlotTypeVersion == nil || strings.HasPrefix(*sl.SlotType, "AMAZON.") {
			continue
		}
		k := ref{kindSlotType, *sl.SlotType, *sl.SlotTypeVersion}
		if _, ok := types[k]; ok {
			continue
		}
		st, err := getResource(ctx, tx, sc, kindSlotType, k.name, k.version)
		if err != nil {
			return nil, err
		}
		if st == nil {
			return nil, fmt.Errorf("slot type %s version %s is missing", k.name, k.version)
		}
		var sd SlotTypeDef
		if err := json.Unmarshal(st.Doc, &sd); err != nil {
			return nil, err
		}
		types[k] = toExportSlotType(k.name, k.version, sd)
	}
	return &d, nil
}

func sortedTypes(types map[ref]exportSlotType) []exportSlotType {
	out := make([]exportSlotType, 0, len(types))
	for _, t := range types {
		out = append(out, t)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Name < out[j-1].Name || out[j].Name == out[j-1].Name && versionNum(out[j].Version) < versionNum(out[j-1].Version)); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// buildExport renders an export as a zip. found is false when the
// resource version does not exist.
func buildExport(ctx context.Context, tx *store.Tx, e exportSpec) (data []byte, filename string, found bool, err error) {
	sc := scope{e.Account, e.Region}
	kind := map[string]string{"BOT": kindBot, "INTENT": kindIntent, "SLOT_TYPE": kindSlotType}[e.ResourceType]
	r, err := getResource(ctx, tx, sc, kind, e.Name, e.Version)
	if err != nil || r == nil {
		return nil, "", false, err
	}
	types := map[ref]exportSlotType{}
	var resource any
	switch kind {
	case kindSlotType:
		var d SlotTypeDef
		if err := json.Unmarshal(r.Doc, &d); err != nil {
			return nil, "", true, err
		}
		resource = toExportSlotType(e.Name, e.Version, d)
	case kindIntent:
		d, err := loadIntentWithTypes(ctx, tx, sc, e.Name, e.Version, types)
		if err != nil {
			return nil, "", true, err
		}
		ei := toExportIntent(e.Name, e.Version, *d)
		ei.SlotTypes = sortedTypes(types)
		resource = ei
	case kindBot:
		var d BotDef
		if err := json.Unmarshal(r.Doc, &d); err != nil {
			return nil, "", true, err
		}
		eb := exportBot{Name: e.Name, Version: e.Version, BotDef: d, Intents: []exportIntent{}}
		eb.BotDef.Intents = nil
		for _, ir := range d.Intents {
			idef, err := loadIntentWithTypes(ctx, tx, sc, ir.IntentName, ir.IntentVersion, types)
			if err != nil {
				return nil, "", true, err
			}
			if idef == nil {
				return nil, "", true, fmt.Errorf("intent %s version %s is missing", ir.IntentName, ir.IntentVersion)
			}
			eb.Intents = append(eb.Intents, toExportIntent(ir.IntentName, ir.IntentVersion, *idef))
		}
		eb.SlotTypes = sortedTypes(types)
		if e.ExportType == "ALEXA_SKILLS_KIT" {
			data, err := zipOne(e.Name+".json", alexaModel(eb))
			return data, e.Name + "_" + e.Version + "_ALEXA_SKILLS_KIT.zip", true, err
		}
		resource = eb
	}
	doc := map[string]any{
		"metadata": exportMetadata{SchemaVersion: "1.0", ImportType: "LEX", ImportFormat: "JSON"},
		"resource": resource,
	}
	data, err = zipOne(e.Name+"_Export.json", doc)
	return data, e.Name + "_" + e.Version + "_" + e.ResourceType + "_LEX.zip", true, err
}

func zipOne(name string, v any) ([]byte, error) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()})
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// alexaModel renders a bot as an Alexa skill interaction model (the
// ALEXA_SKILLS_KIT export; shape per spec §2.13).
func alexaModel(b exportBot) map[string]any {
	type slot struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	type intent struct {
		Name    string   `json:"name"`
		Slots   []slot   `json:"slots"`
		Samples []string `json:"samples"`
	}
	type valueName struct {
		Value    string   `json:"value"`
		Synonyms []string `json:"synonyms,omitempty"`
	}
	type value struct {
		Name valueName `json:"name"`
	}
	type typ struct {
		Name   string  `json:"name"`
		Values []value `json:"values"`
	}
	var intents []intent
	for _, in := range b.Intents {
		ai := intent{Name: in.Name, Slots: []slot{}, Samples: []string{}}
		if in.ParentIntentSignature != nil {
			ai.Name = *in.ParentIntentSignature
		}
		for _, s := range in.Slots {
			t := ""
			if s.SlotType != nil {
				t = *s.SlotType
			}
			ai.Slots = append(ai.Slots, slot{Name: s.Name, Type: t})
		}
		ai.Samples = append(ai.Samples, in.SampleUtterances...)
		intents = append(intents, ai)
	}
	types := []typ{}
	for _, st := range b.SlotTypes {
		t := typ{Name: st.Name, Values: []value{}}
		for _, v := range st.EnumerationValues {
			t.Values = append(t.Values, value{Name: valueName{Value: v.Value, Synonyms: v.Synonyms}})
		}
		types = append(types, t)
	}
	return map[string]any{"interactionModel": map[string]any{"languageModel": map[string]any{
		"invocationName": invocationName(b.Name), "intents": intents, "types": types,
	}}}
}

// invocationName turns OrderFlowers_Bot into "order flowers bot".
func invocationName(name string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range name {
		switch {
		case r == '_':
			b.WriteByte(' ')
		case unicode.IsUpper(r) && prev != 0 && prev != '_' && !unicode.IsUpper(prev):
			b.WriteByte(' ')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(unicode.ToLower(r))
		}
		prev = r
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// GetExportInput is GET /exports/?name=&version=&resourceType=&exportType=.
type GetExportInput struct {
	Name         string `location:"querystring" locationName:"name" json:"name"`
	Version      string `location:"querystring" locationName:"version" json:"version"`
	ResourceType string `location:"querystring" locationName:"resourceType" json:"resourceType"`
	ExportType   string `location:"querystring" locationName:"exportType" json:"exportType"`
}

// GetExportOutput is the result.
type GetExportOutput struct {
	Name          string `json:"name"`
	Version       string `json:"version"`
	ResourceType  string `json:"resourceType"`
	ExportType    string `json:"exportType"`
	ExportStatus  string `json:"exportStatus"`
	FailureReason string `json:"failureReason,omitempty"`
	URL           string `json:"url,omitempty"`
}

func exportRes(c *catalog.Call, in any) []catalog.Resource {
	v := in.(*GetExportInput)
	sc := scopeOf(c)
	switch v.ResourceType {
	case "INTENT":
		return res(c, typeIntent, intentARN(sc, v.Name))
	case "SLOT_TYPE":
		return res(c, typeSlotType, slotTypeARN(sc, v.Name))
	}
	return res(c, typeBot, botARN(sc, v.Name))
}

// getExport answers READY at once with a URL lextrail serves itself: the
// zip is rendered on download from the immutable numbered version.
func (s *Service) getExport(ctx context.Context, c *catalog.Call, in *GetExportInput) (*GetExportOutput, error) {
	var ck checker
	if ck.required(in.Name != "", "name") {
		ck.str("name", in.Name, 1, 100, reExportName)
	}
	if ck.required(in.Version != "", "version") {
		ck.str("version", in.Version, 1, 64, reNumVersion)
	}
	if ck.required(in.ResourceType != "", "resourceType") {
		ck.enum("resourceType", in.ResourceType, exportResourceTypes...)
	}
	if ck.required(in.ExportType != "", "exportType") {
		ck.enum("exportType", in.ExportType, exportTypes...)
	}
	if err := ck.err(); err != nil {
		return nil, err
	}
	if in.ExportType == "ALEXA_SKILLS_KIT" && in.ResourceType != "BOT" {
		return nil, badRequest("The ALEXA_SKILLS_KIT export type is only available for bots (resourceType BOT).")
	}
	sc := scopeOf(c)
	kind := map[string]string{"BOT": kindBot, "INTENT": kindIntent, "SLOT_TYPE": kindSlotType}[in.ResourceType]
	ok, err := exists(ctx, c.Tx, sc, kind, in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("The %s %s version %s does not exist.", strings.ToLower(kindTitle(kind)), in.Name, in.Version)
	}
	spec := exportSpec{Account: sc.acct, Region: sc.region, ResourceType: in.ResourceType, ExportType: in.ExportType, Name: in.Name, Version: in.Version}
	u, err := s.keys.url(ctx, baseURL(c), spec, c.Now.Add(s.cfg.ExportURLTTL))
	if err != nil {
		return nil, err
	}
	return &GetExportOutput{Name: in.Name, Version: in.Version, ResourceType: in.ResourceType, ExportType: in.ExportType, ExportStatus: "READY", URL: u}, nil
}

// baseURL is the scheme and host the client reached lextrail at.
func baseURL(c *catalog.Call) string {
	r := c.Request
	scheme := "http"
	if r == nil {
		return "http://localhost"
	}
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}
