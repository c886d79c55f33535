package tts

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Voice is an espeak-ng rendering of an Amazon Polly voice.
type Voice struct {
	// Polly is the Polly voice name (a bot's voiceId).
	Polly string
	// Locale is the Polly voice's language.
	Locale string
	// Gender is "Female" or "Male".
	Gender string
	// Espeak is the espeak-ng voice with its variant ("en-us+f3").
	Espeak string
	// Pitch (0–99, espeak-ng's default 50) and Speed (words per minute,
	// default 175).
	Pitch, Speed int
}

// Voices maps Polly voice names (those of Lex V1's locales) to espeak-ng
// voices of the same language and gender. espeak-ng has one voice per
// accent (en-us, en-gb, es for Spain, es-419 for Latin America); the
// Polly voices of one accent differ by variant (f1–f5 female, m1–m7
// male) and pitch. Child voices (Ivy, Justin, Kevin) get a higher pitch.
// Accents espeak-ng lacks fall back to the nearest (en-AU, en-IN, en-ZA,
// en-NZ, en-GB-WLS → en-gb; es-US, es-MX → es-419).
var Voices = []Voice{
	// en-US
	{"Salli", "en-US", "Female", "en-us+f3", 55, 170},
	{"Joanna", "en-US", "Female", "en-us+f2", 50, 170},
	{"Kendra", "en-US", "Female", "en-us+f4", 45, 170},
	{"Kimberly", "en-US", "Female", "en-us+f5", 55, 175},
	{"Ivy", "en-US", "Female", "en-us+f1", 75, 170},
	{"Ruth", "en-US", "Female", "en-us+f2", 45, 165},
	{"Danielle", "en-US", "Female", "en-us+f4", 50, 165},
	{"Joey", "en-US", "Male", "en-us+m3", 45, 175},
	{"Justin", "en-US", "Male", "en-us+m5", 70, 175},
	{"Kevin", "en-US", "Male", "en-us+m4", 72, 175},
	{"Matthew", "en-US", "Male", "en-us+m1", 40, 170},
	{"Stephen", "en-US", "Male", "en-us+m2", 45, 170},
	{"Gregory", "en-US", "Male", "en-us+m6", 38, 165},
	// en-GB
	{"Amy", "en-GB", "Female", "en-gb+f2", 50, 170},
	{"Emma", "en-GB", "Female", "en-gb+f3", 55, 170},
	{"Brian", "en-GB", "Male", "en-gb+m3", 42, 170},
	{"Arthur", "en-GB", "Male", "en-gb+m1", 40, 165},
	// other English accents → en-gb
	{"Nicole", "en-AU", "Female", "en-gb+f4", 50, 170},
	{"Olivia", "en-AU", "Female", "en-gb+f2", 55, 170},
	{"Russell", "en-AU", "Male", "en-gb+m2", 45, 170},
	{"Aditi", "en-IN", "Female", "en-gb+f5", 55, 165},
	{"Raveena", "en-IN", "Female", "en-gb+f3", 50, 165},
	{"Kajal", "en-IN", "Female", "en-gb+f1", 55, 165},
	{"Geraint", "en-GB-WLS", "Male", "en-gb+m4", 45, 170},
	{"Aria", "en-NZ", "Female", "en-gb+f2", 50, 170},
	{"Ayanda", "en-ZA", "Female", "en-gb+f4", 50, 170},
	// es-ES (Spain: espeak-ng "es", with θ)
	{"Conchita", "es-ES", "Female", "es+f2", 50, 165},
	{"Lucia", "es-ES", "Female", "es+f3", 55, 165},
	{"Enrique", "es-ES", "Male", "es+m3", 42, 165},
	{"Sergio", "es-ES", "Male", "es+m1", 45, 165},
	// es-US and es-MX (espeak-ng "es-419")
	{"Penelope", "es-US", "Female", "es-419+f3", 50, 165},
	{"Lupe", "es-US", "Female", "es-419+f4", 55, 165},
	{"Miguel", "es-US", "Male", "es-419+m2", 42, 165},
	{"Pedro", "es-US", "Male", "es-419+m1", 45, 165},
	{"Mia", "es-MX", "Female", "es-419+f2", 55, 165},
	{"Andres", "es-MX", "Male", "es-419+m3", 45, 165},
	// other Lex V1 locales (the NLU is English and Spanish; these keep a
	// bot's voice speaking its language)
	{"Celine", "fr-FR", "Female", "fr+f2", 50, 165},
	{"Lea", "fr-FR", "Female", "fr+f3", 55, 165},
	{"Mathieu", "fr-FR", "Male", "fr+m3", 45, 165},
	{"Chantal", "fr-CA", "Female", "fr+f4", 50, 165},
	{"Gabrielle", "fr-CA", "Female", "fr+f2", 55, 165},
	{"Marlene", "de-DE", "Female", "de+f2", 50, 165},
	{"Vicki", "de-DE", "Female", "de+f3", 55, 165},
	{"Hans", "de-DE", "Male", "de+m3", 45, 165},
	{"Daniel", "de-DE", "Male", "de+m1", 42, 165},
	{"Carla", "it-IT", "Female", "it+f2", 50, 165},
	{"Bianca", "it-IT", "Female", "it+f3", 55, 165},
	{"Giorgio", "it-IT", "Male", "it+m3", 45, 165},
	{"Adriano", "it-IT", "Male", "it+m1", 42, 165},
}

// localeDefault is the voice used when a bot has no voiceId (or an
// unknown one) but a reply must be spoken.
var localeDefault = map[string]string{
	"en-US": "Salli", "en-GB": "Amy", "en-AU": "Nicole", "en-IN": "Aditi",
	"es-ES": "Conchita", "es-US": "Penelope", "es-419": "Mia", "es-MX": "Mia",
	"fr-FR": "Celine", "fr-CA": "Chantal", "de-DE": "Marlene", "it-IT": "Carla",
}

var byName = func() map[string]Voice {
	m := map[string]Voice{}
	for _, v := range Voices {
		m[foldName(v.Polly)] = v
	}
	return m
}()

// foldName lower-cases and drops accents: "Penélope" and "Penelope",
// "Andrés" and "Andres" name the same voice.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		if r >= 0x300 && r <= 0x36f {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// VoiceFor returns the voice for a bot's voiceId, or the locale's default
// voice when voiceId is empty. An unknown voiceId is an error (PutBot
// validation should have refused it).
func VoiceFor(voiceID, locale string) (Voice, error) {
	if voiceID != "" {
		if v, ok := byName[foldName(voiceID)]; ok {
			return v, nil
		}
		return Voice{}, fmt.Errorf("tts: no espeak-ng voice for the Polly voice %q", voiceID)
	}
	if name, ok := localeDefault[locale]; ok {
		return byName[foldName(name)], nil
	}
	if strings.HasPrefix(locale, "es") {
		return byName["mia"], nil
	}
	return byName["salli"], nil
}

// VoiceNames lists the Polly names with an espeak-ng voice, sorted.
func VoiceNames() []string {
	out := make([]string, 0, len(Voices))
	for _, v := range Voices {
		out = append(out, v.Polly)
	}
	sort.Strings(out)
	return out
}
