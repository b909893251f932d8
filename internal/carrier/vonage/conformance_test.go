package vonage

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/carrier"
	"github.com/ringgate/ringgate/internal/carrier/carriertest"
)

// signedVoice is a voice webhook with a JSON body, signed as Vonage signs
// them (HS256 JWT with the body's payload_hash).
func signedVoice(t *testing.T, target string, body []byte) *http.Request {
	sum := sha256.Sum256(body)
	claims := map[string]any{"iat": time.Now().Unix(), "jti": "c" + strconv.FormatInt(jtiN.Add(1), 10), "iss": "Vonage",
		"api_key": testKey, "application_id": testAppID, "payload_hash": hex.EncodeToString(sum[:])}
	req, _ := http.NewRequest("POST", target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+signHS256(t, testSigSec, claims))
	return req
}

func TestConformance(t *testing.T) {
	carriertest.Run(t, carriertest.HTTPCarrier{
		New: func(t *testing.T, rec *carriertest.Recorder, public string) (carrier.WebhookHandler, error) {
			return New(testConfig(t, rec, "http://127.0.0.1:9", public))
		},
		BadSignature: func(t *testing.T, base string) *http.Request {
			p := signedReceipt("delivered", SigSHA256)
			p.Set("status", "failed") // the signature covered "delivered"
			return carriertest.FormPost(base+"/sms-status", p)
		},
		Status: func(t *testing.T, _ carrier.WebhookHandler, base string) (*http.Request, []carrier.Event) {
			return carriertest.FormPost(base+"/sms-status", signedReceipt("delivered", SigSHA256)),
				[]carrier.Event{{Kind: carrier.EventSMSDelivered, ID: "job_sms1"}}
		},
		Inbound: func(t *testing.T, base string) *http.Request {
			return signedVoice(t, base+"/answer", []byte(`{"to":"447700900001","from":"15417543010","uuid":"cccc","conversation_uuid":"CON-d"}`))
		},
		Refusal: "[]",
	})
}
