package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/skip2/go-qrcode"

	"github.com/ringgate/ringgate/internal/httpapi"
	"github.com/ringgate/ringgate/internal/phone"
	"github.com/ringgate/ringgate/internal/verify"
)

// The QR code a desktop visitor scans to dial the missed-call number is
// drawn here as SVG, with github.com/skip2/go-qrcode (pinned in go.mod)
// doing the encoding: a QR encoder (Reed-Solomon, masking, version choice)
// is easy to get subtly wrong by hand, and doing it in Go keeps the widget
// small. Only tel: URIs of valid E.164 numbers are drawn, so the endpoint
// cannot be used to make arbitrary codes under the operator's name.

// qrSVG renders a tel: QR code for raw, which must be an E.164 number.
func qrSVG(raw string) ([]byte, error) {
	n, err := phone.ParseE164(strings.TrimSpace(raw))
	if err != nil {
		return nil, err
	}
	q, err := qrcode.New("tel:"+n.E164, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	bits := q.Bitmap() // with the 4-module quiet zone
	size := len(bits)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR code to call %s">`, size, size, n.E164)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, size, size)
	for y, row := range bits {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run - 1
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String()), nil
}

func (h *Handler) qr(w http.ResponseWriter, r *http.Request) {
	svg, err := qrSVG(r.URL.Query().Get("tel"))
	if err != nil {
		httpapi.WriteProblem(w, r, string(verify.CodeInvalidPhone), "tel", "tel: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(svg)
}
