package amd

import (
	"math"
	"testing"
	"time"
)

// speech is a voiced stretch: a 200 Hz tone with a 4 Hz syllable envelope,
// never quieter than half its peak (so every frame is voiced).
func speech(d time.Duration) []int16 {
	n := int(d.Seconds() * 8000)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / 8000
		env := 0.75 + 0.25*math.Sin(2*math.Pi*4*t)
		out[i] = int16(6000 * env * math.Sin(2*math.Pi*200*t))
	}
	return out
}

func silence(d time.Duration) []int16 { return make([]int16, int(d.Seconds()*8000)) }

func cat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		audio []int16
		want  string
		by    time.Duration // decided no later than
	}{
		{"short hello then silence", cat(silence(300*time.Millisecond), speech(500*time.Millisecond), silence(2*time.Second)), Human, 1700 * time.Millisecond},
		{"two words with a short pause", cat(speech(400*time.Millisecond), silence(300*time.Millisecond), speech(400*time.Millisecond), silence(2*time.Second)), Human, 2 * time.Second},
		{"long greeting", cat(silence(200*time.Millisecond), speech(4*time.Second)), Machine, 1800 * time.Millisecond},
		{"greeting with pauses", cat(speech(700*time.Millisecond), silence(400*time.Millisecond), speech(700*time.Millisecond), silence(400*time.Millisecond), speech(2*time.Second)), Machine, 2 * time.Second},
		{"silence", silence(5 * time.Second), Unknown, DefaultInitialSilence},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := New(Config{})
			got := ""
			for i := 0; i+Frame <= len(tc.audio) && got == ""; i += Frame {
				got = d.Push(tc.audio[i : i+Frame])
			}
			if got != tc.want {
				t.Fatalf("verdict %q, want %q", got, tc.want)
			}
			if d.Elapsed() > tc.by || d.Elapsed() > DefaultTotal {
				t.Fatalf("decided after %v, want by %v", d.Elapsed(), tc.by)
			}
		})
	}
}

func TestBoundedWithNoAudio(t *testing.T) {
	d := New(Config{InitialSilence: 10 * time.Second, Total: 3 * time.Second})
	if got := d.Silence(3 * time.Second); got != Unknown {
		t.Fatalf("%q after Total of no audio", got)
	}
}

func TestThresholdsFromConfig(t *testing.T) {
	// the same 1 s greeting is a person by default, a machine when the
	// operator allows only 800 ms
	a := cat(speech(time.Second), silence(2*time.Second))
	for _, tc := range []struct {
		cfg  Config
		want string
	}{{Config{}, Human}, {Config{MaxGreeting: 800 * time.Millisecond}, Machine}, {Config{Level: 20000}, Unknown}} {
		if got := New(tc.cfg).Push(a); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.cfg, got, tc.want)
		}
	}
}
