package ivr

import (
	"strings"
	"testing"
)

func TestDefaultForSpeaksTheLocale(t *testing.T) {
	if DefaultFor("en") != Default() || DefaultFor("fi") != Default() || DefaultFor("") != Default() {
		t.Fatal("English, or a language without built-in texts, is not the default plan")
	}
	fr := DefaultFor("fr-CA")
	if fr == Default() || DefaultFor("fr") != fr {
		t.Fatal("French is not one shared plan")
	}
	if tag, ok := BuiltinLocale(fr); !ok || tag != "fr" {
		t.Fatalf("BuiltinLocale = %q %v", tag, ok)
	}
	if _, ok := BuiltinLocale(&Dialplan{}); ok {
		t.Fatal("a plan of the app's own is built in")
	}
	acts := fr.Start(map[string]string{VarCode: "2517", VarApp: "Shop"}).Answered("human")
	if len(acts) != 2 || acts[0].Kind != Say || acts[0].Language != "fr-FR" || !strings.HasPrefix(acts[0].Text, "Bonjour, votre code de vérification Shop est 2 5 1 7") {
		t.Fatalf("French plan says %+v", acts)
	}
	// The English plan was not changed by building the French one.
	en := Default().Start(map[string]string{VarCode: "1", VarApp: "Shop"}).Answered("human")
	if !strings.HasPrefix(en[0].Text, "Hello") || en[0].Language != "" {
		t.Fatalf("default plan says %+v", en[0])
	}
}

func TestPlayLanguage(t *testing.T) {
	d, err := Parse([]byte(`<dialplan name="x"><play language="de-DE">Code {{code}}</play><play>Again {{code}}</play></dialplan>`))
	if err != nil {
		t.Fatal(err)
	}
	acts := d.Start(map[string]string{VarCode: "12", VarLanguage: "ja-JP"}).Answered("human")
	if acts[0].Language != "de-DE" || acts[1].Language != "ja-JP" {
		t.Fatalf("languages %q %q", acts[0].Language, acts[1].Language)
	}
	for _, bad := range []string{"", "d", "de_DE", "de-", "1e-DE", "de-DE-toolongpart"} {
		_, err := Parse([]byte(`<dialplan name="x"><play language="` + bad + `">Code {{code}}</play></dialplan>`))
		if err == nil || !strings.Contains(err.Error(), "language") {
			t.Errorf("language %q: %v", bad, err)
		}
	}
	if _, err := Parse([]byte(`<dialplan name="x"><play>{{language}}</play></dialplan>`)); err == nil {
		t.Error("{{language}} is accepted as a text placeholder")
	}
}
