package protocol

import (
	"encoding/json"
	"encoding/xml"
	"testing"
	"time"
)

func TestTimeJSON(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.UnixMilli(1494360160133), "1494360160.133"},
		{time.UnixMilli(1494360160100), "1494360160.1"},
		{time.Unix(1494360160, 999999999), "1494360160.999"},
		{time.Unix(1494360160, 0), "1494360160"},
		{time.UnixMilli(-1500), "-1.5"},
		{time.Unix(0, 0), "0"},
	} {
		b, err := json.Marshal(NewTime(tc.t))
		if err != nil || string(b) != tc.want {
			t.Errorf("%v: %s %v, want %s", tc.t, b, err, tc.want)
		}
	}
	for in, wantMS := range map[string]int64{
		"1494360160":           1494360160000,
		"1494360160.133":       1494360160133,
		"1494360160.1339999":   1494360160133,
		"1.494360160133E9":     1494360160133,
		"1.494360160133e+09":   1494360160133,
		"14943601601.33e-1":    1494360160133,
		"-1.5":                 -1500,
		"0":                    0,
		"253402300799":         253402300799000,
		"1494360160.000000001": 1494360160000,
	} {
		var v Time
		if err := json.Unmarshal([]byte(in), &v); err != nil || v.UnixMilli() != wantMS {
			t.Errorf("%s: %v %v (%d)", in, v, err, v.UnixMilli())
		}
	}
	for _, in := range []string{`"2020-01-01T00:00:00Z"`, `true`, `{}`, `[]`, `1e400`, `253402300800`, `-62135596801`, `99999999999999999999`} {
		var v Time
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%s: no error, got %v", in, v)
		}
	}
	var v struct {
		T *Time `json:"t"`
	}
	if err := json.Unmarshal([]byte(`{"t":null}`), &v); err != nil || v.T != nil {
		t.Errorf("null: %v %v", err, v.T)
	}
	var o struct {
		A Time  `json:"a,omitzero"`
		B *Time `json:"b,omitempty"`
	}
	if b, _ := json.Marshal(o); string(b) != "{}" {
		t.Errorf("omitzero: %s", b)
	}
}

func TestTimeXML(t *testing.T) {
	type doc struct {
		T Time `xml:"T"`
		A Time `xml:"a,attr"`
	}
	b, err := xml.Marshal(doc{T: NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))), A: NewTime(time.UnixMilli(1494360160133))})
	if err != nil || string(b) != `<doc a="2017-05-09T20:02:40.133Z"><T>2026-01-02T02:04:05Z</T></doc>` {
		t.Fatalf("%s %v", b, err)
	}
	var d doc
	if err := xml.Unmarshal([]byte(`<doc a="2017-05-09T20:02:40.133+00:00"><T>2026-01-02T02:04:05Z</T></doc>`), &d); err != nil ||
		d.A.UnixMilli() != 1494360160133 || d.T.Unix() != 1767319445 {
		t.Fatalf("%+v %v", d, err)
	}
	if err := xml.Unmarshal([]byte(`<doc><T>yesterday</T></doc>`), &d); err == nil {
		t.Fatal("no error for a bad time")
	}
}

func TestTooLarge(t *testing.T) {
	if e := TooLarge(nil); e.Status != 413 || e.Code != "RequestEntityTooLarge" {
		t.Fatal(e)
	}
}
