package restjson

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
)

type getBotInput struct {
	Name           string `location:"uri" locationName:"name" json:"-"`
	VersionOrAlias string `location:"uri" locationName:"versionoralias" json:"-"`
}

type getBotOutput struct {
	Name        string         `json:"name,omitempty"`
	Version     string         `json:"version,omitempty"`
	CreatedDate *protocol.Time `json:"createdDate,omitempty"`
	Updated     protocol.Time  `json:"lastUpdatedDate,omitzero"`
	Status      string         `json:"status,omitempty"`
	TTL         int32          `json:"idleSessionTTLInSeconds,omitempty"`
}

type getBotsInput struct {
	NextToken    string `location:"querystring" locationName:"nextToken"`
	MaxResults   *int32 `location:"querystring" locationName:"maxResults"`
	NameContains string `location:"querystring" locationName:"nameContains"`
}

type botMetadata struct {
	Name string `json:"name"`
}

type getBotsOutput struct {
	Bots      []botMetadata `json:"bots"`
	NextToken string        `json:"nextToken,omitempty"`
}

type putBotInput struct {
	Name          string              `location:"uri" locationName:"name"`
	Description   string              `json:"description,omitempty"`
	TTL           *int32              `json:"idleSessionTTLInSeconds,omitempty"`
	ChildDirected *bool               `json:"childDirected,omitempty"`
	Intents       []map[string]any    `json:"intents,omitempty"`
	Tags          []map[string]string `json:"tags,omitempty"`
	Payload       []byte              `json:"payload,omitempty"`
}

type deleteBotInput struct {
	Name string `location:"uri" locationName:"name"`
}

type utterancesInput struct {
	BotName     string   `location:"uri" locationName:"botname"`
	BotVersions []string `location:"querystring" locationName:"bot_versions"`
	StatusType  string   `location:"querystring" locationName:"status_type"`
}

type utterancesOutput struct {
	BotName string `json:"botName"`
}

type tagsInput struct {
	ResourceArn string   `location:"uri" locationName:"resourceArn"`
	TagKeys     []string `location:"querystring" locationName:"tagKeys"`
}

var models = catalog.NewService(&catalog.Service{
	Name: "lex-models", SigningName: "lex", Protocol: catalog.RestJSON,
	Ops: []*catalog.Operation{
		catalog.Define(catalog.Operation{Name: "GetBot", HTTP: "GET /bots/{name}/versions/{versionoralias}"}, func(_ context.Context, _ *catalog.Call, in *getBotInput) (*getBotOutput, error) {
			if in.Name != "OrderFlowers" {
				return nil, awserr.New(404, "NotFoundException", "The bot %s does not exist", in.Name)
			}
			return &getBotOutput{Name: in.Name, Version: in.VersionOrAlias, CreatedDate: protocol.TimePtr(time.UnixMilli(1494360160133)), Status: "READY", TTL: 300}, nil
		}),
		catalog.Define(catalog.Operation{Name: "GetBots", HTTP: "GET /bots/"}, func(_ context.Context, _ *catalog.Call, in *getBotsInput) (*getBotsOutput, error) {
			return &getBotsOutput{Bots: []botMetadata{{Name: "a"}}, NextToken: in.NameContains}, nil
		}),
		catalog.Define(catalog.Operation{Name: "PutBot", HTTP: "PUT /bots/{name}/versions/$LATEST"}, func(_ context.Context, _ *catalog.Call, in *putBotInput) (*getBotOutput, error) {
			return &getBotOutput{Name: in.Name, Version: "$LATEST"}, nil
		}),
		catalog.Define(catalog.Operation{Name: "DeleteBot", HTTP: "DELETE /bots/{name}", Status: 204}, func(_ context.Context, _ *catalog.Call, in *deleteBotInput) (*struct{}, error) {
			if in.Name == "busy" {
				e := awserr.New(400, "ResourceInUseException", "The bot is used by alias prod").
					With("referenceType", "BotAlias").With("exampleReference", map[string]string{"name": "prod"})
				e.OmitMessage = true
				return nil, e
			}
			return &struct{}{}, nil
		}),
		catalog.Define(catalog.Operation{Name: "GetUtterancesView", HTTP: "GET /bots/{botname}/utterances?view=aggregation"}, func(_ context.Context, _ *catalog.Call, in *utterancesInput) (*utterancesOutput, error) {
			return &utterancesOutput{BotName: in.BotName}, nil
		}),
		catalog.Define(catalog.Operation{Name: "ListTagsForResource", HTTP: "GET /tags/{resourceArn}"}, func(_ context.Context, _ *catalog.Call, in *tagsInput) (*struct{}, error) {
			return nil, nil
		}),
		catalog.Define(catalog.Operation{Name: "UntagResource", HTTP: "DELETE /tags/{resourceArn}", Status: 204}, func(_ context.Context, _ *catalog.Call, in *tagsInput) (*struct{}, error) {
			return nil, nil
		}),
		catalog.Define(catalog.Operation{Name: "DeleteSlotTypeVersion", HTTP: "DELETE /slottypes/{name}/version/{version}", Status: 204}, func(_ context.Context, _ *catalog.Call, in *struct {
			Name    string `location:"uri" locationName:"name"`
			Version string `location:"uri" locationName:"version"`
		}) (*struct{}, error) {
			return nil, nil
		}),
	},
})

type postContentInput struct {
	BotName           string            `location:"uri" locationName:"botName"`
	BotAlias          string            `location:"uri" locationName:"botAlias"`
	UserID            string            `location:"uri" locationName:"userId"`
	ContentType       string            `location:"header" locationName:"Content-Type"`
	Accept            string            `location:"header" locationName:"Accept"`
	SessionAttributes map[string]string `location:"header" locationName:"x-amz-lex-session-attributes" jsonvalue:"true"`
	ActiveContexts    []any             `location:"header" locationName:"x-amz-lex-active-contexts" jsonvalue:"true"`
	RequestAttrsText  string            `location:"header" locationName:"x-amz-lex-request-attributes" jsonvalue:"true"`
	Count             *int              `location:"header" locationName:"x-count"`
	Flag              bool              `location:"header" locationName:"x-flag"`
	Meta              map[string]string `location:"headers" locationName:"x-meta-"`
	InputStream       io.ReadCloser     `location:"payload"`
}

type postContentOutput struct {
	ContentType       string            `location:"header" locationName:"Content-Type"`
	IntentName        string            `location:"header" locationName:"x-amz-lex-intent-name"`
	Slots             map[string]any    `location:"header" locationName:"x-amz-lex-slots" jsonvalue:"true"`
	SessionAttributes map[string]string `location:"header" locationName:"x-amz-lex-session-attributes" jsonvalue:"true"`
	BotVersion        *string           `location:"header" locationName:"x-amz-lex-bot-version"`
	Stamp             protocol.Time     `location:"header" locationName:"Last-Modified"`
	AudioStream       []byte            `location:"payload"`
}

type postTextInput struct {
	BotName           string            `location:"uri" locationName:"botName"`
	BotAlias          string            `location:"uri" locationName:"botAlias"`
	UserID            string            `location:"uri" locationName:"userId"`
	InputText         string            `json:"inputText"`
	SessionAttributes map[string]string `json:"sessionAttributes,omitempty"`
}

type postTextOutput struct {
	Status  int    `location:"statusCode"`
	Header  string `location:"header" locationName:"x-h"`
	Message string `json:"message,omitempty"`
}

var runtime = catalog.NewService(&catalog.Service{
	Name: "lex-runtime", SigningName: "lex", Protocol: catalog.RestJSON,
	Ops: []*catalog.Operation{
		catalog.Define(catalog.Operation{Name: "PostContent", HTTP: "POST /bot/{botName}/alias/{botAlias}/user/{userId}/content", RawBody: true}, func(_ context.Context, _ *catalog.Call, in *postContentInput) (*postContentOutput, error) {
			return &postContentOutput{}, nil
		}),
		catalog.Define(catalog.Operation{Name: "PostText", HTTP: "POST /bot/{botName}/alias/{botAlias}/user/{userId}/text"}, func(_ context.Context, _ *catalog.Call, in *postTextInput) (*postTextOutput, error) {
			return &postTextOutput{Message: in.InputText}, nil
		}),
		catalog.Define(catalog.Operation{Name: "GetSession", HTTP: "GET /bot/{botName}/alias/{botAlias}/user/{userId}/session"}, func(_ context.Context, _ *catalog.Call, in *postTextInput) (*struct{}, error) {
			return nil, nil
		}),
	},
})

func TestRoute(t *testing.T) {
	cases := []struct {
		svc         *catalog.Service
		method, url string
		op          string
		labels      map[string]string
		code        string
		status      int
	}{
		{models, "GET", "/bots/OrderFlowers/versions/%24LATEST", "GetBot", map[string]string{"name": "OrderFlowers", "versionoralias": "$LATEST"}, "", 0},
		{models, "GET", "/bots/OrderFlowers/versions/$LATEST", "GetBot", map[string]string{"versionoralias": "$LATEST"}, "", 0},
		{models, "GET", "/bots/a%2Fb/versions/1/", "GetBot", map[string]string{"name": "a/b", "versionoralias": "1"}, "", 0},
		{models, "GET", "/bots/", "GetBots", nil, "", 0},
		{models, "GET", "/bots?maxResults=100", "GetBots", nil, "", 0},
		{models, "PUT", "/bots/B/versions/$LATEST", "PutBot", map[string]string{"name": "B"}, "", 0},
		{models, "PUT", "/bots/B/versions/%24LATEST", "PutBot", map[string]string{"name": "B"}, "", 0},
		{models, "PUT", "/bots/B/versions/1", "", nil, "MethodNotAllowedException", 405},
		{models, "DELETE", "/bots/B", "DeleteBot", map[string]string{"name": "B"}, "", 0},
		{models, "POST", "/bots/B", "", nil, "MethodNotAllowedException", 405},
		{models, "GET", "/bots/B/utterances?bot_versions=1&status_type=Detected&view=aggregation", "GetUtterancesView", map[string]string{"botname": "B"}, "", 0},
		{models, "GET", "/bots/B/utterances?view=other", "", nil, "UnknownOperationException", 404},
		{models, "GET", "/tags/arn%3Aaws%3Alex%3Aus-east-1%3A123456789012%3Abot%3AOrderFlowers", "ListTagsForResource", map[string]string{"resourceArn": "arn:aws:lex:us-east-1:123456789012:bot:OrderFlowers"}, "", 0},
		{models, "DELETE", "/slottypes/S/version/2", "DeleteSlotTypeVersion", map[string]string{"name": "S", "version": "2"}, "", 0},
		{models, "GET", "/nothing", "", nil, "UnknownOperationException", 404},
		{models, "GET", "/", "", nil, "UnknownOperationException", 404},
		{models, "GET", "/bots//versions/1", "", nil, "UnknownOperationException", 404},
		{models, "GET", "/bots/B/versions/1//", "", nil, "UnknownOperationException", 404},
		{runtime, "GET", "/bot/B/alias/%24LATEST/user/u1/session/", "GetSession", map[string]string{"botAlias": "$LATEST", "userId": "u1"}, "", 0},
		{runtime, "GET", "/bot/B/alias/%24LATEST/user/u1/session", "GetSession", nil, "", 0},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		op, labels, err := Codec{}.Route(tc.svc, r, nil)
		if tc.code != "" {
			e, ok := err.(*awserr.Error)
			if !ok || e.Code != tc.code || e.Status != tc.status {
				t.Errorf("%s %s: got %v %v", tc.method, tc.url, op, err)
			}
			continue
		}
		if err != nil || op.Name != tc.op {
			t.Errorf("%s %s: got %v %v", tc.method, tc.url, op, err)
			continue
		}
		for k, v := range tc.labels {
			if labels[k] != v {
				t.Errorf("%s %s: label %s = %q, want %q", tc.method, tc.url, k, labels[k], v)
			}
		}
	}
}

func decode(t *testing.T, svc *catalog.Service, r *http.Request, body string) (any, error) {
	t.Helper()
	op, labels, err := Codec{}.Route(svc, r, nil)
	if err != nil {
		t.Fatalf("route: %v", err)
	}
	in := op.NewInput()
	var b []byte
	if !op.RawBody {
		b = []byte(body)
	}
	return in, Codec{}.Decode(op, r, labels, b, in)
}

func TestDecode(t *testing.T) {
	// Labels, query (repeated keys, empty = absent).
	in, err := decode(t, models, httptest.NewRequest("GET", "/bots/B/utterances?view=aggregation&bot_versions=1&bot_versions=2&bot_versions=&status_type=Missed", nil), "")
	if err != nil {
		t.Fatal(err)
	}
	if u := in.(*utterancesInput); u.BotName != "B" || len(u.BotVersions) != 2 || u.BotVersions[1] != "2" || u.StatusType != "Missed" {
		t.Fatalf("%+v", u)
	}
	in, err = decode(t, models, httptest.NewRequest("GET", "/bots/?nextToken=&maxResults=5&nameContains=a+b%20c", nil), "")
	if g := in.(*getBotsInput); err != nil || g.NextToken != "" || *g.MaxResults != 5 || g.NameContains != "a b c" {
		t.Fatalf("%+v %v", g, err)
	}

	// Body members; a uri member named like a body key is not set from the body.
	in, err = decode(t, models, httptest.NewRequest("PUT", "/bots/B/versions/$LATEST", nil),
		`{"Name":"evil","description":"d","idleSessionTTLInSeconds":300,"childDirected":false,"intents":[{"intentName":"i","x":[1]}],"unknown":{"a":1},"payload":"aGk="}`)
	if p := in.(*putBotInput); err != nil || p.Name != "B" || p.Description != "d" || *p.TTL != 300 || p.ChildDirected == nil || *p.ChildDirected || p.Intents[0]["intentName"] != "i" || string(p.Payload) != "hi" {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err = decode(t, models, httptest.NewRequest("PUT", "/bots/B/versions/$LATEST", nil), ""); err != nil {
		t.Fatalf("empty body: %v", err)
	}

	// Headers, jsonvalue headers, prefix headers, raw payload.
	r := httptest.NewRequest("POST", "/bot/B/alias/%24LATEST/user/u-1/content", strings.NewReader("hello"))
	r.Header.Set("Content-Type", "text/plain; charset=utf-8")
	r.Header.Set("x-amz-lex-session-attributes", "eyJhIjoiYiJ9")
	r.Header.Set("x-amz-lex-active-contexts", "W3sibmFtZSI6ImMifV0=")
	r.Header.Set("x-amz-lex-request-attributes", "eyJjaGFubmVsIjoid2ViIn0=")
	r.Header.Set("x-count", "7")
	r.Header.Set("x-flag", "true")
	r.Header.Set("X-Meta-Color", "blue")
	in, err = decode(t, runtime, r, "")
	if err != nil {
		t.Fatal(err)
	}
	pc := in.(*postContentInput)
	body, _ := io.ReadAll(pc.InputStream)
	if pc.BotAlias != "$LATEST" || pc.UserID != "u-1" || pc.ContentType != "text/plain; charset=utf-8" || pc.SessionAttributes["a"] != "b" ||
		len(pc.ActiveContexts) != 1 || pc.RequestAttrsText != `{"channel":"web"}` || *pc.Count != 7 || !pc.Flag || pc.Meta["color"] != "blue" || string(body) != "hello" {
		t.Fatalf("%+v %q", pc, body)
	}

	bad := []struct {
		method, url, body string
		header            [2]string
		msg               string
	}{
		{"PUT", "/bots/B/versions/$LATEST", `{"description":5}`, [2]string{}, "Member 'description' must be a string, not a number."},
		{"PUT", "/bots/B/versions/$LATEST", `{"idleSessionTTLInSeconds":1.5}`, [2]string{}, "Member 'idleSessionTTLInSeconds' must be an integer in range, not the number 1.5."},
		{"PUT", "/bots/B/versions/$LATEST", `{"tags":[{"key":1}]}`, [2]string{}, "Each element of member 'tags' must be a string"},
		{"PUT", "/bots/B/versions/$LATEST", `{`, [2]string{}, "not valid JSON"},
		{"PUT", "/bots/B/versions/$LATEST", `[1]`, [2]string{}, "must be a JSON object"},
		{"GET", "/bots/?maxResults=ten", "", [2]string{}, `Invalid value "ten" for query parameter maxResults: expected an integer in range.`},
		{"GET", "/bots/?maxResults=99999999999", "", [2]string{}, "maxResults"},
		{"POST", "/bot/B/alias/A/user/U/content", "", [2]string{"x-amz-lex-session-attributes", "not base64!"}, "x-amz-lex-session-attributes"},
		{"POST", "/bot/B/alias/A/user/U/content", "", [2]string{"x-amz-lex-session-attributes", "WzFd"}, "x-amz-lex-session-attributes"},
		{"POST", "/bot/B/alias/A/user/U/content", "", [2]string{"x-amz-lex-request-attributes", "bm90IGpzb24="}, "x-amz-lex-request-attributes"},
		{"POST", "/bot/B/alias/A/user/U/content", "", [2]string{"x-count", "x"}, "x-count"},
		{"POST", "/bot/B/alias/A/user/U/content", "", [2]string{"x-flag", "maybe"}, "true or false"},
	}
	for _, tc := range bad {
		r := httptest.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
		if tc.header[0] != "" {
			r.Header.Set(tc.header[0], tc.header[1])
		}
		svc := models
		if strings.HasPrefix(tc.url, "/bot/") {
			svc = runtime
		}
		_, err := decode(t, svc, r, tc.body)
		e, ok := err.(*awserr.Error)
		if !ok || e.Code != "BadRequestException" || e.Status != 400 || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s %s %s %v: got %v, want %q", tc.method, tc.url, tc.body, tc.header, err, tc.msg)
		}
	}
}

func call(svc *catalog.Service, op string) *catalog.Call {
	return &catalog.Call{RequestID: "rid", Op: svc.Op(op), Header: http.Header{}}
}

func TestEncode(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := (Codec{}).Encode(rec, call(models, "GetBot"), &getBotOutput{Name: "B", Version: "$LATEST", CreatedDate: protocol.TimePtr(time.UnixMilli(1494360160133))}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("x-amzn-RequestId") != "rid" ||
		rec.Body.String() != `{"name":"B","version":"$LATEST","createdDate":1494360160.133}` {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}

	// 204: no body.
	rec = httptest.NewRecorder()
	if err := (Codec{}).Encode(rec, call(models, "DeleteBot"), &struct{}{}); err != nil || rec.Code != 204 || rec.Body.Len() != 0 {
		t.Fatalf("%d %q %v", rec.Code, rec.Body, err)
	}

	// Headers, jsonvalue headers, raw payload, c.Status.
	rec = httptest.NewRecorder()
	c := call(runtime, "PostContent")
	c.Header.Set("x-extra", "1")
	v := "$LATEST"
	err := Codec{}.Encode(rec, c, &postContentOutput{ContentType: "audio/mpeg", IntentName: "Order", Slots: map[string]any{"FlowerType": nil},
		SessionAttributes: map[string]string{}, BotVersion: &v, Stamp: protocol.NewTime(time.Unix(1494360160, 0)), AudioStream: []byte("ID3")})
	if err != nil {
		t.Fatal(err)
	}
	h := rec.Header()
	if h.Get("Content-Type") != "audio/mpeg" || h.Get("x-amz-lex-intent-name") != "Order" || h.Get("x-amz-lex-slots") != "eyJGbG93ZXJUeXBlIjpudWxsfQ==" ||
		h.Get("x-amz-lex-session-attributes") != "e30=" || h.Get("x-amz-lex-bot-version") != "$LATEST" || h.Get("x-extra") != "1" ||
		h.Get("Last-Modified") != "Tue, 09 May 2017 20:02:40 GMT" || rec.Body.String() != "ID3" {
		t.Fatalf("%v %q", h, rec.Body)
	}

	// statusCode member, header beside a JSON body.
	rec = httptest.NewRecorder()
	if err := (Codec{}).Encode(rec, call(runtime, "PostText"), &postTextOutput{Status: 202, Header: "h", Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 202 || rec.Header().Get("x-h") != "h" || rec.Body.String() != `{"message":"m"}` {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}

	// Streamed payload.
	type streamOut struct {
		Body io.ReadCloser `location:"payload"`
	}
	rec = httptest.NewRecorder()
	if err := (Codec{}).Encode(rec, call(runtime, "PostContent"), &streamOut{Body: io.NopCloser(strings.NewReader("stream"))}); err != nil || rec.Body.String() != "stream" {
		t.Fatalf("%q %v", rec.Body, err)
	}
}

func TestEncodeError(t *testing.T) {
	rec := httptest.NewRecorder()
	e := awserr.New(429, "LimitExceededException", "slow down")
	e.Header = http.Header{"Retry-After": {"5"}}
	Codec{}.EncodeError(rec, models, "rid", e)
	if rec.Code != 429 || rec.Header().Get("x-amzn-ErrorType") != "LimitExceededException" || rec.Header().Get("Retry-After") != "5" ||
		rec.Header().Get("x-amzn-RequestId") != "rid" || rec.Header().Get("Content-Type") != "application/json" || rec.Body.String() != `{"message":"slow down"}` {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	Codec{}.EncodeError(rec, runtime, "rid", awserr.New(502, "BadGatewayException", "lambda failed"))
	if rec.Code != 502 || rec.Body.String() != `{"Message":"lambda failed"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	e = awserr.New(400, "ResourceInUseException", "in use").With("referenceType", "Bot")
	e.OmitMessage = true
	Codec{}.EncodeError(rec, models, "rid", e)
	var m map[string]any
	if json.Unmarshal(rec.Body.Bytes(), &m); len(m) != 1 || m["referenceType"] != "Bot" {
		t.Fatalf("%s", rec.Body)
	}
}

func BenchmarkRouteDecode(b *testing.B) {
	body := []byte(`{"description":"d","idleSessionTTLInSeconds":300,"childDirected":false}`)
	r := httptest.NewRequest("PUT", "/bots/OrderFlowers/versions/%24LATEST", nil)
	b.ReportAllocs()
	for b.Loop() {
		op, labels, err := Codec{}.Route(models, r, body)
		if err != nil {
			b.Fatal(err)
		}
		if err := (Codec{}).Decode(op, r, labels, body, op.NewInput()); err != nil {
			b.Fatal(err)
		}
	}
}
