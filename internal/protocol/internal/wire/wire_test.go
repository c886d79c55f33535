package wire

import (
	"context"
	"net/http/httptest"
	"reflect"
	"testing"

	"lextrail/internal/catalog"
)

func TestParseRouteErrors(t *testing.T) {
	for _, b := range []string{"", "GET", "GET bots", "GET /a/{}/b", "GET /a/{x+}/b", "GET /a//b", "GET /a?=x", "GET /a/{x"} {
		if _, err := ParseRoute(b); err == nil {
			t.Errorf("%q: no error", b)
		}
	}
	r, err := ParseRoute("GET /bots/{name}/versions/$LATEST?view=aggregation&x")
	if err != nil || len(r.segs) != 4 || r.lits != 3 || len(r.query) != 2 || !r.query[0].hasValue || r.query[1].hasValue {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestCompileErrorFailsEveryRequest(t *testing.T) {
	op := catalog.Define(catalog.Operation{Name: "X", HTTP: "GET nope"}, func(context.Context, *catalog.Call, *struct{}) (*struct{}, error) { return nil, nil })
	rt := Compile([]*catalog.Operation{op})
	if _, err := rt.Match(httptest.NewRequest("GET", "/", nil)); err == nil {
		t.Fatal("no error")
	}
}

func TestInfo(t *testing.T) {
	type embedded struct{ A string }
	type bad struct {
		embedded
		B string `location:"uri"`
	}
	if InfoOf(reflect.TypeFor[bad]()).Err == nil {
		t.Error("embedded body member beside a located one accepted")
	}
	type badLoc struct {
		B string `location:"cookie"`
	}
	if InfoOf(reflect.TypeFor[badLoc]()).Err == nil {
		t.Error("unknown location accepted")
	}
	type twoPayloads struct {
		A []byte `location:"payload"`
		B []byte `location:"payload"`
	}
	if InfoOf(reflect.TypeFor[twoPayloads]()).Err == nil {
		t.Error("two payloads accepted")
	}
	type ok struct {
		Name string `location:"uri" locationName:"name"`
		Body string `json:"body"`
		x    int
	}
	i := InfoOf(reflect.TypeFor[ok]())
	if i.Err != nil || i.Shadow == nil || i.Shadow.NumField() != 1 || len(i.Located) != 1 {
		t.Fatalf("%+v", i)
	}
	if InfoOf(reflect.TypeFor[ok]()) != i {
		t.Error("not cached")
	}
}
