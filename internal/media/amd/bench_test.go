package amd

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/ringgate/ringgate/internal/media"
	"github.com/ringgate/ringgate/internal/prompts"
)

// greetings are the end-to-end tests' far ends, from the prompt
// recordings: short ones (a word, then silence) and long ones (phrases
// back to back), in the four languages.
func greetings() (human, machine [][]int16) {
	s := prompts.Default()
	quiet := bytes.Repeat([]byte{prompts.SilenceByte}, 8000*3)
	for _, loc := range prompts.Locales {
		for _, id := range []string{"hello", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "goodbye"} {
			human = append(human, media.Decode(append(append([]byte{}, s.Clip(loc, id)...), quiet...), false))
		}
		var long []byte
		for _, id := range []string{"hello_your", "verification_code_is", "your_code_is", "press_1_to_repeat", "hello", "goodbye"} {
			long = append(long, s.Clip(loc, id)...)
			long = append(long, bytes.Repeat([]byte{prompts.SilenceByte}, 400)...)
		}
		machine = append(machine, media.Decode(append(long, quiet...), false))
	}
	return
}

// BenchmarkDecision reports how much audio the detector needs before it
// decides (p50/p99, ms of call time: this is the decision time a caller
// experiences) on the test greetings, and the CPU per decision. Run:
//
//	go test -run '^$' -bench Decision ./internal/media/amd/
func BenchmarkDecision(b *testing.B) {
	human, machine := greetings()
	for _, set := range []struct {
		name string
		want string
		g    [][]int16
	}{{"human", Human, human}, {"machine", Machine, machine}} {
		b.Run(set.name, func(b *testing.B) {
			var times []time.Duration
			wrong := 0
			for i := range b.N {
				g := set.g[i%len(set.g)]
				d := New(Config{})
				v := ""
				for j := 0; j+Frame <= len(g) && v == ""; j += Frame {
					v = d.Push(g[j : j+Frame])
				}
				if v != set.want {
					wrong++
				}
				times = append(times, d.Elapsed())
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2])/1e6, "p50-decide-ms")
			b.ReportMetric(float64(times[(len(times)-1)*99/100])/1e6, "p99-decide-ms")
			b.ReportMetric(float64(wrong)/float64(b.N)*100, "%wrong")
		})
	}
}

func TestGreetingsJudged(t *testing.T) {
	human, machine := greetings()
	for i, g := range human {
		if v := New(Config{}).Push(g); v != Human {
			t.Errorf("short greeting %d: %q", i, v)
		}
	}
	for i, g := range machine {
		if v := New(Config{}).Push(g); v != Machine {
			t.Errorf("long greeting %d: %q", i, v)
		}
	}
}
