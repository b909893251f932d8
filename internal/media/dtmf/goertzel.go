package dtmf

import "math"

// Detector finds DTMF tones in 8 kHz audio with the Goertzel algorithm:
// the power at the four row and four column frequencies of each 20 ms
// block (160 samples), compared with the block's energy. A key is a block
// where one row and one column tone hold most of the energy, each clearly
// above the other tones of its group, with their levels within the twist
// limits; it is reported once two blocks in a row agree (40 ms, the
// ITU-T Q.24 minimum), and not again until a block without it. Written
// here because the Go DTMF detectors in the field are unmaintained or
// tied to a media framework; the algorithm is twenty lines.
type Detector struct {
	// MinLevel is the smallest RMS (in 16-bit sample units) a block must
	// have to hold a tone; 0 means 200 (about -44 dBm0).
	MinLevel float64
	buf      []int16
	cand     byte // key of the previous block, 0 none
	reported byte // key reported and still sounding
}

// Block is the analysis length: 20 ms at 8 kHz.
const Block = 160

var (
	rows  = [4]float64{697, 770, 852, 941}
	cols  = [4]float64{1209, 1336, 1477, 1633}
	keys  = [4][4]byte{{'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}}
	coefR [4]float64
	coefC [4]float64
)

func init() {
	for i := range 4 {
		coefR[i] = 2 * math.Cos(2*math.Pi*rows[i]/8000)
		coefC[i] = 2 * math.Cos(2*math.Pi*cols[i]/8000)
	}
}

// Push feeds samples and returns the keys that began in them.
func (d *Detector) Push(pcm []int16) []byte {
	var out []byte
	d.buf = append(d.buf, pcm...)
	for len(d.buf) >= Block {
		if k := d.block(d.buf[:Block]); k != 0 {
			out = append(out, k)
		}
		d.buf = d.buf[Block:]
	}
	if cap(d.buf) > 4*Block { // keep the buffer from creeping
		d.buf = append(make([]int16, 0, 2*Block), d.buf...)
	}
	return out
}

func goertzel(x []int16, coef float64) float64 {
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + coef*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - coef*s1*s2
}

// Key reports the key whose tones fill one block, 0 for none.
func (d *Detector) Key(x []int16) byte {
	var energy float64
	for _, v := range x {
		energy += float64(v) * float64(v)
	}
	n := float64(len(x))
	min := d.MinLevel
	if min <= 0 {
		min = 200
	}
	if energy/n < min*min {
		return 0
	}
	// A tone of amplitude A over n samples gives Goertzel power (A·n/2)²
	// and energy A²·n/2: power/(energy·n/2) is the share of the energy at
	// that frequency.
	norm := energy * n / 2
	var pr, pc [4]float64
	br, bc := 0, 0
	for i := range 4 {
		pr[i] = goertzel(x, coefR[i]) / norm
		pc[i] = goertzel(x, coefC[i]) / norm
		if pr[i] > pr[br] {
			br = i
		}
		if pc[i] > pc[bc] {
			bc = i
		}
	}
	if pr[br]+pc[bc] < 0.6 { // the two tones are most of the signal
		return 0
	}
	for i := range 4 { // each stands 8 dB over the rest of its group
		if i != br && pr[i]*6.3 > pr[br] || i != bc && pc[i]*6.3 > pc[bc] {
			return 0
		}
	}
	// twist: the column tone at most 8 dB over or 4 dB under the row tone
	if pc[bc] > pr[br]*6.3 || pc[bc]*2.5 < pr[br] {
		return 0
	}
	return keys[br][bc]
}

func (d *Detector) block(x []int16) byte {
	k := d.Key(x)
	defer func() { d.cand = k }()
	if k == 0 {
		d.reported = 0
		return 0
	}
	if k == d.cand && k != d.reported {
		d.reported = k
		return k
	}
	if k != d.cand && k != d.reported {
		d.reported = 0
	}
	return 0
}

// Tone synthesises key as n samples of DTMF at amplitude amp per tone
// (for tests, and for the far end of end-to-end tests).
func Tone(key byte, n int, amp float64) []int16 {
	for r := range 4 {
		for c := range 4 {
			if keys[r][c] != key {
				continue
			}
			out := make([]int16, n)
			for i := range out {
				t := float64(i) / 8000
				out[i] = int16(amp*math.Sin(2*math.Pi*rows[r]*t) + amp*math.Sin(2*math.Pi*cols[c]*t))
			}
			return out
		}
	}
	return nil
}
