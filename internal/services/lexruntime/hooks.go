package lexruntime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/dialog"
)

// HookConfig says how code hooks reach their functions. A function ARN
// found in FunctionURLs is POSTed to that URL; any other goes to the AWS
// Lambda Invoke API at LambdaEndpoint. With neither, a code hook fails its
// turn with 424 DependencyFailedException.
type HookConfig struct {
	// FunctionURLs maps a function ARN (or its bare function name) to a
	// plain HTTP(S) URL that receives the messageVersion 1.0 event as a
	// JSON POST and answers the function's JSON response (2xx) or fails
	// (anything else).
	FunctionURLs map[string]string
	// LambdaEndpoint is the Lambda Invoke API endpoint: real AWS
	// (https://lambda.us-east-1.amazonaws.com) or any Lambda-compatible
	// runtime. Empty: Lambda is not used.
	LambdaEndpoint string
	// LambdaRegion signs Invoke requests; default the function ARN's
	// region, else us-east-1.
	LambdaRegion string
	// Credentials sign Invoke requests; empty: anonymous requests (for
	// local Lambda-compatible runtimes that check nothing).
	Credentials aws.Credentials
	// HTTPClient is used for both kinds of call (default
	// http.DefaultClient; the engine bounds every call with its 30 s
	// timeout through the context).
	HTTPClient *http.Client
}

// NewInvoker returns the code hook invoker cfg describes.
func NewInvoker(cfg HookConfig) dialog.Invoker {
	inv := &invoker{urls: cfg.FunctionURLs, http: cfg.HTTPClient}
	if inv.http == nil {
		inv.http = http.DefaultClient
	}
	if cfg.LambdaEndpoint != "" {
		inv.lambda = &lambdaInvoker{cfg: cfg, clients: map[string]*lambda.Client{}}
	}
	return inv
}

type invoker struct {
	urls   map[string]string
	http   *http.Client
	lambda *lambdaInvoker
}

func (inv *invoker) Invoke(ctx context.Context, arn string, event []byte) ([]byte, error) {
	url, ok := inv.urls[arn]
	if !ok {
		url, ok = inv.urls[functionName(arn)]
	}
	if ok {
		return inv.post(ctx, url, event)
	}
	if inv.lambda != nil {
		return inv.lambda.invoke(ctx, arn, event)
	}
	return nil, fmt.Errorf("lextrail cannot reach the Lambda function %s: no Lambda endpoint (--lambda-endpoint) or function URL (--lambda-function-url) is configured for it", arn)
}

// post sends the event to a function URL.
func (inv *invoker) post(ctx context.Context, url string, event []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := inv.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling the function URL: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, dialog.MaxHookResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading the function's answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("the function URL answered HTTP %d: %.200s", resp.StatusCode, body)
	}
	return body, nil
}

// functionName is the function name part of a Lambda ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]).
func functionName(arn string) string {
	p := strings.Split(arn, ":")
	if len(p) >= 7 && p[5] == "function" {
		return p[6]
	}
	return arn
}

func arnRegion(arn string) string {
	if p := strings.Split(arn, ":"); len(p) >= 4 && p[0] == "arn" && p[3] != "" {
		return p[3]
	}
	return ""
}

type lambdaInvoker struct {
	cfg     HookConfig
	mu      sync.Mutex
	clients map[string]*lambda.Client
}

func (l *lambdaInvoker) client(region string) *lambda.Client {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.clients[region]; ok {
		return c
	}
	o := lambda.Options{
		Region:           region,
		BaseEndpoint:     aws.String(l.cfg.LambdaEndpoint),
		RetryMaxAttempts: 1,
	}
	if l.cfg.HTTPClient != nil {
		o.HTTPClient = l.cfg.HTTPClient
	}
	if l.cfg.Credentials.AccessKeyID != "" {
		o.Credentials = credentials.StaticCredentialsProvider{Value: l.cfg.Credentials}
	} else {
		o.Credentials = aws.AnonymousCredentials{}
	}
	c := lambda.New(o)
	l.clients[region] = c
	return c
}

func (l *lambdaInvoker) invoke(ctx context.Context, arn string, event []byte) ([]byte, error) {
	region := l.cfg.LambdaRegion
	if region == "" {
		region = arnRegion(arn)
	}
	if region == "" {
		region = "us-east-1"
	}
	out, err := l.client(region).Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(arn),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        event,
	})
	if err != nil {
		var re interface{ HTTPStatusCode() int }
		var ae smithy.APIError
		if errors.As(err, &re) && re.HTTPStatusCode() >= 500 || !errors.As(err, &ae) && ctx.Err() == nil {
			return nil, &dialog.ServiceError{Err: err}
		}
		return nil, err
	}
	if out.FunctionError != nil {
		return nil, fmt.Errorf("the Lambda function %s failed (%s): %.300s", arn, *out.FunctionError, out.Payload)
	}
	return out.Payload, nil
}
