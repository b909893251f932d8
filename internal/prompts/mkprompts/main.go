// Command mkprompts regenerates the built-in prompt set
// (internal/prompts/assets/<locale>/<id>.ul) with espeak-ng: each catalog
// phrase and digit in each language, resampled to 8 kHz, trimmed of
// leading and trailing silence, encoded as G.711 µ-law. Run it through
// scripts/make-prompts.sh; the output is committed, so builds and tests
// never need espeak-ng.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ringgate/ringgate/internal/prompts"
)

// voices picks espeak-ng's voice per language.
var voices = map[string]string{"en": "en-us", "fr": "fr-fr", "es": "es", "de": "de"}

func main() {
	out := flag.String("out", "internal/prompts/assets", "output directory")
	flag.Parse()
	for _, loc := range prompts.Locales {
		dir := filepath.Join(*out, loc)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fail(err)
		}
		items := map[string]string{}
		for _, p := range prompts.Catalog {
			items[p.ID] = p.Text[loc]
		}
		for d, w := range prompts.Digits[loc] {
			items[d] = w
		}
		for id, text := range items {
			if text == "" {
				fail(fmt.Errorf("%s: no %s text for %s", loc, loc, id))
			}
			b, err := speak(voices[loc], text)
			if err != nil {
				fail(fmt.Errorf("%s %s: %w", loc, id, err))
			}
			if err := os.WriteFile(filepath.Join(dir, id+".ul"), b, 0o644); err != nil {
				fail(err)
			}
		}
	}
}

func speak(voice, text string) ([]byte, error) {
	// -s 150: a little slower than the default, for the telephone band.
	cmd := exec.Command("espeak-ng", "-v", voice, "-s", "150", "--stdout")
	cmd.Stdin = strings.NewReader(text)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("espeak-ng: %w: %s", err, errb.String())
	}
	pcm, rate, err := prompts.DecodeWAV(out.Bytes())
	if err != nil {
		return nil, err
	}
	return prompts.Ulaw(prompts.Trim(prompts.Resample(pcm, rate), 300, 160)), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mkprompts:", err)
	os.Exit(1)
}
