//go:build linux || darwin || freebsd || netbsd || openbsd

package httpapi

import (
	"errors"
	"syscall"
)

// peerClosed peeks at a connection without blocking or consuming: EOF or
// an error other than "nothing to read" means the client is gone.
func peerClosed(raw syscall.RawConn, buf []byte) bool {
	closed := false
	err := raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		case err != nil, n == 0:
			closed = true
		}
		return true // never wait for readiness
	})
	return closed || err != nil
}
