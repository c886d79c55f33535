package restjson

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lex "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	"lextrail/internal/protocol/internal/codectest"
)

// TestSDKRoundTrip drives the codec with aws-sdk-go-v2's Lex model
// building client.
func TestSDKRoundTrip(t *testing.T) {
	srv := httptest.NewServer(codectest.Handler(Codec{}, models))
	defer srv.Close()
	client := lex.New(lex.Options{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
	ctx := context.Background()

	bot, err := client.GetBot(ctx, &lex.GetBotInput{Name: aws.String("OrderFlowers"), VersionOrAlias: aws.String("$LATEST")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(bot.Name) != "OrderFlowers" || aws.ToString(bot.Version) != "$LATEST" || bot.Status != types.StatusReady ||
		bot.CreatedDate.UnixMilli() != 1494360160133 || bot.LastUpdatedDate != nil || aws.ToInt32(bot.IdleSessionTTLInSeconds) != 300 {
		t.Fatalf("%+v", bot)
	}

	_, err = client.GetBot(ctx, &lex.GetBotInput{Name: aws.String("Nope"), VersionOrAlias: aws.String("1")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "The bot Nope does not exist" {
		t.Fatalf("%v", err)
	}

	bots, err := client.GetBots(ctx, &lex.GetBotsInput{MaxResults: aws.Int32(10), NameContains: aws.String("a b/c")})
	if err != nil || len(bots.Bots) != 1 || aws.ToString(bots.NextToken) != "a b/c" {
		t.Fatalf("%+v %v", bots, err)
	}

	put, err := client.PutBot(ctx, &lex.PutBotInput{Name: aws.String("B"), Locale: types.LocaleEnUs, ChildDirected: aws.Bool(false)})
	if err != nil || aws.ToString(put.Name) != "B" {
		t.Fatalf("%+v %v", put, err)
	}

	if _, err := client.DeleteBot(ctx, &lex.DeleteBotInput{Name: aws.String("idle")}); err != nil {
		t.Fatal(err)
	}
	_, err = client.DeleteBot(ctx, &lex.DeleteBotInput{Name: aws.String("busy")})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) || inUse.ReferenceType != types.ReferenceTypeBotalias || aws.ToString(inUse.ExampleReference.Name) != "prod" || inUse.Message != nil {
		t.Fatalf("%v", err)
	}

	if _, err := client.GetUtterancesView(ctx, &lex.GetUtterancesViewInput{BotName: aws.String("B"), BotVersions: []string{"1", "2"}, StatusType: types.StatusTypeDetected}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListTagsForResource(ctx, &lex.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:lex:us-east-1:123456789012:bot:B")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.UntagResource(ctx, &lex.UntagResourceInput{ResourceArn: aws.String("arn:aws:lex:us-east-1:123456789012:bot:B"), TagKeys: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
}
