// Package voice runs an answered call's audio side: answering-machine
// detection on what the far end says, then the IVR dialplan (ivr.Session)
// with its plays spoken from the prompt set and its menus fed by key
// presses. It knows no signalling: the SIP carrier gives it a line to play
// on, the far end's audio and keys, and a context that ends with the call.
package voice

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/media/amd"
	"github.com/ringgate/ringgate/internal/prompts"
)

// Line plays audio to the far end (media.Session).
type Line interface {
	// Play queues µ-law audio; the channel closes once it has been sent.
	Play(ulaw []byte) <-chan struct{}
}

// Call is one answered call to run.
type Call struct {
	Line    Line
	Prompts *prompts.Set
	Locale  string
	// Plan is the dialplan, run with Vars; nil for a call that only needs
	// the machine-detection verdict (answer_call).
	Plan *ivr.Dialplan
	Vars map[string]string
	// Detect runs answering-machine detection with AMD's thresholds;
	// without it the answer is "unknown".
	Detect bool
	AMD    amd.Config
	// OnAnswered is told the verdict as soon as it is known.
	OnAnswered func(by string)
	Log        *slog.Logger

	mu     sync.Mutex
	det    *amd.Detector
	judged chan string
	keys   chan byte
	once   sync.Once
}

func (c *Call) init() {
	c.once.Do(func() {
		c.det = amd.New(c.AMD)
		c.judged = make(chan string, 1)
		c.keys = make(chan byte, 32)
	})
}

// Audio feeds the far end's audio (8 kHz samples) to machine detection.
// Safe from any goroutine; pcm is not kept.
func (c *Call) Audio(pcm []int16) {
	c.init()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.det.Verdict() != "" {
		return
	}
	if v := c.det.Push(pcm); v != "" {
		c.judged <- v
	}
}

// Key delivers a key press from any source (RFC 4733, in-band, SIP INFO).
// Safe from any goroutine; keys beyond a small buffer are dropped.
func (c *Call) Key(k byte) {
	c.init()
	select {
	case c.keys <- k:
	default:
	}
}

// Result is how a call ended.
type Result struct {
	AnsweredBy string // human, machine, unknown
	// Reason is the dialplan's hang-up reason (ivr.Reason*); "" when the
	// call ended first (ctx) or had no plan.
	Reason string
	// Spoken counts the plays performed.
	Spoken int
}

// ErrTTS is a play that could not be fully spoken.
var ErrTTS = errors.New("voice: a play could not be spoken")

// Run judges the answer and runs the plan until it hangs up or ctx ends.
// It returns ctx's error when the call ended first (the far end hung up,
// the maximum duration passed).
func (c *Call) Run(ctx context.Context) (Result, error) {
	c.init()
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	res := Result{AnsweredBy: amd.Unknown}
	if c.Detect {
		v, err := c.verdict(ctx)
		if err != nil {
			return res, err
		}
		res.AnsweredBy = v
	}
	if c.OnAnswered != nil {
		c.OnAnswered(res.AnsweredBy)
	}
	if c.Plan == nil {
		return res, nil
	}
	s := c.Plan.Start(c.Vars)
	c.drain() // keys pressed over the greeting are not answers
	acts := s.Answered(res.AnsweredBy)
	for {
		var next []ivr.Action
		for _, a := range acts {
			switch a.Kind {
			case ivr.Say:
				audio, err := c.Prompts.Speak(ctx, a.Template, c.Vars, c.Locale)
				if err != nil {
					log.Warn("voice: play", slog.Any("err", err))
				}
				res.Spoken++
				select {
				case <-c.Line.Play(audio):
				case <-ctx.Done():
					return res, ctx.Err()
				}
			case ivr.Gather:
				digits, err := c.gather(ctx, a.MaxDigits, a.Timeout)
				if err != nil {
					return res, err
				}
				if digits == "" {
					next = s.Timeout()
				} else {
					next = s.Digits(digits)
				}
			case ivr.HangUp:
				res.Reason = a.Reason
				return res, nil
			}
		}
		if next == nil {
			return res, nil // a plan that returned nothing to do
		}
		acts = next
	}
}

// verdict waits for machine detection, bounded by its Total (a far end
// that sends no audio at all is unknown then).
func (c *Call) verdict(ctx context.Context) (string, error) {
	total := c.AMD.Total
	if total <= 0 {
		total = amd.DefaultTotal
	}
	t := time.NewTimer(total + 500*time.Millisecond) // audio in flight
	defer t.Stop()
	select {
	case v := <-c.judged:
		return v, nil
	case <-t.C:
		c.mu.Lock()
		defer c.mu.Unlock()
		if v := c.det.Verdict(); v != "" {
			return v, nil
		}
		return amd.Unknown, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// drain drops keys already received.
func (c *Call) drain() {
	for {
		select {
		case <-c.keys:
		default:
			return
		}
	}
}

// gather collects up to max keys, or those pressed before timeout. Keys
// pressed while the menu's prompts played count (barge-in without
// cutting the prompt short).
func (c *Call) gather(ctx context.Context, max int, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	var got []byte
	for len(got) < max {
		select {
		case k := <-c.keys:
			got = append(got, k)
		case <-t.C:
			return string(got), nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return string(got), nil
}
