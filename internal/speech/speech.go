// Package speech owns PostContent's audio: decoding the audio a client
// sends (package audio), recognising it against the bot's grammar with
// pocketsphinx (package asr, grammars compiled from the bot version and
// cached per version), and speaking the reply with espeak-ng, lame and
// oggenc (package tts). The tools are Debian packages run as subprocesses
// — never linked — under one bounded queue with a per-run timeout
// (package proc). Which tools are present is detected once, at start-up
// (Capabilities); without them audio requests get the documented 415/406
// errors naming the missing package, and text keeps working.
//
// The runtime calls CheckInput/CheckAccept before running a turn (so a
// request that cannot be served fails before it changes the session),
// Recognize for an audio body, and Synthesize for the reply.
package speech

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/speech/asr"
	"lextrail/internal/speech/audio"
	"lextrail/internal/speech/proc"
	"lextrail/internal/speech/tts"
)

// Dialog foci for Recognize (what the dialog expects next; see asr.Focus).
const (
	FocusIntent  = asr.FocusIntent
	FocusConfirm = asr.FocusConfirm
	FocusAny     = asr.FocusAny
)

// SlotFocus is the focus of an ElicitSlot turn.
func SlotFocus(intent, slot string) string { return asr.SlotFocus(intent, slot) }

// DefaultModelDir is where Debian's pocketsphinx-en-us installs the model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// Config configures a Service. The zero value of each field is its
// documented default.
type Config struct {
	// Path is the PATH the tools are looked up in (default: $PATH).
	Path string
	// ModelDir holds the en-us acoustic model directory "en-us" and
	// cmudict-en-us.dict (default DefaultModelDir).
	ModelDir string
	// CacheDir holds the grammar files pocketsphinx reads (default
	// $TMPDIR/lextrail-speech).
	CacheDir string
	// Concurrency is how many speech tools run at once (default: the
	// number of CPUs); Queue how many more turns may wait (default 4 ×
	// Concurrency, then 429); Timeout bounds one tool run, queueing
	// included (default 10 s; the tool is killed).
	Concurrency, Queue int
	Timeout            time.Duration
	// Limits bound the audio accepted (audio.Limits defaults: 16 MiB, 60 s
	// of audio, 15 s of speech).
	Limits audio.Limits
	// Grammars is how many compiled grammars are kept in memory (default
	// 64).
	Grammars int
	Logger   *slog.Logger
}

// Service is the speech side of the runtime. Safe for concurrent use.
type Service struct {
	cfg    Config
	log    *slog.Logger
	caps   Capabilities
	runner *proc.Runner
	rec    *asr.Recognizer
	synth  *tts.Synthesizer
	// dictPath is the English dictionary, loaded on the first compile.
	dictPath string

	mu       sync.Mutex
	grammars map[string]*grammarEntry
	order    []string // LRU, oldest first
	compiles atomic.Int64
}

type grammarEntry struct {
	once sync.Once
	g    *asr.Grammar
	err  error
}

// Missing is a tool or file a capability needs.
type Missing struct {
	Tool    string `json:"tool"`
	Package string `json:"package"`
	Needed  string `json:"neededFor"`
}

// Capabilities is what this server can do with audio.
type Capabilities struct {
	// Recognition: audio input (PostContent with an audio body).
	Recognition bool `json:"recognition"`
	// Synthesis lists the audio replies available (audio/pcm, audio/mpeg,
	// audio/ogg).
	Synthesis []string `json:"synthesis"`
	// Tools maps each tool found to its path.
	Tools map[string]string `json:"tools,omitempty"`
	// Model is the acoustic model directory, when present.
	Model   string    `json:"model,omitempty"`
	Missing []Missing `json:"missing,omitempty"`
	// Concurrency, Queue and Timeout are the limits in force.
	Concurrency int    `json:"concurrency"`
	Queue       int    `json:"queue"`
	Timeout     string `json:"timeout"`
}

// New detects the tools and returns the service; it never fails: what is
// missing is reported in Capabilities and the log.
func New(cfg Config) *Service {
	if cfg.Path == "" {
		cfg.Path = os.Getenv("PATH")
	}
	if cfg.ModelDir == "" {
		cfg.ModelDir = DefaultModelDir
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(os.TempDir(), "lextrail-speech")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = runtime.NumCPU()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Grammars <= 0 {
		cfg.Grammars = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, log: cfg.Logger, grammars: map[string]*grammarEntry{}}
	s.runner = proc.New(proc.Config{Concurrency: cfg.Concurrency, Queue: cfg.Queue, Timeout: cfg.Timeout})
	rc := s.runner.Config()
	caps := Capabilities{Tools: map[string]string{}, Concurrency: rc.Concurrency, Queue: rc.Queue, Timeout: rc.Timeout.String()}
	look := func(tool, pkg, needed string) string {
		p, err := lookPath(tool, cfg.Path)
		if err != nil {
			caps.Missing = append(caps.Missing, Missing{Tool: tool, Package: pkg, Needed: needed})
			return ""
		}
		caps.Tools[tool] = p
		return p
	}
	sphinx := look("pocketsphinx_continuous", "pocketsphinx", "audio input")
	hmm := filepath.Join(cfg.ModelDir, "en-us")
	dict := filepath.Join(cfg.ModelDir, "cmudict-en-us.dict")
	modelOK := true
	for _, f := range []string{filepath.Join(hmm, "mdef"), filepath.Join(hmm, "means"), dict} {
		if _, err := os.Stat(f); err != nil {
			modelOK = false
		}
	}
	if !modelOK {
		caps.Missing = append(caps.Missing, Missing{Tool: hmm + " and " + dict, Package: "pocketsphinx-en-us", Needed: "audio input"})
	} else {
		caps.Model = hmm
	}
	caps.Recognition = sphinx != "" && modelOK
	espeak := look("espeak-ng", "espeak-ng", "audio replies")
	lame := look("lame", "lame", "audio/mpeg replies")
	oggenc := look("oggenc", "vorbis-tools", "audio/ogg replies")
	s.synth = &tts.Synthesizer{Espeak: espeak, Lame: lame, Oggenc: oggenc, Runner: s.runner}
	for _, f := range []string{tts.PCM, tts.MPEG, tts.Ogg} {
		if s.synth.Check(f) == nil {
			caps.Synthesis = append(caps.Synthesis, f)
		}
	}
	if caps.Recognition {
		s.rec = &asr.Recognizer{Bin: sphinx, Model: hmm, Dir: cfg.CacheDir, Runner: s.runner}
	}
	s.caps = caps
	s.dictPath = dict
	return s
}

// lookPath is exec.LookPath over an explicit PATH.
func lookPath(tool, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, tool)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// Capabilities reports what was detected.
func (s *Service) Capabilities() Capabilities { return s.caps }

// LogCapabilities writes the capabilities to the log, one line.
func (s *Service) LogCapabilities() {
	var missing []string
	for _, m := range s.caps.Missing {
		missing = append(missing, fmt.Sprintf("%s (Debian package %s, for %s)", m.Tool, m.Package, m.Needed))
	}
	s.log.Info("speech capabilities", "recognition", s.caps.Recognition, "synthesis", strings.Join(s.caps.Synthesis, ","),
		"missing", strings.Join(missing, "; "), "concurrency", s.caps.Concurrency, "queue", s.caps.Queue, "timeout", s.caps.Timeout)
}

// Stats are the process runner's counters (running, waiting, refused,
// timed out).
func (s *Service) Stats() proc.Stats { return s.runner.Stats() }

func missingFor(caps Capabilities, needed string) []string {
	var out []string
	for _, m := range caps.Missing {
		if m.Needed == needed {
			out = append(out, fmt.Sprintf("%s (Debian package %s)", m.Tool, m.Package))
		}
	}
	return out
}

// CheckInput reports whether a PostContent Content-Type can be served: nil
// for text/plain, 415 for an audio type without the recogniser or of an
// unsupported format (before the body is read).
func (s *Service) CheckInput(contentType string) error {
	if !audio.IsAudio(contentType) {
		return nil
	}
	if !s.caps.Recognition {
		return awserr.New(http.StatusUnsupportedMediaType, "UnsupportedMediaTypeException",
			"audio input is not available on this server: it needs %s, which is not installed", strings.Join(missingFor(s.caps, "audio input"), " and "))
	}
	_, err := audio.ParseContentType(contentType)
	return err
}

// CheckAccept parses a PostContent Accept header: 406 for an unsupported
// value or an audio format whose tools are missing.
func (s *Service) CheckAccept(accept string) (tts.Accept, error) {
	a, err := tts.ParseAccept(accept)
	if err != nil {
		return a, awserr.New(http.StatusNotAcceptable, "NotAcceptableException", "%s", err.Error())
	}
	if a.Audio {
		if err := s.synth.Check(a.Format); err != nil {
			return a, awserr.New(http.StatusNotAcceptable, "NotAcceptableException", "%s; send Accept: text/plain; charset=utf-8 for a text reply", err.Error())
		}
	}
	return a, nil
}
