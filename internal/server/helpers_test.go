package server_test

import (
	"github.com/ringgate/ringgate/internal/verify"
)

func newApp(id, key string) verify.NewApp {
	return verify.NewApp{ID: id, Name: id, APIKeys: []string{key}}
}
