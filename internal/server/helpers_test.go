package server_test

import (
	"strings"
	"sync"

	"github.com/ringgate/ringgate/internal/verify"
)

func newApp(id, key string) verify.NewApp {
	return verify.NewApp{ID: id, Name: id, APIKeys: []string{key}}
}

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
