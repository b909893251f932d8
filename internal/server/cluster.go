package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ringgate/ringgate/internal/verify"
)

// NotifyChannel is the PostgreSQL channel nodes tell each other of changes
// on.
const NotifyChannel = "ringgate"

// clusterTransport is what a store shared by several nodes offers for
// telling each other of changes (postgres.Store: NOTIFY and LISTEN).
type clusterTransport interface {
	Notify(ctx context.Context, channel, payload string) error
	Listen(ctx context.Context, channel string, onNotify func(payload string), onConnect func(), onError func(error))
}

// cluster carries the notices of this node's commits to the other nodes
// and theirs to this one. Notices are wake-ups, not state (see package
// live): SSE readers reread the store, dispatchers claim from it, and both
// also look by themselves every few seconds, so a lost notice costs latency
// and never an event or a webhook.
//
// The node publishes its own notices locally at once (Server.Publish) and
// queues them here; a sender sends them in batches with NOTIFY after the
// commit, and every node's listener hands the notices of other nodes to its
// broker and dispatcher, skipping its own by the node id in the message.
type cluster struct {
	t       clusterTransport
	node    string
	log     *slog.Logger
	out     chan verify.Notice
	deliver func(verify.Notice) // a notice from another node
	resync  func()              // after (re)connecting: wake everyone
	dropped atomic.Int64
}

// maxPayload keeps a batch under PostgreSQL's 8000-byte NOTIFY limit.
const maxPayload = 7000

// clusterMessage is one NOTIFY payload.
type clusterMessage struct {
	Node    string          `json:"node"`
	Notices []clusterNotice `json:"notices"`
}

type clusterNotice struct {
	AppID          string `json:"app,omitempty"`
	VerificationID string `json:"vf,omitempty"`
	EventID        int64  `json:"ev,omitempty"`
	Type           string `json:"type,omitempty"`
	Deliveries     bool   `json:"dl,omitempty"`
	Jobs           bool   `json:"jb,omitempty"`
	SecretRotated  bool   `json:"sr,omitempty"`
}

func newCluster(t clusterTransport, log *slog.Logger, deliver func(verify.Notice), resync func()) *cluster {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &cluster{
		t: t, node: "node_" + hex.EncodeToString(b[:]), log: log,
		out: make(chan verify.Notice, 4096), deliver: deliver, resync: resync,
	}
}

// Publish queues n for the other nodes. It never blocks: when the queue is
// full (the database is unreachable or far behind) the notice is dropped,
// and the other nodes see the change at their next look.
func (c *cluster) Publish(n verify.Notice) {
	select {
	case c.out <- n:
	default:
		if c.dropped.Add(1)%1000 == 1 {
			c.log.Warn("cluster notices dropped: the queue to the database is full; other nodes will see changes late", slog.Int64("dropped", c.dropped.Load()))
		}
	}
}

// run sends and listens until ctx is done.
func (c *cluster) run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.t.Listen(ctx, NotifyChannel, c.receive, c.resync, func(err error) {
			c.log.Warn("cluster listener lost its connection; reconnecting", slog.Any("err", err))
		})
	}()
	c.send(ctx)
	<-done
}

// send takes queued notices in batches and sends each batch with one
// NOTIFY.
func (c *cluster) send(ctx context.Context) {
	for {
		var first verify.Notice
		select {
		case <-ctx.Done():
			return
		case first = <-c.out:
		}
		for _, payload := range c.batch(first) {
			nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.t.Notify(nctx, NotifyChannel, payload)
			cancel()
			if err != nil && ctx.Err() == nil {
				c.log.Warn("cluster notify failed; other nodes will see the change at their next look", slog.Any("err", err))
			}
		}
	}
}

// batch encodes first and whatever else is queued right now into payloads
// of at most maxPayload bytes.
func (c *cluster) batch(first verify.Notice) []string {
	var payloads []string
	msg := clusterMessage{Node: c.node}
	size := 0
	add := func(n verify.Notice) {
		cn := clusterNotice{AppID: n.AppID, VerificationID: n.VerificationID, EventID: n.EventID, Type: n.Type, Deliveries: n.Deliveries, Jobs: n.Jobs, SecretRotated: n.SecretRotated}
		b, _ := json.Marshal(cn)
		if size+len(b) > maxPayload-100 && len(msg.Notices) > 0 {
			payloads = append(payloads, encode(msg))
			msg.Notices, size = nil, 0
		}
		msg.Notices = append(msg.Notices, cn)
		size += len(b) + 1
	}
	add(first)
	for more := true; more && len(payloads) < 8; {
		select {
		case n := <-c.out:
			add(n)
		default:
			more = false
		}
	}
	return append(payloads, encode(msg))
}

func encode(m clusterMessage) string {
	b, _ := json.Marshal(m) // plain strings, ints and bools: cannot fail
	return string(b)
}

// receive handles one NOTIFY payload.
func (c *cluster) receive(payload string) {
	var m clusterMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		c.log.Warn("cluster: unreadable notice", slog.Any("err", err))
		return
	}
	if m.Node == c.node {
		return // published locally already
	}
	for _, n := range m.Notices {
		c.deliver(verify.Notice{AppID: n.AppID, VerificationID: n.VerificationID, EventID: n.EventID, Type: n.Type, Deliveries: n.Deliveries, Jobs: n.Jobs, SecretRotated: n.SecretRotated})
	}
}
