// Command signup is a sign-up backend on net/http that verifies the user's
// phone by missed call: POST /signup starts the verification and gives the
// page the number to dial (and the client token to follow it live); ringgate
// calls POST /hooks/ringgate with the signed result; GET /signup?id= tells
// the page whether the user is verified.
//
//	RINGGATE_URL=http://127.0.0.1:8080 RINGGATE_API_KEY=rg_live_… \
//	RINGGATE_WEBHOOK_SECRET=whsec_… go run ./examples/signup
//
// With `ringgate dev`, point the demo app's callback here first:
// PATCH /v1/app {"default_callback_url": "http://127.0.0.1:3000/hooks/ringgate"}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"
	"sync"

	"github.com/ringgate/ringgate/sdk/go/ringgate"
	"github.com/ringgate/ringgate/sdk/go/webhook"
)

// users is the app's own user table (in memory here).
type users struct {
	mu       sync.Mutex
	verified map[string]bool // verification id → phone proven
}

func main() {
	rg := ringgate.New(os.Getenv("RINGGATE_API_KEY"), ringgate.WithBaseURL(os.Getenv("RINGGATE_URL")))
	db := &users{verified: map[string]bool{}}

	http.HandleFunc("POST /signup", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Phone string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		v, err := rg.Start(r.Context(), ringgate.StartRequest{
			Phone: in.Phone, Channel: ringgate.MissedCall, ClientIP: clientIP(r),
		})
		var pe *ringgate.Error
		switch {
		case errors.As(err, &pe) && pe.Code == ringgate.CodeInvalidPhone:
			http.Error(w, "that is not a phone number", http.StatusBadRequest)
			return
		case errors.As(err, &pe) && pe.Status == http.StatusTooManyRequests:
			http.Error(w, "too many attempts, try later", http.StatusTooManyRequests)
			return
		case err != nil:
			log.Print(err)
			http.Error(w, "verification unavailable", http.StatusBadGateway)
			return
		}
		// The page shows dial_number and follows the result with the token.
		_ = json.NewEncoder(w).Encode(map[string]any{
			"verification_id": v.ID, "dial_number": v.DialNumber, "client_token": v.ClientToken, "expires_at": v.ExpiresAt,
		})
	})

	http.Handle("POST /hooks/ringgate", webhook.Handler(os.Getenv("RINGGATE_WEBHOOK_SECRET"),
		func(ctx context.Context, ev ringgate.Event) error {
			switch ev.Type {
			case ringgate.EventVerified:
				db.mu.Lock()
				db.verified[ev.Data.ID] = true
				db.mu.Unlock()
			case ringgate.EventExpired, ringgate.EventFailed, ringgate.EventCanceled:
				log.Printf("verification %s ended: %s", ev.Data.ID, ev.Data.Reason)
			}
			return nil // 204; an error here makes ringgate deliver it again
		}))

	http.HandleFunc("GET /signup", func(w http.ResponseWriter, r *http.Request) {
		db.mu.Lock()
		ok := db.verified[r.URL.Query().Get("id")]
		db.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]bool{"verified": ok})
	})

	log.Fatal(http.ListenAndServe("127.0.0.1:3000", nil))
}

// clientIP is the end user's address for ringgate's per-IP limit (behind a
// proxy, take it from the proxy's header instead).
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == ':' {
			return host[:i]
		}
	}
	return host
}
