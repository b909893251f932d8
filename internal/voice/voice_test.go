package voice

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringgate/ringgate/internal/ivr"
	"github.com/ringgate/ringgate/internal/media/amd"
	"github.com/ringgate/ringgate/internal/prompts"
)

// line plays in (fake) real time: 8 bytes of µ-law per millisecond.
type line struct {
	mu     sync.Mutex
	plays  int
	onPlay func(n int)
}

func (l *line) Play(b []byte) <-chan struct{} {
	l.mu.Lock()
	l.plays++
	n := l.plays
	l.mu.Unlock()
	if l.onPlay != nil {
		l.onPlay(n)
	}
	done := make(chan struct{})
	time.AfterFunc(time.Duration(len(b)/8)*time.Millisecond, func() { close(done) })
	return done
}

func call(l *line) *Call {
	return &Call{Line: l, Prompts: prompts.Default(), Locale: "en", Plan: ivr.Default(), Vars: map[string]string{"code": "1234", "app": "Acme"}}
}

func TestKeyDuringPromptRepeatsThenTimeoutHangsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &line{}
		c := call(l)
		l.onPlay = func(n int) {
			if n == 1 {
				c.Key('1') // pressed while the first prompt plays: counts for its menu
			}
		}
		start := time.Now()
		res, err := c.Run(context.Background())
		if err != nil || res.Spoken != 2 || res.Reason != ivr.ReasonHangup || res.AnsweredBy != amd.Unknown {
			t.Fatalf("%+v %v", res, err)
		}
		// two plays, then the menu's 3.5 s without a key
		one, _ := prompts.Default().Speak(context.Background(), "Hello, your {{app}} verification code is {{code}}. Press 1 to repeat.", c.Vars, "en")
		want := 2*time.Duration(len(one)/8)*time.Millisecond + 3500*time.Millisecond
		if got := time.Since(start); got != want {
			t.Fatalf("call took %v, want %v", got, want)
		}
	})
}

func TestMachineHearsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &line{}
		c := call(l)
		c.Detect = true
		var told string
		c.OnAnswered = func(by string) { told = by }
		go func() {
			for range 100 { // 2 s of loud speech: a long greeting
				frame := make([]int16, 160)
				for i := range frame {
					frame[i] = int16(8000 * (1 - 2*(i%2)))
				}
				c.Audio(frame)
			}
		}()
		res, err := c.Run(context.Background())
		if err != nil || res.AnsweredBy != amd.Machine || told != amd.Machine || res.Spoken != 0 || l.plays != 0 {
			t.Fatalf("%+v %v, told %q, %d plays", res, err, told, l.plays)
		}
	})
}

func TestSilentLineIsUnknownWithinTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := call(&line{})
		c.Detect, c.Plan = true, nil // answer_call: the verdict only
		start := time.Now()
		res, err := c.Run(context.Background())
		if err != nil || res.AnsweredBy != amd.Unknown {
			t.Fatalf("%+v %v", res, err)
		}
		if d := time.Since(start); d > amd.DefaultTotal+time.Second {
			t.Fatalf("verdict after %v", d)
		}
	})
}

func TestHangupEndsRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		l := &line{}
		l.onPlay = func(int) { time.AfterFunc(time.Second, cancel) } // the far end hangs up mid-prompt
		res, err := call(l).Run(ctx)
		if !errors.Is(err, context.Canceled) || res.Spoken != 1 {
			t.Fatalf("%+v %v", res, err)
		}
	})
}
