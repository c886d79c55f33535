package lexmodels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"lextrail/internal/nlu"
	"lextrail/internal/services/lexmodels/build"
	"lextrail/internal/store"
)

// A PartCompiler adds a part to the builds of the bot versions it wants —
// the speech recogniser's grammar for voice bots. The build worker runs it
// after the bot version compiled, stores its output beside the artefact
// in the same transaction, and a failure fails the build with the
// compiler's reason. Parts are read back with LoadPart.
type PartCompiler interface {
	// Part names the part ("speech-grammar").
	Part() string
	// Wants says whether this bot version gets the part (a bot's settings
	// decide: a recognition grammar only for bots with a voiceId).
	Wants(bot BuildSettings) bool
	// CompilePart compiles the part from the version's language-model
	// spec.
	CompilePart(spec nlu.ModelSpec) ([]byte, error)
}

// BuildSettings are the bot settings a PartCompiler decides by.
type BuildSettings struct {
	Name, Version, Locale, VoiceID string
	ChildDirected                  bool
}

// compileParts runs the configured compilers for a compiled model; it
// returns the parts by name, or the reasons the build fails.
func (s *Service) compileParts(m *build.Model) (map[string][]byte, []string) {
	if len(s.cfg.Parts) == 0 {
		return nil, nil
	}
	var def struct {
		VoiceID       string `json:"voiceId"`
		ChildDirected bool   `json:"childDirected"`
	}
	_ = json.Unmarshal(m.Definition, &def) // validated when stored
	bs := BuildSettings{Name: m.Bot, Version: m.Version, Locale: m.Locale, VoiceID: def.VoiceID, ChildDirected: def.ChildDirected}
	var spec *nlu.ModelSpec
	parts := map[string][]byte{}
	var reasons []string
	for _, pc := range s.cfg.Parts {
		if !pc.Wants(bs) {
			continue
		}
		if spec == nil {
			sp := build.NLUSpec(m)
			spec = &sp
		}
		b, err := pc.CompilePart(*spec)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("Compiling the %s failed: %v", pc.Part(), err))
			continue
		}
		parts[pc.Part()] = b
	}
	return parts, reasons
}

// storeParts replaces a bot version's parts with those of its new build.
func storeParts(ctx context.Context, tx *store.Tx, acct, region, bot, version, modelID string, parts map[string][]byte) error {
	if _, err := tx.Exec(ctx, `DELETE FROM lex_model_parts WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_version=$4`,
		acct, region, bot, version); err != nil {
		return err
	}
	for part, data := range parts {
		if _, err := tx.Exec(ctx, `INSERT INTO lex_model_parts (account_id, region, bot_name, bot_version, part, model_id, data) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			acct, region, bot, version, part, modelID, string(data)); err != nil {
			return err
		}
	}
	return nil
}

// LoadPart returns the named part of a bot version's current build, or
// nil when that build has none (built before the part existed, or not
// wanted for this bot).
func LoadPart(ctx context.Context, tx *store.Tx, accountID, region, bot, version, part string) ([]byte, error) {
	var data string
	err := tx.QueryRow(ctx, `SELECT p.data FROM lex_model_parts p JOIN lex_models m
		ON m.account_id=p.account_id AND m.region=p.region AND m.bot_name=p.bot_name AND m.bot_version=p.bot_version AND m.model_id=p.model_id
		WHERE p.account_id=$1 AND p.region=$2 AND p.bot_name=$3 AND p.bot_version=$4 AND p.part=$5`,
		accountID, region, bot, version, part).Scan(&data)
	if errors.Is(err, errNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []byte(data), nil
}
