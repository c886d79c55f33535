package audio

import (
	"encoding/binary"
	"math"
)

const (
	wavPCM        = 1
	wavFloat      = 3
	wavExtensible = 0xFFFE
)

// parseWAV reads a RIFF/WAVE body: the fmt chunk decides the encoding,
// the data chunk holds the samples. A data chunk whose declared size runs
// past the body is truncated (400) unless the size is a streaming
// placeholder (0, or ≥ 0x7FFF0000 as written by tools piping to stdout),
// in which case the data runs to the end of the body.
func parseWAV(b []byte) (*pcmData, error) {
	if !isRIFF(b) {
		return nil, badRequest("the body is not a RIFF/WAVE file")
	}
	var (
		format, channels, bits, align int
		rate                          int
		haveFmt                       bool
	)
	off := 12
	for {
		if off+8 > len(b) {
			if !haveFmt {
				return nil, badRequest("truncated WAV: no fmt chunk")
			}
			return nil, badRequest("truncated WAV: no data chunk")
		}
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := off + 8
		rest := int64(len(b) - body)
		switch id {
		case "fmt ":
			if size < 16 || size > rest {
				return nil, badRequest("truncated or malformed WAV fmt chunk (%d bytes)", size)
			}
			c := b[body : body+int(size)]
			format = int(binary.LittleEndian.Uint16(c[0:2]))
			channels = int(binary.LittleEndian.Uint16(c[2:4]))
			rate = int(binary.LittleEndian.Uint32(c[4:8]))
			align = int(binary.LittleEndian.Uint16(c[12:14]))
			bits = int(binary.LittleEndian.Uint16(c[14:16]))
			if format == wavExtensible {
				if size < 40 {
					return nil, badRequest("malformed WAVE_FORMAT_EXTENSIBLE fmt chunk (%d bytes)", size)
				}
				format = int(binary.LittleEndian.Uint16(c[24:26])) // sub-format GUID's leading code
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, badRequest("malformed WAV: the data chunk comes before the fmt chunk")
			}
			if err := checkWAVFormat(format, channels, rate, bits, align); err != nil {
				return nil, err
			}
			n := size
			if n > rest {
				if size != 0 && size < 0x7FFF0000 {
					return nil, badRequest("truncated WAV: the data chunk declares %d bytes, the body holds %d", size, rest)
				}
				n = rest
			} else if size == 0 {
				n = rest
			}
			data := b[body : body+int(n)]
			if len(data)%align != 0 {
				return nil, badRequest("truncated WAV: %d data bytes is not a whole number of %d-byte sample frames", len(data), align)
			}
			return &pcmData{rate: rate, channels: channels, s: wavSamples(data, format, bits)}, nil
		}
		adv := size + size&1 // chunks are padded to even sizes
		if adv > rest {
			return nil, badRequest("truncated WAV: chunk %q declares %d bytes, the body holds %d", id, size, rest)
		}
		off = body + int(adv)
	}
}

func checkWAVFormat(format, channels, rate, bits, align int) error {
	switch {
	case format == wavPCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32):
	case format == wavFloat && (bits == 32 || bits == 64):
	default:
		return unsupported("WAV format %d with %d-bit samples is not supported: integer PCM (8, 16, 24, 32 bits) or IEEE float (32, 64 bits)", format, bits)
	}
	if channels < 1 || channels > 8 {
		return unsupported("WAV with %d channels is not supported (1 to 8)", channels)
	}
	if rate <= 0 {
		return badRequest("malformed WAV: a sample rate of %d Hz", rate)
	}
	if align != channels*bits/8 {
		return badRequest("malformed WAV: block align %d does not match %d channel(s) of %d bits", align, channels, bits)
	}
	return nil
}

func wavSamples(d []byte, format, bits int) []int16 {
	bps := bits / 8
	s := make([]int16, len(d)/bps)
	for i := range s {
		p := d[i*bps:]
		switch {
		case format == wavFloat && bits == 32:
			s[i] = floatSample(float64(math.Float32frombits(binary.LittleEndian.Uint32(p))))
		case format == wavFloat:
			s[i] = floatSample(math.Float64frombits(binary.LittleEndian.Uint64(p)))
		case bits == 8:
			s[i] = int16((int(p[0]) - 128) << 8)
		case bits == 16:
			s[i] = int16(binary.LittleEndian.Uint16(p))
		case bits == 24:
			s[i] = int16(uint16(p[1]) | uint16(p[2])<<8)
		default:
			s[i] = int16(binary.LittleEndian.Uint32(p) >> 16)
		}
	}
	return s
}

func floatSample(v float64) int16 {
	if math.IsNaN(v) {
		return 0
	}
	v *= 32767
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(math.Round(v))
}

// WAV wraps 16-bit mono PCM at rate in a canonical 44-byte RIFF header.
func WAV(samples []int16, rate int) []byte {
	n := 2 * len(samples)
	b := make([]byte, 44, 44+n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], wavPCM)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(n))
	return append(b, PCMBytes(samples)...)
}

// ParseWAV decodes a WAV body to mono 16-bit samples at its own rate (no
// resampling): the synthesiser reads espeak-ng's output with it.
func ParseWAV(b []byte) (samples []int16, rate int, err error) {
	p, err := parseWAV(b)
	if err != nil {
		return nil, 0, err
	}
	return p.mono(), p.rate, nil
}
