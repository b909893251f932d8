package smpp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// gosmpp v0.3.1's parser panics on some malformed input (a query_sm with
// TLVs writes to a nil map), and it parses on its own goroutine, where a
// panic would end the whole server. vetConn sits under gosmpp: it frames
// every PDU the SMSC sends and parses it once under recover before passing
// the bytes on; a PDU that cannot be parsed fails the read, which gosmpp
// treats as a broken connection and rebinds.
type vetConn struct {
	net.Conn
	r       *bufio.Reader
	pending []byte
}

func newVetConn(c net.Conn) *vetConn {
	return &vetConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10)}
}

func (v *vetConn) Read(p []byte) (int, error) {
	if len(v.pending) == 0 {
		frame, err := readFrame(v.r)
		if err != nil {
			return 0, err
		}
		if err := Vet(frame); err != nil {
			return 0, err
		}
		v.pending = frame
	}
	n := copy(p, v.pending)
	v.pending = v.pending[n:]
	return n, nil
}

// readFrame reads one whole PDU: its header, then command_length − 16 bytes.
func readFrame(r io.Reader) ([]byte, error) {
	var h [16]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:4])
	if n < 16 || n > data.MAX_PDU_LEN {
		return nil, fmt.Errorf("smpp: command_length %d out of range", n)
	}
	frame := make([]byte, n)
	copy(frame, h[:])
	if _, err := io.ReadFull(r, frame[16:]); err != nil {
		return nil, err
	}
	return frame, nil
}

// Vet parses one framed PDU and reports whether gosmpp can read it
// without failing or panicking.
func Vet(frame []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("smpp: a PDU the parser cannot read (%v)", p)
		}
	}()
	if _, err := pdu.Parse(bytes.NewReader(frame)); err != nil {
		return errors.Join(errors.New("smpp: unparsable PDU"), err)
	}
	return nil
}
