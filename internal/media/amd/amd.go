// Package amd is answering-machine detection on the audio of an answered
// call. A person answers with a short greeting ("Hello?") and waits; a
// machine plays a long one ("Hi, you've reached …, leave a message after
// the tone"). The detector measures, on 20 ms frames, how long the far
// end speaks before its first long pause, and decides within a bounded
// time: a greeting that ends in silence within MaxGreeting is a person,
// one still going at MaxGreeting is a machine, and anything else
// (silence throughout, noise that never settles) is unknown when Total
// runs out. Energy-based voice activity detection, like Asterisk's
// app_amd: no model, nothing to train, thresholds in config.
package amd

import (
	"math"
	"time"
)

// Verdicts, as carrier.Answered* spells them.
const (
	Human   = "human"
	Machine = "machine"
	Unknown = "unknown"
)

// Config holds the detector's thresholds; zero values take the defaults.
type Config struct {
	// Level is the RMS (16-bit sample units) above which a frame is
	// speech. Default 400 (about -38 dBFS).
	Level float64
	// InitialSilence: no speech this long after answer is unknown. 2.5 s.
	InitialSilence time.Duration
	// MaxGreeting: speech (with pauses shorter than Silence) lasting longer
	// than this is a machine. 1.5 s.
	MaxGreeting time.Duration
	// Silence: a pause this long after a greeting ends it. 800 ms.
	Silence time.Duration
	// Total bounds the decision: unknown if nothing is decided by then. 4 s.
	Total time.Duration
}

// Defaults.
const (
	DefaultLevel          = 400
	DefaultInitialSilence = 2500 * time.Millisecond
	DefaultMaxGreeting    = 1500 * time.Millisecond
	DefaultSilence        = 800 * time.Millisecond
	DefaultTotal          = 4 * time.Second
)

func (c Config) withDefaults() Config {
	if c.Level <= 0 {
		c.Level = DefaultLevel
	}
	if c.InitialSilence <= 0 {
		c.InitialSilence = DefaultInitialSilence
	}
	if c.MaxGreeting <= 0 {
		c.MaxGreeting = DefaultMaxGreeting
	}
	if c.Silence <= 0 {
		c.Silence = DefaultSilence
	}
	if c.Total <= 0 {
		c.Total = DefaultTotal
	}
	return c
}

// Frame is the analysis unit: 20 ms at 8 kHz.
const Frame = 160

const frameDur = 20 * time.Millisecond

// Detector judges one call. Feed it the far end's audio as it arrives
// (Push), and Timeout when audio stops arriving (a far end that sends
// nothing while silent). Not safe for concurrent use.
type Detector struct {
	cfg     Config
	buf     []int16
	elapsed time.Duration // audio judged so far
	started bool          // speech heard
	speech  time.Duration // from the first speech to the end of the last
	quiet   time.Duration // silence since the last speech
	verdict string
}

// New returns a detector with cfg's thresholds.
func New(cfg Config) *Detector { return &Detector{cfg: cfg.withDefaults()} }

// Verdict is the decision, "" while undecided.
func (d *Detector) Verdict() string { return d.verdict }

// Elapsed is how much audio has been judged.
func (d *Detector) Elapsed() time.Duration { return d.elapsed }

// Push feeds 8 kHz samples; it returns the verdict once there is one.
func (d *Detector) Push(pcm []int16) string {
	if d.verdict != "" {
		return d.verdict
	}
	d.buf = append(d.buf, pcm...)
	for len(d.buf) >= Frame && d.verdict == "" {
		d.frame(rms(d.buf[:Frame]) >= d.cfg.Level)
		d.buf = d.buf[Frame:]
	}
	if d.verdict != "" {
		d.buf = nil
	} else if cap(d.buf) > 4*Frame {
		d.buf = append(make([]int16, 0, 2*Frame), d.buf...)
	}
	return d.verdict
}

// Silence accounts for d of no audio at all (no RTP arriving): it counts
// as silent frames.
func (d *Detector) Silence(dur time.Duration) string {
	for ; dur >= frameDur && d.verdict == ""; dur -= frameDur {
		d.frame(false)
	}
	return d.verdict
}

func (d *Detector) frame(voiced bool) {
	d.elapsed += frameDur
	switch {
	case voiced:
		if d.started {
			d.speech += d.quiet
		}
		d.started, d.quiet = true, 0
		d.speech += frameDur
		if d.speech > d.cfg.MaxGreeting {
			d.verdict = Machine
			return
		}
	case d.started:
		d.quiet += frameDur
		if d.quiet >= d.cfg.Silence {
			d.verdict = Human
			return
		}
	default:
		if d.elapsed >= d.cfg.InitialSilence {
			d.verdict = Unknown
			return
		}
	}
	if d.elapsed >= d.cfg.Total {
		d.verdict = Unknown
	}
}

func rms(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(x)))
}
