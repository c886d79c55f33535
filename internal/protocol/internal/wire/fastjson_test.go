package wire

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"lextrail/internal/protocol"
)

// Types the fast path is compared with encoding/json on.

type fjEvent struct {
	Timestamp *int64  `json:"timestamp,omitempty"`
	Message   *string `json:"message,omitempty"`
}

type fjPut struct {
	LogGroupName  *string   `json:"logGroupName,omitempty"`
	LogStreamName *string   `json:"logStreamName,omitempty"`
	LogEvents     []fjEvent `json:"logEvents,omitempty"`
	SequenceToken *string   `json:"sequenceToken,omitempty"`
}

type fjName string

type fjTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

type fjAll struct {
	StartTime  *protocol.Time `json:"StartTime,omitempty"`
	EndTime    protocol.Time
	MaxResults *int32 `json:"MaxResults,omitempty"`
	Count      uint8
	Big        uint64
	Small      int8
	Tags       []fjTag `json:"TagsList,omitempty"`
	Attributes map[string]string
	Named      map[fjName]*fjTag
	Blob       []byte
	Flag       bool
	FlagPtr    *bool
	Ratio      float64
	Nested     *fjAll `json:"Nested,omitempty"`
	Any        any
	unexported int
	Skipped    string `json:"-"`
	Dash       string `json:"-,"`
	Weird      string `json:"a b"`
	Bad        string `json:"\x01"`
	Name       fjName
	Names      []fjName
	Matrix     [][]int
	Arr        [2]int
	Raw        json.RawMessage
	Strs       []*string
}

type fjEmbedded struct {
	fjTag
	X int
}

type fjCase struct {
	A string `json:"a"`
	B string `json:"A"`
}

type fjQuoted struct {
	N int `json:"n,string"`
}

var fjSeeds = []string{
	`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1700000000000,"message":"{\"botName\":\"OrderFlowers\",\"x\":[1,2]}"},{"message":"plain","timestamp":-1}]}`,
	`{"logEvents":[]}`, `{"logEvents":null}`, `{"logEvents":[null,{}]}`, `{}`, `null`, ` { } `, `{"logGroupName":null}`,
	`{"logGroupName":"a","logGroupName":"b"}`, `{"LogGroupName":"a"}`, `{"loggroupname":"a"}`, `{"unknown":{"a":[1,{"b":null}]},"logGroupName":"x"}`,
	`{"logGroupName":"\u00e9\ud83d\ude00\t\n\"\\\/\b\f\r"}`, `{"logGroupName":"\ud83d"}`, `{"logGroupName":"\ud83dx"}`, `{"logGroupName":"\udc00\ud83d"}`,
	"{\"logGroupName\":\"\xff\"}", "{\"logGroupName\":\"a\x01\"}", `{"logGroupName":"é"}`, `{"logGroupName":"\u0000"}`,
	`{"logEvents":[{"timestamp":1.5}]}`, `{"logEvents":[{"timestamp":1e3}]}`, `{"logEvents":[{"timestamp":01}]}`, `{"logEvents":[{"timestamp":-0}]}`,
	`{"logEvents":[{"timestamp":9223372036854775807}]}`, `{"logEvents":[{"timestamp":9223372036854775808}]}`, `{"logEvents":[{"timestamp":"1"}]}`,
	`{"logEvents":[{"timestamp":-}]}`, `{"logEvents":[{"timestamp":1,}]}`, `{"logEvents":[{"timestamp":1}]`, `{"logEvents":[{"timestamp":1}]} x`, `[1]`, `"x"`, `1`, `tru`,
	`{"StartTime":1494360160.133,"MaxResults":5,"TagsList":[{"Key":"a"}],"Nested":{"Nested":{"Flag":true}}}`,
	`{"StartTime":-1e-400,"EndTime":-0.0000000001,"Blob":"===","Any":[{}]}`, `{"StartTime":"x","Count":300,"Ratio":1e999}`,
	`{"Count":255,"Small":-128,"Big":18446744073709551615}`, `{"Count":256}`, `{"Small":-129}`, `{"Count":-0}`, `{"Big":-1}`,
	`{"Attributes":{"a":"1","a":"2","":""},"Named":{"k":{"Key":"v"},"n":null}}`, `{"Attributes":{}}`, `{"Attributes":null}`, `{"Attributes":{"a":1}}`,
	`{"Blob":"aGVsbG8=","Any":{"x":[1,"2",null,true]},"Raw":{"a" : [ 1 ]},"Arr":[1,2,3],"Matrix":[[1],[],null]}`,
	`{"-":"dash","Skipped":"no","a b":"w","Weird":"ww","\u0001":"x","Bad":"y","unexported":1}`,
	`{"Name":"n","Names":["a","b"],"Strs":["x",null],"FlagPtr":false,"Flag":null}`, `{"Flag":"true"}`, `{"FlagPtr":1}`,
	`{"Nested":{"Nested":{"Nested":{"Key":1}}}}`, `{"TagsList":[{"Key":"a","key":"b"}]}`, `{"TagsList":[{"KEY":"a"}]}`,
	"{\"Key\":\"a\",\"k\u212ay\":\"b\"}", `{"X":1,"Key":"a"}`, `{"a":"1","A":"2"}`, `{"n":"12"}`,
	`{ "logGroupName" : "g" , "logEvents" : [ { "timestamp" : 1 , "message" : "m" } ] }`,
}

// TestFastJSONMatchesEncodingJSON: DecodeJSON's result (value and error)
// is json.Unmarshal's, and whenever the fast path claims a body, json
// accepts it too and produces the same value.
func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range fjSeeds {
		checkFastJSON(t, []byte(s))
	}
}

func FuzzFastJSON(f *testing.F) {
	for _, s := range fjSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFastJSON(t, body) })
}

func checkFastJSON(t *testing.T, body []byte) {
	t.Helper()
	check := func(newV func() any) {
		t.Helper()
		fast, ref, viaDecode := newV(), newV(), newV()
		ok := fastDecode(body, fast)
		err := json.Unmarshal(body, ref)
		if ok {
			if err != nil {
				t.Fatalf("%T %q: fast path accepted, json: %v", fast, body, err)
			}
			if !reflect.DeepEqual(fast, ref) {
				t.Fatalf("%T %q:\nfast %s\njson %s", fast, body, dump(fast), dump(ref))
			}
		}
		derr := DecodeJSON(body, viaDecode)
		if len(strings.TrimSpace(string(body))) == 0 {
			return // DecodeJSON's empty body is {}
		}
		if fmt.Sprint(derr) != fmt.Sprint(err) || !reflect.DeepEqual(viaDecode, ref) {
			t.Fatalf("%T %q: DecodeJSON %v %s, json %v %s", fast, body, derr, dump(viaDecode), err, dump(ref))
		}
	}
	check(func() any { return new(fjPut) })
	check(func() any { return new(fjAll) })
	check(func() any { return new(fjEmbedded) })
	check(func() any { return new(fjCase) })
	check(func() any { return new(fjQuoted) })
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return fmt.Sprintf("%+v %s", v, b)
}

// TestFastJSONClaims: the fast path does handle what clients send (it
// would be no use if it always declined).
func TestFastJSONClaims(t *testing.T) {
	for _, c := range []struct {
		body string
		v    any
	}{
		{fjSeeds[0], new(fjPut)},
		{`{"logGroupName":"\u00e9\ud83d\ude00\t\n\"\\\/\b\f\r"}`, new(fjPut)},
		{`{"StartTime":1494360160.133,"MaxResults":5,"TagsList":[{"Key":"a"}],"Nested":{"Nested":{"Flag":true}}}`, new(fjAll)},
		{`{"unknown":{"a":[1,{"b":null}]},"logGroupName":"x"}`, new(fjPut)},
	} {
		if !fastDecode([]byte(c.body), c.v) {
			t.Errorf("%T %s: declined", c.v, c.body)
		}
	}
	for _, c := range []struct {
		body string
		v    any
	}{
		{`{"LogGroupName":"a"}`, new(fjPut)}, // case-folded member
		{`{"logGroupName":"a","logGroupName":"b"}`, new(fjPut)},
		{`{"logGroupName":"\ud83d"}`, new(fjPut)},
		{`{"X":1}`, new(fjEmbedded)},
		{`{"n":"1"}`, new(fjQuoted)},
	} {
		if fastDecode([]byte(c.body), c.v) {
			t.Errorf("%T %s: claimed", c.v, c.body)
		}
	}
}

func BenchmarkDecodeJSONPutLogEvents(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"logGroupName":"bench","logStreamName":"s0","logEvents":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		msg, _ := json.Marshal(fmt.Sprintf(`{"botName":"OrderFlowers","inputTranscript":"i would like to order flowers","missedUtterance":false,"nluIntentConfidence":0.%02d,"requestId":"%08x-0c7e-4b0b-9d43-2f0f5e1c9a11","sessionAttributes":{"channel":"web"},"slots":{"FlowerType":"roses","PickupDate":null}}`, i%100, i))
		fmt.Fprintf(&sb, `{"timestamp":%d,"message":%s}`, 1700000000000+i, msg)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	for _, c := range []struct {
		name   string
		decode func([]byte, any) error
	}{{"DecodeJSON", DecodeJSON}, {"encoding-json", json.Unmarshal}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var in fjPut
				if err := c.decode(body, &in); err != nil || len(in.LogEvents) != 1000 {
					b.Fatal(err)
				}
			}
		})
	}
}
