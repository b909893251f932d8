package server

import (
	"reflect"
	"testing"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/verify"
)

// The config's defaults are the domain's documented defaults.
func TestAbuseDefaultsAgree(t *testing.T) {
	p, err := abusePolicy(config.DefaultAbuse())
	if err != nil {
		t.Fatal(err)
	}
	if want := verify.DefaultAbusePolicy(); !reflect.DeepEqual(*p, want) {
		t.Fatalf("config.DefaultAbuse gives\n %+v\nverify.DefaultAbusePolicy is\n %+v", *p, want)
	}
}
