package audio

import (
	"math"
	"sync"
)

// Resample converts mono samples from rate in to rate out with a
// Kaiser-windowed sinc filter (16 zero crossings each side, cutoff at 95%
// of the lower Nyquist frequency, β = 8.6: about 80 dB stop-band), the
// polyphase table exact for ratios whose reduced numerator is ≤ 1024 and
// quantised to 1024 phases (1/1024 of a sample) otherwise. Tables for the
// common rates are kept; others are built per call, so odd rates sent by
// a client cannot grow memory.
func Resample(s []int16, in, out int) []int16 {
	if in == out || len(s) == 0 {
		return s
	}
	k := kernelFor(in, out)
	g := gcd(in, out)
	L, M := out/g, in/g // output sample n sits at input time n·M/L
	n := int((int64(len(s))*int64(L) + int64(M) - 1) / int64(M))
	res := make([]int16, n)
	half := k.taps / 2
	for j := 0; j < n; j++ {
		pos := int64(j) * int64(M)
		i := int(pos / int64(L))
		frac := pos % int64(L)
		ph := int(frac)
		if k.phases != L {
			ph = int((frac*int64(k.phases) + int64(L)/2) / int64(L))
			if ph == k.phases {
				ph, i = 0, i+1
			}
		}
		c := k.coef[ph*k.taps : (ph+1)*k.taps]
		acc := 0.0
		base := i - half + 1
		if base >= 0 && base+k.taps <= len(s) {
			for t, w := range c {
				acc += w * float64(s[base+t])
			}
		} else {
			for t, w := range c {
				if x := base + t; x >= 0 && x < len(s) {
					acc += w * float64(s[x])
				}
			}
		}
		res[j] = clamp16(acc)
	}
	return res
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

type kernel struct {
	taps, phases int
	coef         []float64 // phases × taps
}

var kernels sync.Map // [2]int{in,out} → *kernel, common rates only

var commonRates = map[int]bool{11025: true, 16000: true, 22050: true, 24000: true, 32000: true, 44100: true, 48000: true, 88200: true, 96000: true}

func kernelFor(in, out int) *kernel {
	key := [2]int{in, out}
	if k, ok := kernels.Load(key); ok {
		return k.(*kernel)
	}
	k := makeKernel(in, out)
	if commonRates[in] && commonRates[out] {
		kernels.Store(key, k)
	}
	return k
}

func makeKernel(in, out int) *kernel {
	g := gcd(in, out)
	L := out / g
	phases := L
	if phases > 1024 {
		phases = 1024
	}
	// cutoff in cycles per input sample
	scale := 1.0
	if out < in {
		scale = float64(out) / float64(in)
	}
	fc := 0.5 * 0.95 * scale
	const zeroCrossings = 16
	halfWidth := zeroCrossings / (2 * fc) // input samples each side
	taps := 2 * int(math.Ceil(halfWidth))
	const beta = 8.6
	i0b := bessel0(beta)
	k := &kernel{taps: taps, phases: phases, coef: make([]float64, phases*taps)}
	for p := 0; p < phases; p++ {
		frac := float64(p) / float64(phases)
		row := k.coef[p*taps : (p+1)*taps]
		sum := 0.0
		for t := 0; t < taps; t++ {
			x := float64(t-taps/2+1) - frac // distance from the output instant
			r := x / halfWidth
			if r <= -1 || r >= 1 {
				continue
			}
			w := bessel0(beta*math.Sqrt(1-r*r)) / i0b
			row[t] = 2 * fc * sinc(2*fc*x) * w
			sum += row[t]
		}
		for t := range row { // unity gain at DC
			row[t] /= sum
		}
	}
	return k
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < 1e-12*sum {
			break
		}
	}
	return sum
}
