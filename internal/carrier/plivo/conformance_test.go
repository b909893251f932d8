package plivo

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
)

// signedPost is a form callback signed as Plivo signs them ("v3", "v2",
// or "" for none) under token, each with a nonce of its own.
func signedPost(target string, params url.Values, scheme, token string) *http.Request {
	nonceN.Lock()
	nonceI++
	nonce := "0123456789" + strconv.Itoa(nonceI)
	nonceN.Unlock()
	req := carriertest.FormPost(target, params)
	switch scheme {
	case "v3":
		req.Header.Set("X-Plivo-Signature-V3", signatureV3(token, target, "POST", nonce, params))
		req.Header.Set("X-Plivo-Signature-V3-Nonce", nonce)
	case "v2":
		req.Header.Set("X-Plivo-Signature-V2", signatureV2(token, target, nonce))
		req.Header.Set("X-Plivo-Signature-V2-Nonce", nonce)
	}
	return req
}

func TestConformance(t *testing.T) {
	inbound := url.Values{"CallUUID": {"0b6a7e3c-1f2d-4c5b-8a9e-7d6c5b4a3f21"}, "From": {"14155550999"}, "To": {"14155550100"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}
	carriertest.Run(t, carriertest.HTTPCarrier{
		New: func(t *testing.T, rec *carriertest.Recorder, public string) (carrier.WebhookHandler, error) {
			return New(testConfig(rec, "http://127.0.0.1:9", public))
		},
		BadSignature: func(t *testing.T, base string) *http.Request {
			return signedPost(base+"/answer", inbound, "v3", "another_auth_token")
		},
		Status: func(t *testing.T, _ carrier.WebhookHandler, base string) (*http.Request, []carrier.Event) {
			p := url.Values{"Status": {"delivered"}, "MessageUUID": {"db3ce55a-7f1d-11e1-8ea7-1231380bc196"}, "From": {"14155550100"}, "To": {"14155550123"}, "ErrorCode": {"0"}}
			return signedPost(base+"/sms-status/job_sms1", p, "v3", authToken), []carrier.Event{{Kind: carrier.EventSMSDelivered, ID: "job_sms1"}}
		},
		Inbound: func(t *testing.T, base string) *http.Request {
			return signedPost(base+"/answer", inbound, "v3", authToken)
		},
		Refusal: `reason="rejected"`,
	})
}
