// Package speechtest holds test helpers for the speech packages: finding
// the Debian tools (skipping with a printed reason when they are absent,
// unless LEXTRAIL_REQUIRE_SPEECH=1), speaking test phrases with espeak-ng,
// making Opus fixtures with opusenc, and checking encoded replies (MPEG
// frame headers, Ogg pages).
package speechtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/opus/pkg/oggreader"

	"lextrail/internal/speech/audio"
)

// RequireEnv makes missing speech tools a test failure instead of a skip.
const RequireEnv = "LEXTRAIL_REQUIRE_SPEECH"

// Packages names the Debian package of each tool the tests use.
var Packages = map[string]string{
	"pocketsphinx_continuous": "pocketsphinx",
	"espeak-ng":               "espeak-ng",
	"lame":                    "lame",
	"oggenc":                  "vorbis-tools",
	"opusenc":                 "opus-tools",
}

// ModelDir is where pocketsphinx-en-us installs the acoustic model.
const ModelDir = "/usr/share/pocketsphinx/model/en-us"

// Require skips the test (or fails it under LEXTRAIL_REQUIRE_SPEECH=1)
// unless every tool is on PATH. "model" stands for the pocketsphinx-en-us
// model files.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if tool == "model" {
			if _, err := os.Stat(filepath.Join(ModelDir, "en-us", "mdef")); err != nil {
				missing = append(missing, "the pocketsphinx en-us model (Debian package pocketsphinx-en-us)")
			}
			continue
		}
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", tool, Packages[tool]))
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "speech tools missing: " + strings.Join(missing, ", ")
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s, and %s=1", msg, RequireEnv)
	}
	t.Skip(msg + ": skipping (set " + RequireEnv + "=1 to make this a failure)")
}

// Say speaks text with an espeak-ng voice ("en-us+f3", "es", …) and returns
// 16 kHz mono samples.
func Say(t testing.TB, voice, text string, args ...string) []int16 {
	t.Helper()
	s, err := SayErr(voice, text, args...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SayErr is Say for helpers that cannot call t.Fatal.
func SayErr(voice, text string, args ...string) ([]int16, error) {
	cmd := exec.Command("espeak-ng", append([]string{"--stdout", "-v", voice}, append(args, "--", text)...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	wav, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("espeak-ng -v %s %q: %v: %s", voice, text, err, stderr.String())
	}
	s, rate, err := audio.ParseWAV(wav)
	if err != nil {
		return nil, fmt.Errorf("espeak-ng output: %v", err)
	}
	return audio.Resample(s, rate, audio.Rate), nil
}

// OpusCBR encodes mono samples at rate with opusenc --hard-cbr and returns
// the Opus packets (Ogg framing removed). Every packet must have the same
// size, the constant bit rate's packet size bitrate·frameMs/8000.
func OpusCBR(t testing.TB, s []int16, rate, kbps int, frameMs float64, extra ...string) [][]byte {
	t.Helper()
	Require(t, "opusenc")
	args := append([]string{"--quiet", "--hard-cbr", "--bitrate", fmt.Sprint(kbps), "--framesize", fmt.Sprint(frameMs),
		"--raw", "--raw-rate", fmt.Sprint(rate), "--raw-chan", "1"}, extra...)
	args = append(args, "-", "-")
	cmd := exec.Command("opusenc", args...)
	cmd.Stdin = bytes.NewReader(audio.PCMBytes(s))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	ogg, err := cmd.Output()
	if err != nil {
		t.Fatalf("opusenc: %v: %s", err, stderr.String())
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(ogg))
	if err != nil {
		t.Fatalf("opusenc output: %v", err)
	}
	var pkts [][]byte
	for {
		p, _, err := r.ParseNextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("opusenc output: %v", err)
		}
		if bytes.HasPrefix(p, []byte("OpusHead")) || bytes.HasPrefix(p, []byte("OpusTags")) {
			continue
		}
		pkts = append(pkts, append([]byte(nil), p...))
	}
	want := int(float64(kbps*1000)*frameMs/8000 + 0.5)
	for i, p := range pkts {
		if len(p) != want {
			t.Fatalf("opusenc --hard-cbr packet %d is %d bytes, want %d", i, len(p), want)
		}
	}
	return pkts
}

// MP3Info is what CheckMP3 found.
type MP3Info struct {
	Frames   int
	Rate     int
	Duration time.Duration
}

var mp3Rates = map[int][3]int{3: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 0: {11025, 12000, 8000}}

var mp3Bitrates = map[bool][16]int{ // MPEG-1 / MPEG-2(.5), layer III, kbit/s
	true:  {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
	false: {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
}

// CheckMP3 walks an MPEG audio layer III stream frame by frame (after an
// optional ID3v2 tag) and fails unless every byte belongs to a valid frame
// (a trailing partial frame is not allowed).
func CheckMP3(b []byte) (MP3Info, error) {
	var info MP3Info
	off := 0
	if len(b) >= 10 && string(b[:3]) == "ID3" {
		sz := int(b[6]&0x7f)<<21 | int(b[7]&0x7f)<<14 | int(b[8]&0x7f)<<7 | int(b[9]&0x7f)
		off = 10 + sz
	}
	samples := 0
	for off < len(b) {
		if len(b)-off < 4 {
			return info, fmt.Errorf("mp3: %d stray bytes at offset %d", len(b)-off, off)
		}
		h := binary.BigEndian.Uint32(b[off:])
		if h>>21 != 0x7ff {
			return info, fmt.Errorf("mp3: no frame sync at offset %d (%08x)", off, h)
		}
		ver := int(h>>19) & 3 // 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
		layer := int(h>>17) & 3
		bri := int(h>>12) & 15
		sri := int(h>>10) & 3
		pad := int(h>>9) & 1
		if ver == 1 || layer != 1 || bri == 0 || bri == 15 || sri == 3 {
			return info, fmt.Errorf("mp3: bad frame header %08x at offset %d", h, off)
		}
		rate := mp3Rates[ver][sri]
		kbps := mp3Bitrates[ver == 3][bri]
		spf := 1152
		size := 144 * kbps * 1000 / rate
		if ver != 3 {
			spf = 576
			size = 72 * kbps * 1000 / rate
		}
		size += pad
		if off+size > len(b) {
			return info, fmt.Errorf("mp3: frame at offset %d runs past the end (%d > %d)", off, off+size, len(b))
		}
		if info.Rate == 0 {
			info.Rate = rate
		} else if info.Rate != rate {
			return info, fmt.Errorf("mp3: sample rate changes from %d to %d", info.Rate, rate)
		}
		info.Frames++
		samples += spf
		off += size
	}
	if info.Frames == 0 {
		return info, errors.New("mp3: no frames")
	}
	info.Duration = time.Duration(samples) * time.Second / time.Duration(info.Rate)
	return info, nil
}

// OggInfo is what CheckOgg found.
type OggInfo struct {
	Pages    int
	Codec    string // "vorbis" or "opus"
	Rate     int
	Duration time.Duration
}

// CheckOgg walks an Ogg stream page by page: capture pattern "OggS",
// version 0, CRC of every page, a BOS first page and an EOS last page,
// and reads the codec, rate and duration (last granule position).
func CheckOgg(b []byte) (OggInfo, error) {
	var info OggInfo
	off := 0
	var granule uint64
	eos := false
	for off < len(b) {
		if len(b)-off < 27 || string(b[off:off+4]) != "OggS" {
			return info, fmt.Errorf("ogg: no capture pattern at offset %d", off)
		}
		if b[off+4] != 0 {
			return info, fmt.Errorf("ogg: version %d at offset %d", b[off+4], off)
		}
		flags := b[off+5]
		if info.Pages == 0 && flags&2 == 0 {
			return info, errors.New("ogg: first page is not a beginning-of-stream page")
		}
		if eos {
			return info, errors.New("ogg: data after the end-of-stream page")
		}
		eos = flags&4 != 0
		g := binary.LittleEndian.Uint64(b[off+6:])
		nseg := int(b[off+26])
		if len(b)-off < 27+nseg {
			return info, fmt.Errorf("ogg: truncated segment table at offset %d", off)
		}
		body := 0
		for _, l := range b[off+27 : off+27+nseg] {
			body += int(l)
		}
		end := off + 27 + nseg + body
		if end > len(b) {
			return info, fmt.Errorf("ogg: page at offset %d runs past the end", off)
		}
		page := append([]byte(nil), b[off:end]...)
		want := binary.LittleEndian.Uint32(page[22:])
		page[22], page[23], page[24], page[25] = 0, 0, 0, 0
		if got := oggCRC(page); got != want {
			return info, fmt.Errorf("ogg: CRC mismatch on page %d", info.Pages)
		}
		data := b[off+27+nseg : end]
		if info.Pages == 0 {
			switch {
			case len(data) >= 16 && data[0] == 1 && string(data[1:7]) == "vorbis":
				info.Codec = "vorbis"
				info.Rate = int(binary.LittleEndian.Uint32(data[12:]))
			case len(data) >= 16 && string(data[:8]) == "OpusHead":
				info.Codec = "opus"
				info.Rate = 48000
			default:
				return info, errors.New("ogg: unknown codec in the first page")
			}
		}
		if g != ^uint64(0) {
			granule = g
		}
		info.Pages++
		off = end
	}
	if info.Pages == 0 || !eos {
		return info, errors.New("ogg: no end-of-stream page")
	}
	if info.Rate > 0 {
		info.Duration = time.Duration(granule) * time.Second / time.Duration(info.Rate)
	}
	return info, nil
}

var oggTable = func() *crc32.Table {
	var t crc32.Table
	for i := range t {
		r := uint32(i) << 24
		for j := 0; j < 8; j++ {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return &t
}()

func oggCRC(b []byte) uint32 {
	var c uint32
	for _, x := range b {
		c = c<<8 ^ oggTable[byte(c>>24)^x]
	}
	return c
}
