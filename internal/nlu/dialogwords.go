package nlu

import "strings"

// builtinIntentUtterances are the sample utterances of Lex's built-in
// intents, used when an intent extends one and brings none of its own.
func builtinIntentUtterances(sig string, lang Lang) []string {
	es := lang == "es"
	switch sig {
	case "AMAZON.HelpIntent":
		if es {
			return []string{"ayuda", "ayúdame", "necesito ayuda", "qué puedo decir", "cómo funciona esto", "no sé qué hacer"}
		}
		return []string{"help", "help me", "i need help", "what can i say", "how does this work", "what can you do"}
	case "AMAZON.CancelIntent":
		if es {
			return []string{"cancelar", "cancela", "cancélalo", "olvídalo", "déjalo", "anular"}
		}
		return []string{"cancel", "cancel that", "never mind", "forget it", "nevermind", "cancel it"}
	case "AMAZON.StopIntent":
		if es {
			return []string{"para", "detente", "basta", "parar", "alto", "salir"}
		}
		return []string{"stop", "stop it", "quit", "exit", "shut up", "enough"}
	case "AMAZON.StartOverIntent":
		if es {
			return []string{"empezar de nuevo", "volver a empezar", "reiniciar", "empecemos otra vez", "desde el principio"}
		}
		return []string{"start over", "restart", "start again", "begin again", "let's start over"}
	case "AMAZON.RepeatIntent":
		if es {
			return []string{"repite", "repítelo", "otra vez", "puedes repetir", "qué dijiste"}
		}
		return []string{"repeat", "say that again", "repeat that", "come again", "what did you say"}
	case "AMAZON.PauseIntent":
		if es {
			return []string{"pausa", "pausar", "espera un momento"}
		}
		return []string{"pause", "hold on", "wait a moment"}
	case "AMAZON.ResumeIntent":
		if es {
			return []string{"continuar", "reanudar", "sigue"}
		}
		return []string{"resume", "continue", "go on"}
	}
	return nil
}

// Answer is a yes/no reading of a confirmation or follow-up answer.
type Answer int

const (
	Unknown Answer = iota
	Yes
	No
)

var yesWords = map[Lang]map[string]bool{
	"en": set("yes yeah yep yup sure ok okay correct right affirmative absolutely definitely certainly confirm confirmed please alright aye", ""),
	"es": set("si sí claro vale ok okay correcto exacto afirmativo perfecto confirmo confirmado bueno dale desde luego por supuesto efectivamente", ""),
}

var noWords = map[Lang]map[string]bool{
	"en": set("no nope nah never negative cancel incorrect wrong dont not", ""),
	"es": set("no nunca negativo cancela cancelar incorrecto tampoco jamas", ""),
}

// Confirm reads a yes/no answer (spec §5.3 steps 3 and 6). rest is the
// remainder after a leading yes/no word ("yes, but make it thick crust"
// → Yes, "but make it thick crust"), so the dialog engine can try it for
// slot updates or a new intent.
func Confirm(utterance, locale string) (a Answer, rest string) {
	lang := LangOf(locale)
	toks := Tokenize(utterance, lang)
	if len(toks) == 0 {
		return Unknown, ""
	}
	first := toks[0].Norm
	if len(toks) > 1 && first == "of" && toks[1].Norm == "course" {
		return Yes, strings.TrimSpace(utterance[toks[1].End:])
	}
	if len(toks) > 1 && (first == "por" && toks[1].Norm == "supuesto" || first == "desde" && toks[1].Norm == "luego") {
		return Yes, strings.TrimSpace(utterance[toks[1].End:])
	}
	switch {
	case yesWords[lang][first] || yesWords["en"][first] && first != "please":
		a = Yes
	case noWords[lang][first]:
		a = No
	default:
		// "that's right", "sounds good", "that's wrong", "está bien"
		joined := " " + strings.Join(norms(toks), " ") + " "
		for _, p := range []string{" thats right ", " sounds good ", " go ahead ", " do it ", " thats correct ", " esta bien ", " de acuerdo ", " por favor "} {
			if strings.Contains(joined, p) {
				return Yes, ""
			}
		}
		for _, p := range []string{" thats wrong ", " not really ", " no thanks ", " no gracias ", " para nada "} {
			if strings.Contains(joined, p) {
				return No, ""
			}
		}
		return Unknown, utterance
	}
	return a, strings.TrimLeft(strings.TrimSpace(utterance[toks[0].End:]), ",.!; ")
}

func norms(toks []Token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.Norm
	}
	return out
}
