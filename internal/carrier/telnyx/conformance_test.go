package telnyx

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
)

// signedPost is a webhook signed as Telnyx signs them, or with sig when
// it is set.
func signedPost(target, contentType, body, sig string) *http.Request {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest("POST", target, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if sig == "" {
		sig = sign(ts, []byte(body))
	}
	req.Header.Set("telnyx-timestamp", ts)
	req.Header.Set("telnyx-signature-ed25519", sig)
	return req
}

func TestConformance(t *testing.T) {
	inbound := url.Values{"AccountSid": {acct}, "CallSid": {"v3:in"}, "From": {"+13125550002"}, "To": {"+13120001234"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}.Encode()
	carriertest.Run(t, carriertest.HTTPCarrier{
		New: func(t *testing.T, rec *carriertest.Recorder, public string) (carrier.WebhookHandler, error) {
			return New(testConfig(rec, "http://127.0.0.1:9", public))
		},
		BadSignature: func(t *testing.T, base string) *http.Request {
			return signedPost(base+"/voice", form, inbound, base64.StdEncoding.EncodeToString(make([]byte, 64)))
		},
		Status: func(t *testing.T, _ carrier.WebhookHandler, base string) (*http.Request, []carrier.Event) {
			hook := base + "/sms-status?id=job-1"
			body := `{"data": {"event_type": "message.finalized", "id": "b301ed3f-1490-491f-995f-6e64e69674d4", "payload": {"id": "40385f64-5717-4562-b3fc-2c963f66afa6", "record_type": "message", "direction": "outbound", "to": [{"phone_number": "+13125550002", "status": "delivered"}], "errors": []}, "record_type": "event"}}`
			return signedPost(hook, "application/json", body, ""), []carrier.Event{{Kind: carrier.EventSMSDelivered, ID: "job-1"}}
		},
		Inbound: func(t *testing.T, base string) *http.Request { return signedPost(base+"/voice", form, inbound, "") },
		Refusal: "<Reject",
	})
}
