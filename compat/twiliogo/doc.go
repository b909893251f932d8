// Package twiliogo tests ringgate's Twilio Verify v2 API with the official
// Go client, github.com/twilio/twilio-go, unchanged. It is a module of its
// own so that ringgate's module does not depend on the client; `make test`
// runs it.
package twiliogo
