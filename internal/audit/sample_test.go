package audit

import (
	"context"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/identity"
)

type sampleIn struct {
	Name string `json:"name"`
}

func sampleCall() *catalog.Call {
	svc := catalog.NewService(&catalog.Service{Name: "sts", SigningName: "sts", EventSource: "sts.amazonaws.com", Protocol: catalog.Query, Global: true,
		Ops: []*catalog.Operation{catalog.Define(catalog.Operation{Name: "GetCallerIdentity", ReadOnly: true, Audited: true},
			func(_ context.Context, _ *catalog.Call, _ *sampleIn) (*sampleIn, error) { return nil, nil })}})
	return &catalog.Call{RequestID: "11111111-2222-4333-8444-555555555555", Op: svc.Op("GetCallerIdentity"), Region: "eu-west-1",
		Principal: identity.Root("123456789012", "AKIAEXAMPLEROOT00001"), SourceIP: "127.0.0.1", UserAgent: "aws-sdk-go-v2/1.0"}
}

func sampleEvent() *Event {
	return Build(sampleCall(), &sampleIn{}, nil, nil, time.Unix(1767225600, 0))
}
