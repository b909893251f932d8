package dtmf

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestReceiverRedundancyAndDedupe(t *testing.T) {
	var r Receiver
	var got []byte
	push := func(ts uint32, e Event) {
		k, ok, err := r.Push(ts, e.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got = append(got, k)
		}
	}
	// "1": start, two updates, three end packets (RFC 4733 §2.5.1.4).
	for _, d := range []uint16{160, 320, 480} {
		push(1000, Event{Code: 1, Duration: d})
	}
	for range 3 {
		push(1000, Event{Code: 1, End: true, Duration: 640})
	}
	// "1" again: a new event, a new timestamp; only its end packets arrive.
	push(2000, Event{Code: 1, End: true, Duration: 800})
	push(2000, Event{Code: 1, End: true, Duration: 800})
	// a late duplicate of the first event's end
	push(1000, Event{Code: 1, End: true, Duration: 640})
	// '#', then a non-DTMF event (16: a tone) that is no key
	push(3000, Event{Code: 11, Duration: 160})
	push(4000, Event{Code: 16, Duration: 160})
	if string(got) != "11#" {
		t.Fatalf("keys %q, want 11#", got)
	}
	if _, _, err := r.Push(5000, []byte{1, 2}); err == nil {
		t.Fatal("short payload accepted")
	}
}

func TestParseMarshal(t *testing.T) {
	e := Event{Code: 11, End: true, Volume: 10, Duration: 1234}
	got, err := Parse(e.Marshal())
	if err != nil || got != e {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestGoertzelKeys(t *testing.T) {
	for _, k := range []byte("0123456789*#ABCD") {
		var d Detector
		got := d.Push(Tone(k, 800, 6000)) // 100 ms
		if string(got) != string(k) {
			t.Errorf("key %c: detected %q", k, got)
		}
	}
}

func TestGoertzelRepeatsNeedAGap(t *testing.T) {
	var d Detector
	var a []int16
	a = append(a, Tone('5', 800, 5000)...)
	a = append(a, make([]int16, 400)...) // 50 ms gap
	a = append(a, Tone('5', 800, 5000)...)
	a = append(a, Tone('9', 800, 5000)...)
	if got := d.Push(a); string(got) != "559" {
		t.Fatalf("%q", got)
	}
}

func TestGoertzelRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]int16, 8000)
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 3000)
	}
	one := make([]int16, 8000) // a single 1 kHz tone
	for i := range one {
		one[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	quiet := Tone('5', 8000, 50)  // below MinLevel
	short := Tone('5', 160, 6000) // 20 ms: under the 40 ms minimum
	for name, x := range map[string][]int16{"noise": noise, "1 kHz": one, "quiet": quiet, "20 ms": append(short, make([]int16, 800)...)} {
		var d Detector
		if got := d.Push(x); len(got) != 0 {
			t.Errorf("%s: detected %q", name, got)
		}
	}
}

func FuzzRFC4733(f *testing.F) {
	f.Add(uint32(1), []byte{1, 0x8a, 0, 160})
	f.Add(uint32(2), []byte{11, 0, 0})
	f.Fuzz(func(t *testing.T, ts uint32, b []byte) {
		var r Receiver
		k, ok, err := r.Push(ts, b)
		if err != nil {
			if len(b) >= 4 {
				t.Fatalf("error on %d bytes: %v", len(b), err)
			}
			return
		}
		if ok && Key(b[0]) != k {
			t.Fatalf("key %c for code %d", k, b[0])
		}
		if _, again, _ := r.Push(ts, b); again {
			t.Fatal("same timestamp reported twice")
		}
	})
}
