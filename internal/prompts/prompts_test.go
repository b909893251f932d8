package prompts

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringgate/ringgate/internal/ivr"
)

// TestMain doubles as a fake TTS engine: run with RINGGATE_FAKE_TTS=1 it
// writes a 16 kHz WAV whose length is 100 ms per byte of its input text.
func TestMain(m *testing.M) {
	if os.Getenv("RINGGATE_FAKE_TTS") == "1" {
		text, _ := readAll(os.Stdin)
		if len(os.Args) < 2 || os.Args[len(os.Args)-1] == "" {
			os.Exit(2)
		}
		os.Stdout.Write(wav(16000, make([]int16, 1600*len(text)), 3000))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func readAll(f *os.File) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(f)
	return b.Bytes(), err
}

// wav builds a 16-bit mono WAV of pcm, every sample set to level.
func wav(rate int, pcm []int16, level int16) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(0x7fffffff)) // as espeak-ng on a pipe
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(0x7fffffff))
	for i := range pcm {
		pcm[i] = level
	}
	binary.Write(&b, binary.LittleEndian, pcm)
	return b.Bytes()
}

func TestSpeakDefaultPlanPerLocale(t *testing.T) {
	s := Default()
	vars := map[string]string{"code": "2517", "app": "Acme"}
	tmpl := "Hello, your {{app}} verification code is {{code}}. Press 1 to repeat."
	for _, loc := range []string{"en", "fr", "es", "de"} {
		audio, err := s.Speak(context.Background(), tmpl, vars, loc)
		if err != nil {
			t.Fatal(err)
		}
		// the pieces, in order: phrase, phrase, 2, 5, 1, 7, phrase
		at := 0
		for _, id := range []string{"hello_your", "verification_code_is", "2", "5", "1", "7", "press_1_to_repeat"} {
			clip := s.clips[loc][id]
			i := bytes.Index(audio[at:], clip)
			if i < 0 {
				t.Fatalf("%s: %s not found in order", loc, id)
			}
			at += i + len(clip)
		}
	}
	en, _ := s.Speak(context.Background(), tmpl, vars, "en")
	fr, _ := s.Speak(context.Background(), tmpl, vars, "fr-CA")
	if bytes.Equal(en, fr) || !bytes.Contains(fr, s.clips["fr"]["hello_your"]) {
		t.Fatal("fr-CA is not spoken in French")
	}
	if s.Lang("pt-BR") != "en" || s.Lang("DE") != "de" {
		t.Fatal("Lang")
	}
}

func TestCheckRefusesFreeTextWithoutTTS(t *testing.T) {
	if err := Default().Check(ivr.Default()); err != nil {
		t.Fatalf("the default plan needs no TTS: %v", err)
	}
	d, err := ivr.Parse([]byte(`<dialplan name="x"><play name="welcome">Welcome to the bank. Your code is {{code}}.</play></dialplan>`))
	if err != nil {
		t.Fatal(err)
	}
	err = Default().Check(d)
	if !errors.Is(err, ErrNeedsTTS) || !strings.Contains(err.Error(), "welcome") || !strings.Contains(err.Error(), "Welcome to the bank") {
		t.Fatalf("%v", err)
	}
	withTTS, err := Load("", fakeTTS(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := withTTS.Check(d); err != nil {
		t.Fatal(err)
	}
	audio, err := withTTS.Speak(context.Background(), "Welcome. Your code is {{code}}.", map[string]string{"code": "42"}, "fr")
	if err != nil {
		t.Fatal(err)
	}
	// "Welcome" (7 bytes → 700 ms, trimmed of nothing: constant level),
	// then the French "your code is" and the digits
	if !bytes.Contains(audio, Default().clips["fr"]["4"]) || len(audio) < 8*700 {
		t.Fatalf("%d bytes", len(audio))
	}
}

func fakeTTS(t *testing.T) TTS {
	t.Setenv("RINGGATE_FAKE_TTS", "1")
	return Command{Argv: []string{os.Args[0], "-voice", "{lang}"}}
}

func TestCommandTTS(t *testing.T) {
	b, err := fakeTTS(t).Speak(context.Background(), "-rf /", "de")
	if err != nil {
		t.Fatal(err)
	}
	// 5 bytes → 500 ms at 8 kHz = 4000 samples (Trim keeps a constant level)
	if len(b) < 3900 || len(b) > 4100 {
		t.Fatalf("%d samples", len(b))
	}
	if _, err := (Command{Argv: []string{"/nonexistent/tts"}}).Speak(context.Background(), "x", "en"); err == nil {
		t.Fatal("missing command succeeded")
	}
}

func TestOverlayDirectory(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "fr"), 0o755)
	os.WriteFile(filepath.Join(dir, "fr", "1.wav"), wav(8000, make([]int16, 800), 1000), 0o644)
	os.WriteFile(filepath.Join(dir, "fr", "2.ul"), []byte{1, 2, 3}, 0o644)
	s, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Clip("fr", "1")) != 800 || !bytes.Equal(s.Clip("fr", "2"), []byte{1, 2, 3}) || bytes.Equal(s.Clip("en", "1"), s.Clip("fr", "1")) {
		t.Fatal("overlay not applied")
	}
	os.WriteFile(filepath.Join(dir, "fr", "3.wav"), []byte("RIFFxxxxWAVEjunk"), 0o644)
	if _, err := Load(dir, nil); err == nil {
		t.Fatal("a broken WAV loaded")
	}
}

func TestResample(t *testing.T) {
	in := make([]int16, 22050)
	for i := range in {
		in[i] = 1000
	}
	out := Resample(in, 22050)
	if len(out) != 8000 || out[4000] < 990 || out[4000] > 1010 {
		t.Fatalf("%d samples, mid %d", len(out), out[4000])
	}
}

func FuzzDecodeWAV(f *testing.F) {
	f.Add(wav(8000, make([]int16, 10), 5))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm, rate, err := DecodeWAV(b)
		if err == nil && (rate < 4000 || len(pcm) > len(b)) {
			t.Fatalf("rate %d, %d samples from %d bytes", rate, len(pcm), len(b))
		}
	})
}

func TestMatchBacksOff(t *testing.T) {
	ids, ok := Default().match(words("Hello. Your code is 4, goodbye!"))
	if !ok || strings.Join(ids, " ") != "hello your_code_is 4 goodbye" {
		t.Fatalf("%v %v", ids, ok)
	}
	if _, ok := Default().match(words("Hello your bank")); ok {
		t.Fatal("matched a word nothing says")
	}
}
