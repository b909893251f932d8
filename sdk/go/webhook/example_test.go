package webhook_test

import (
	"context"
	"errors"
	"log"
	"net/http"

	"github.com/ringgate/ringgate/sdk/go/ringgate"
	"github.com/ringgate/ringgate/sdk/go/webhook"
)

func ExampleHandler() {
	http.Handle("POST /hooks/ringgate", webhook.Handler("whsec_…", func(ctx context.Context, ev ringgate.Event) error {
		switch ev.Type {
		case ringgate.EventVerified:
			log.Printf("%s verified %s", ev.Data.ID, ev.Data.Phone)
		case ringgate.EventExpired, ringgate.EventFailed:
			log.Printf("%s ended: %s", ev.Data.ID, ev.Data.Reason)
		}
		return nil // an error makes ringgate deliver the webhook again
	}))
}

func ExampleVerify() {
	var r *http.Request // the webhook request
	var body []byte     // its raw body, exactly as received
	if err := webhook.Verify("whsec_…", r.Header, body); err != nil {
		if errors.Is(err, webhook.ErrTooOld) {
			log.Print("a replay, or a clock far off")
		}
		return // refuse it: 400
	}
}
