package twilio

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
)

// signedPost is a webhook signed as Twilio signs them.
func signedPost(target string, params url.Values) *http.Request {
	req := carriertest.FormPost(target, params)
	req.Header.Set("X-Twilio-Signature", Signature(token, target, params))
	return req
}

func TestConformance(t *testing.T) {
	carriertest.Run(t, carriertest.HTTPCarrier{
		New: func(t *testing.T, rec *carriertest.Recorder, public string) (carrier.WebhookHandler, error) {
			return New(testConfig(rec, "http://127.0.0.1:9", public))
		},
		BadSignature: func(t *testing.T, base string) *http.Request {
			req := carriertest.FormPost(base+"/sms-status?id=job-1", url.Values{"MessageStatus": {"delivered"}})
			req.Header.Set("X-Twilio-Signature", Signature("another token", base+"/sms-status?id=job-1", url.Values{"MessageStatus": {"delivered"}}))
			return req
		},
		Status: func(t *testing.T, _ carrier.WebhookHandler, base string) (*http.Request, []carrier.Event) {
			p := url.Values{"MessageSid": {"SM22222222222222222222222222222222"}, "AccountSid": {sid}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}}
			return signedPost(base+"/sms-status?id=job-1", p), []carrier.Event{{Kind: carrier.EventSMSFailed, ID: "job-1", Cause: "undelivered"}}
		},
		Inbound: func(t *testing.T, base string) *http.Request {
			return signedPost(base+"/voice", url.Values{"AccountSid": {sid}, "CallSid": {"CA99999999999999999999999999999999"}, "From": {"+15005550999"}, "To": {"+15005550006"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}})
		},
		Refusal: "<Reject",
	})
}
