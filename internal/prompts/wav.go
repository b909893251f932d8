package prompts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/zaf/g711"
)

// Rate is the sample rate of every prompt: 8 kHz, G.711's.
const Rate = 8000

// maxWAV bounds the audio a WAV file (a prompt, a TTS answer) may hold:
// five minutes at 48 kHz 16-bit.
const maxWAV = 48000 * 2 * 300

// DecodeWAV reads a PCM WAV (RIFF, 16-bit or 8-bit, mono or stereo, any
// rate) and returns its first channel as 16-bit samples and the rate.
// Sizes in the header are not trusted: espeak-ng writing to a pipe puts
// 0x7fffffff there, so the data chunk runs to the end of b. (A parser of
// our own: the Go WAV packages in the field pull in audio frameworks for
// the twenty lines this takes.)
func DecodeWAV(b []byte) ([]int16, int, error) {
	if len(b) > maxWAV+4096 {
		return nil, 0, errors.New("wav: too large")
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("wav: not a RIFF WAVE file")
	}
	var channels, bits, format int
	rate := 0
	p := 12
	for p+8 <= len(b) {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4 : p+8]))
		p += 8
		switch id {
		case "fmt ":
			if size < 16 || p+16 > len(b) {
				return nil, 0, errors.New("wav: short fmt chunk")
			}
			format = int(binary.LittleEndian.Uint16(b[p:]))
			channels = int(binary.LittleEndian.Uint16(b[p+2:]))
			rate = int(binary.LittleEndian.Uint32(b[p+4:]))
			bits = int(binary.LittleEndian.Uint16(b[p+14:]))
		case "data":
			if rate == 0 {
				return nil, 0, errors.New("wav: data before fmt")
			}
			if format != 1 || (bits != 16 && bits != 8) || channels < 1 || channels > 8 || rate < 4000 || rate > 192000 {
				return nil, 0, fmt.Errorf("wav: unsupported format %d, %d bits, %d channels, %d Hz (want PCM 8/16-bit)", format, bits, channels, rate)
			}
			data := b[p:]
			if size < len(data) {
				data = data[:size]
			}
			step := channels * bits / 8
			out := make([]int16, 0, len(data)/step)
			for i := 0; i+step <= len(data); i += step {
				if bits == 16 {
					out = append(out, int16(binary.LittleEndian.Uint16(data[i:])))
				} else {
					out = append(out, int16(int(data[i])-128)<<8)
				}
			}
			return out, rate, nil
		}
		if size < 0 || size > len(b)-p {
			break
		}
		p += size + size&1
	}
	return nil, 0, errors.New("wav: no data chunk")
}

// Resample converts samples from rate in to 8 kHz: a windowed-sinc
// low-pass at 3.6 kHz (so that nothing folds back into the telephone band)
// evaluated at each output instant. Slow, and only used when loading
// prompts and TTS answers, never per packet.
func Resample(in []int16, rate int) []int16 {
	if rate == Rate {
		return append([]int16(nil), in...)
	}
	ratio := float64(rate) / Rate
	n := int(float64(len(in)) / ratio)
	out := make([]int16, n)
	cut := 3600.0 / float64(rate) // cycles per input sample
	const half = 16               // taps each side, in input samples (scaled below)
	w := int(math.Ceil(half * math.Max(1, ratio)))
	for i := range out {
		t := float64(i) * ratio
		c := int(t)
		var acc, norm float64
		for k := c - w; k <= c+w; k++ {
			if k < 0 || k >= len(in) {
				continue
			}
			x := float64(k) - t
			var s float64
			if x == 0 {
				s = 2 * cut
			} else {
				s = math.Sin(2*math.Pi*cut*x) / (math.Pi * x)
			}
			win := 0.5 + 0.5*math.Cos(math.Pi*x/float64(w+1)) // Hann
			acc += float64(in[k]) * s * win
			norm += s * win
		}
		if norm != 0 {
			acc /= norm
		}
		out[i] = int16(max(-32768, min(32767, math.Round(acc))))
	}
	return out
}

// Ulaw encodes 8 kHz samples as G.711 µ-law.
func Ulaw(pcm []int16) []byte {
	out := make([]byte, len(pcm))
	for i, s := range pcm {
		out[i] = g711.EncodeUlawFrame(s)
	}
	return out
}

// Trim cuts leading and trailing silence (below level) from pcm, keeping
// pad samples of it at each end.
func Trim(pcm []int16, level int16, pad int) []int16 {
	a, b := 0, len(pcm)
	for a < b && abs16(pcm[a]) < level {
		a++
	}
	for b > a && abs16(pcm[b-1]) < level {
		b--
	}
	return pcm[max(0, a-pad):min(len(pcm), b+pad)]
}

func abs16(s int16) int16 {
	if s < 0 {
		if s == -32768 {
			return 32767
		}
		return -s
	}
	return s
}
