// Package prompts is what the SIP carrier says on a call: a set of
// recorded phrases and digits per language (8 kHz G.711 µ-law), embedded in
// the binary and made by scripts/make-prompts.sh, which an operator may
// override with a directory of their own recordings; and an optional
// external text-to-speech command for play texts the set cannot say.
//
// A dialplan's play text is spoken piece by piece: {{code}} as one digit
// prompt per character, {{app}} through the TTS command (left out when
// there is none), and each literal stretch of text as the phrases it is
// made of (matched on words, ignoring case and punctuation, against the
// English wording of the catalog below) in the call's language. Literal
// text the set has no phrase for needs TTS; Check reports such a plan so
// that configuration refuses it up front.
package prompts

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/ringgate/ringgate/internal/ivr"
)

// Phrase is one entry of the catalog: the file name of its recordings
// (<locale>/<ID>.ul) and its wording in each language of the built-in
// set. English is what play texts are matched against.
type Phrase struct {
	ID   string
	Text map[string]string
}

// Locales are the languages of the built-in set (the widget's).
var Locales = []string{"en", "fr", "es", "de"}

// DefaultLocale is used for locales the set does not have.
const DefaultLocale = "en"

// Catalog lists the phrases of the built-in set: the default dialplan's
// and a few more for operators' own plans. Digits 0–9 are "0" … "9".
var Catalog = []Phrase{
	{"hello_your", map[string]string{"en": "Hello, your", "fr": "Bonjour, votre", "es": "Hola, su", "de": "Hallo, Ihr"}},
	{"verification_code_is", map[string]string{"en": "verification code is", "fr": "code de vérification est", "es": "código de verificación es", "de": "Bestätigungscode lautet"}},
	{"your_code_is", map[string]string{"en": "your code is", "fr": "votre code est", "es": "su código es", "de": "Ihr Code lautet"}},
	{"press_1_to_repeat", map[string]string{"en": "Press 1 to repeat.", "fr": "Appuyez sur 1 pour répéter.", "es": "Pulse 1 para repetir.", "de": "Drücken Sie 1 zum Wiederholen."}},
	{"hello", map[string]string{"en": "Hello", "fr": "Bonjour", "es": "Hola", "de": "Hallo"}},
	{"goodbye", map[string]string{"en": "Goodbye.", "fr": "Au revoir.", "es": "Adiós.", "de": "Auf Wiederhören."}},
}

// Digits are the digit prompts' ids, "0" … "9", with their words.
var Digits = map[string]map[string]string{
	"en": {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven", "8": "eight", "9": "nine"},
	"fr": {"0": "zéro", "1": "un", "2": "deux", "3": "trois", "4": "quatre", "5": "cinq", "6": "six", "7": "sept", "8": "huit", "9": "neuf"},
	"es": {"0": "cero", "1": "uno", "2": "dos", "3": "tres", "4": "cuatro", "5": "cinco", "6": "seis", "7": "siete", "8": "ocho", "9": "nueve"},
	"de": {"0": "null", "1": "eins", "2": "zwei", "3": "drei", "4": "vier", "5": "fünf", "6": "sechs", "7": "sieben", "8": "acht", "9": "neun"},
}

//go:embed assets
var assets embed.FS

// Silence between the pieces of a play, in µ-law bytes (8 per ms).
const (
	gapDigit  = 8 * 250 // between the digits of the code
	gapPhrase = 8 * 200 // around phrases
	gapEnd    = 8 * 400 // after a whole play
)

// SilenceByte is µ-law silence.
const SilenceByte = 0xFF

// Set is a prompt set: µ-law audio by locale and id.
type Set struct {
	clips map[string]map[string][]byte
	tts   TTS
	// words maps the catalog's English wording (normalised) to phrase ids,
	// longest first for matching.
	words [][]string
	ids   []string
}

// TTS speaks free text: 8 kHz µ-law audio for text in locale.
type TTS interface {
	Speak(ctx context.Context, text, locale string) ([]byte, error)
}

// Default is the built-in set, without TTS.
func Default() *Set {
	s, err := Load("", nil)
	if err != nil {
		panic("prompts: built-in set: " + err.Error())
	}
	return s
}

// Load builds a set from the built-in recordings, each replaced by the
// file of the same name under dir (dir/<locale>/<id>.ul, raw 8 kHz µ-law,
// or <id>.wav, any PCM WAV) when dir is not "". tts may be nil.
func Load(dir string, tts TTS) (*Set, error) {
	s := &Set{clips: map[string]map[string][]byte{}, tts: tts}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".ul" {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		loc := filepath.Base(filepath.Dir(p))
		s.put(loc, strings.TrimSuffix(filepath.Base(p), ".ul"), b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if dir != "" {
		if err := s.overlay(dir); err != nil {
			return nil, err
		}
	}
	for _, loc := range Locales {
		for d := range 10 {
			if s.clip(loc, string(rune('0'+d))) == nil {
				return nil, fmt.Errorf("prompts: no recording of digit %d for %s", d, loc)
			}
		}
	}
	for _, p := range Catalog {
		s.words = append(s.words, words(p.Text["en"]))
		s.ids = append(s.ids, p.ID)
	}
	return s, nil
}

func (s *Set) put(loc, id string, b []byte) {
	if s.clips[loc] == nil {
		s.clips[loc] = map[string][]byte{}
	}
	s.clips[loc][id] = b
}

func (s *Set) overlay(dir string) error {
	locs, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("prompts: %w", err)
	}
	for _, l := range locs {
		if !l.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, l.Name()))
		if err != nil {
			return fmt.Errorf("prompts: %w", err)
		}
		for _, f := range files {
			name := f.Name()
			ext := filepath.Ext(name)
			if ext != ".ul" && ext != ".wav" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, l.Name(), name))
			if err != nil {
				return fmt.Errorf("prompts: %w", err)
			}
			if ext == ".wav" {
				pcm, rate, err := DecodeWAV(b)
				if err != nil {
					return fmt.Errorf("prompts: %s: %w", filepath.Join(l.Name(), name), err)
				}
				b = Ulaw(Resample(pcm, rate))
			}
			s.put(l.Name(), strings.TrimSuffix(name, ext), b)
		}
	}
	return nil
}

// Lang picks the set's language for a verification locale: "fr-CA" → "fr";
// DefaultLocale when the set has no recordings for it.
func (s *Set) Lang(locale string) string {
	l := strings.ToLower(strings.TrimSpace(locale))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	if s.clips[l] != nil && s.clips[l]["0"] != nil {
		return l
	}
	return DefaultLocale
}

// Clip is the recording of id in locale's language (falling back to
// DefaultLocale), nil if there is none. Do not modify it.
func (s *Set) Clip(locale, id string) []byte {
	return s.clip(s.Lang(locale), id)
}

func (s *Set) clip(lang, id string) []byte {
	if b := s.clips[lang][id]; b != nil {
		return b
	}
	return s.clips[DefaultLocale][id]
}

// HasTTS reports whether free text can be spoken.
func (s *Set) HasTTS() bool { return s.tts != nil }

// ErrNeedsTTS is a play text the set cannot say without a TTS engine.
var ErrNeedsTTS = errors.New("needs a text-to-speech engine")

// piece is one part of a play: a prompt id, or text for TTS.
type piece struct {
	id, tts string
	gap     int
}

// plan splits a play's template into pieces. {{app}} is TTS text (left out
// without TTS); literal text is phrases, or TTS when the set lacks one.
func (s *Set) plan(template string, vars map[string]string) ([]piece, error) {
	var out []piece
	var bad error
	lit := func(text string) {
		w := words(text)
		ids, ok := s.match(w)
		if !ok {
			if s.tts == nil && bad == nil {
				bad = fmt.Errorf("prompts: %q: %w (no recording says it; configure tts or use the catalog's phrases)", strings.TrimSpace(text), ErrNeedsTTS)
			}
			out = append(out, piece{tts: strings.TrimSpace(text), gap: gapPhrase})
			return
		}
		for _, id := range ids {
			out = append(out, piece{id: id, gap: gapPhrase})
		}
	}
	err := ivr.ScanTemplate(template, lit, func(v string) {
		switch v {
		case ivr.VarCode:
			for _, r := range vars[v] {
				if r >= '0' && r <= '9' {
					out = append(out, piece{id: string(r), gap: gapDigit})
				}
			}
			if n := len(out); n > 0 && out[n-1].gap == gapDigit {
				out[n-1].gap = gapPhrase
			}
		default:
			if t := strings.TrimSpace(vars[v]); t != "" && s.tts != nil {
				out = append(out, piece{tts: t, gap: gapPhrase})
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, bad
}

// match covers w with catalog phrases and single digits, trying the
// longest phrase first and backing off when the rest cannot be covered
// ("hello your code is" is hello + your_code_is, not hello_your + …).
// Offsets found uncoverable are remembered, so a text crafted to make it
// back off again and again costs linear time.
func (s *Set) match(w []string) ([]string, bool) {
	dead := make([]bool, len(w)+1)
	var at func(i int) ([]string, bool)
	at = func(i int) ([]string, bool) {
		if i == len(w) {
			return nil, true
		}
		if dead[i] {
			return nil, false
		}
		type cand struct {
			id string
			n  int
		}
		var cs []cand
		for k, p := range s.words {
			if len(p) <= len(w)-i && slices.Equal(p, w[i:i+len(p)]) {
				cs = append(cs, cand{s.ids[k], len(p)})
			}
		}
		if len(w[i]) == 1 && w[i][0] >= '0' && w[i][0] <= '9' {
			cs = append(cs, cand{w[i], 1})
		}
		slices.SortStableFunc(cs, func(a, b cand) int { return b.n - a.n })
		for _, c := range cs {
			if rest, ok := at(i + c.n); ok {
				return append([]string{c.id}, rest...), true
			}
		}
		dead[i] = true
		return nil, false
	}
	return at(0)
}

// words lowercases text and splits it on anything but letters and digits.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// Check reports a dialplan whose play texts the set cannot say: literal
// text with no recording, when no TTS is configured.
func (s *Set) Check(d *ivr.Dialplan) error {
	var err error
	ivr.Walk(d, func(p *ivr.Play) {
		if err != nil {
			return
		}
		if _, e := s.plan(p.Text, nil); e != nil {
			name := p.Name
			if name == "" {
				name = "(unnamed)"
			}
			err = fmt.Errorf("dialplan %s, play %s: %w", d.Name, name, e)
		}
	})
	return err
}

// Speak renders one play as µ-law audio in locale's language: template
// is the play's text before rendering (ivr.Action.Template), vars its
// variables. Free text goes through the TTS engine (ErrNeedsTTS without
// one); a TTS failure leaves that piece out and is returned with the rest
// of the audio.
func (s *Set) Speak(ctx context.Context, template string, vars map[string]string, locale string) ([]byte, error) {
	lang := s.Lang(locale)
	pieces, err := s.plan(template, vars)
	if pieces == nil && err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, p := range pieces {
		if p.id != "" {
			buf.Write(s.clip(lang, p.id))
		} else if s.tts != nil {
			b, e := s.tts.Speak(ctx, p.tts, lang)
			if e != nil {
				err = errors.Join(err, e)
				continue
			}
			buf.Write(b)
		} else {
			continue
		}
		buf.Write(bytes.Repeat([]byte{SilenceByte}, p.gap))
	}
	buf.Write(bytes.Repeat([]byte{SilenceByte}, gapEnd))
	return buf.Bytes(), err
}

// Command is a TTS engine run as a process: Argv[0] with the rest as
// arguments, "{lang}" in them replaced by the language, the text on
// standard input, a WAV on standard output (any rate; resampled to 8 kHz).
// Never through a shell, and never with the text as an argument, where a
// text starting with '-' would be read as an option.
// Example: ["espeak-ng", "-v", "{lang}", "--stdout"].
type Command struct {
	Argv    []string
	Timeout time.Duration // 10 s when 0
}

// Speak runs the command.
func (c Command) Speak(ctx context.Context, text, lang string) ([]byte, error) {
	if len(c.Argv) == 0 {
		return nil, errors.New("tts: no command")
	}
	to := c.Timeout
	if to <= 0 {
		to = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	args := make([]string, len(c.Argv)-1)
	for i, a := range c.Argv[1:] {
		args[i] = strings.ReplaceAll(a, "{lang}", lang)
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], args...)
	cmd.Stdin = strings.NewReader(text)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limited{w: &out, n: maxWAV + 4096}, &limited{w: &stderr, n: 4096}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tts %s: %w: %s", c.Argv[0], err, strings.TrimSpace(stderr.String()))
	}
	pcm, rate, err := DecodeWAV(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("tts %s: %w", c.Argv[0], err)
	}
	return Ulaw(Trim(Resample(pcm, rate), 200, 400)), nil
}

// limited writes at most n bytes to w and fails after that.
type limited struct {
	w *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.w.Len()+len(p) > l.n {
		return 0, errors.New("output too large")
	}
	return l.w.Write(p)
}
