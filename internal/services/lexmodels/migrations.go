package lexmodels

import (
	"context"

	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
)

// Migration to Lex V2 (spec §2.16). lextrail has no Lex V2 service, so a
// migration can never be performed: StartMigration validates its input,
// answers NotFound for an unknown V1 bot, and otherwise refuses with a 400
// BadRequestException that says why. No migration ever exists, so
// GetMigrations is empty and GetMigration is NotFound.

var reV2BotName = mustPattern(`^([0-9a-zA-Z][_-]?)+$`)

// StartMigrationInput is POST /migrations.
type StartMigrationInput struct {
	V1BotName         string `json:"v1BotName"`
	V1BotVersion      string `json:"v1BotVersion"`
	V2BotName         string `json:"v2BotName"`
	V2BotRole         string `json:"v2BotRole"`
	MigrationStrategy string `json:"migrationStrategy"`
}

// MigrationOutput is StartMigration's result shape (never produced).
type MigrationOutput struct {
	V1BotName          string         `json:"v1BotName,omitempty"`
	V1BotVersion       string         `json:"v1BotVersion,omitempty"`
	V1BotLocale        string         `json:"v1BotLocale,omitempty"`
	V2BotID            string         `json:"v2BotId,omitempty"`
	V2BotRole          string         `json:"v2BotRole,omitempty"`
	MigrationID        string         `json:"migrationId,omitempty"`
	MigrationStrategy  string         `json:"migrationStrategy,omitempty"`
	MigrationTimestamp *protocol.Time `json:"migrationTimestamp,omitempty"`
}

// ErrNoLexV2 is the StartMigration refusal's message.
const ErrNoLexV2 = "lextrail does not include Amazon Lex V2, so bots cannot be migrated to it. Export the bot with GetExport (LEX format) and import it into Lex V2 on AWS instead."

func (s *Service) startMigration(ctx context.Context, c *catalog.Call, in *StartMigrationInput) (*MigrationOutput, error) {
	var ck checker
	if ck.required(in.V1BotName != "", "v1BotName") {
		ck.str("v1BotName", in.V1BotName, 2, 50, reName)
	}
	if ck.required(in.V1BotVersion != "", "v1BotVersion") {
		ck.str("v1BotVersion", in.V1BotVersion, 1, 64, reVersion)
	}
	if ck.required(in.V2BotName != "", "v2BotName") {
		ck.str("v2BotName", in.V2BotName, 1, 100, reV2BotName)
	}
	if ck.required(in.V2BotRole != "", "v2BotRole") {
		ck.str("v2BotRole", in.V2BotRole, 20, 2048, reV2BotRole)
	}
	if ck.required(in.MigrationStrategy != "", "migrationStrategy") {
		ck.enum("migrationStrategy", in.MigrationStrategy, "CREATE_NEW", "UPDATE_EXISTING")
	}
	if err := ck.err(); err != nil {
		return nil, err
	}
	ok, err := exists(ctx, c.Tx, scopeOf(c), kindBot, in.V1BotName, in.V1BotVersion)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("The bot %s version %s does not exist.", in.V1BotName, in.V1BotVersion)
	}
	return nil, badRequest(ErrNoLexV2)
}

// MigrationInput is GET /migrations/{migrationId}.
type MigrationInput struct {
	MigrationID string `location:"uri" locationName:"migrationId" json:"migrationId"`
}

func (s *Service) getMigration(_ context.Context, _ *catalog.Call, in *MigrationInput) (*MigrationOutput, error) {
	var ck checker
	ck.str("migrationId", in.MigrationID, 10, 10, reMigrationID)
	if err := ck.err(); err != nil {
		return nil, err
	}
	return nil, notFound("The migration %s does not exist. lextrail does not perform migrations to Lex V2.", in.MigrationID)
}

// MigrationsInput is GET /migrations.
type MigrationsInput struct {
	SortByAttribute       string  `location:"querystring" locationName:"sortByAttribute" json:"sortByAttribute,omitempty"`
	SortByOrder           string  `location:"querystring" locationName:"sortByOrder" json:"sortByOrder,omitempty"`
	V1BotNameContains     *string `location:"querystring" locationName:"v1BotNameContains" json:"v1BotNameContains,omitempty"`
	MigrationStatusEquals string  `location:"querystring" locationName:"migrationStatusEquals" json:"migrationStatusEquals,omitempty"`
	MaxResults            *int    `location:"querystring" locationName:"maxResults" json:"maxResults,omitempty"`
	NextToken             *string `location:"querystring" locationName:"nextToken" json:"nextToken,omitempty"`
}

// MigrationsOutput is the (always empty) list.
type MigrationsOutput struct {
	MigrationSummaries []MigrationOutput `json:"migrationSummaries"`
	NextToken          *string           `json:"nextToken,omitempty"`
}

func (s *Service) getMigrations(_ context.Context, _ *catalog.Call, in *MigrationsInput) (*MigrationsOutput, error) {
	var ck checker
	if in.SortByAttribute != "" {
		ck.enum("sortByAttribute", in.SortByAttribute, "V1_BOT_NAME", "MIGRATION_DATE_TIME")
	}
	if in.SortByOrder != "" {
		ck.enum("sortByOrder", in.SortByOrder, "ASCENDING", "DESCENDING")
	}
	if in.MigrationStatusEquals != "" {
		ck.enum("migrationStatusEquals", in.MigrationStatusEquals, "IN_PROGRESS", "COMPLETED", "FAILED")
	}
	if in.V1BotNameContains != nil {
		ck.str("v1BotNameContains", *in.V1BotNameContains, 2, 50, reName)
	}
	if err := ck.err(); err != nil {
		return nil, err
	}
	if _, err := maxResults(in.MaxResults, 10); err != nil {
		return nil, err
	}
	if _, err := decodeToken(in.NextToken); err != nil {
		return nil, err
	}
	return &MigrationsOutput{MigrationSummaries: []MigrationOutput{}}, nil
}
