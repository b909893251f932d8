package web

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

// WidgetBudget is the most /widget.js may weigh gzipped: a page that embeds
// it should not notice. docs/widget.md states the measured size.
const WidgetBudget = 8 << 10

func TestWidgetSize(t *testing.T) {
	raw, err := assets.ReadFile("assets/widget.js")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	t.Logf("widget.js: %d bytes, %d gzipped (budget %d)", len(raw), b.Len(), WidgetBudget)
	if b.Len() > WidgetBudget {
		t.Fatalf("widget.js is %d bytes gzipped, over its %d-byte budget", b.Len(), WidgetBudget)
	}
}

func TestQRSVG(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"+12025550100", true},
		{" +44 20 7946 0018 ", true},
		{"", false},
		{"020 7946 0018", false}, // national: no country to read it in
		{"tel:+12025550100", false},
		{"+1202555010<script>", false},
		{strings.Repeat("9", 500), false},
	} {
		svg, err := qrSVG(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("qrSVG(%q): err %v, want ok %v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && (!bytes.HasPrefix(svg, []byte("<svg ")) || !bytes.Contains(svg, []byte(`aria-label="QR code to call +`))) {
			t.Errorf("qrSVG(%q) = %.120s…", tc.in, svg)
		}
	}
}

// FuzzQRSVG: the tel parameter of /widget/qr.svg is untrusted. It must
// never panic, and what is drawn is only ever a tel: code of a number (no
// markup from the input reaches the SVG).
func FuzzQRSVG(f *testing.F) {
	for _, s := range []string{"+12025550100", "+442079460018", "", "+", "+1 (202) 555-0100", "<svg>", "+44\x00", "+9999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		svg, err := qrSVG(s)
		if err != nil {
			return
		}
		body := string(svg)
		if strings.Count(body, "<") != 4 || !strings.HasSuffix(body, `"/></svg>`) {
			t.Fatalf("unexpected markup for %q: %.200s", s, body)
		}
	})
}
