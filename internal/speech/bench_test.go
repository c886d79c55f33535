package speech_test

import (
	"bytes"
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"lextrail/internal/speech"
	"lextrail/internal/speech/audio"
	"lextrail/internal/speech/speechtest"
)

func p50(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// BenchmarkRecognize3s: one turn of about three seconds of speech (decode,
// pocketsphinx run, transcript), OrderFlowers grammar, ElicitIntent focus.
// Reports the p50 wall time (target ≤ 300 ms) and the recogniser's CPU.
func BenchmarkRecognize3s(b *testing.B) {
	s := service(b)
	g := grammar(b, s, "orderflowers")
	pcm := speechtest.Say(b, "en-us", "i want to order roses for tomorrow at three pm")
	if d := time.Duration(len(pcm)) * time.Second / 16000; d < 2500*time.Millisecond || d > 3500*time.Millisecond {
		b.Fatalf("utterance is %s", d)
	}
	body := audio.PCMBytes(pcm)
	ctx := context.Background()
	var ds []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		tr, err := s.Recognize(ctx, bytes.NewReader(body), l16CT, g, speech.FocusIntent)
		if err != nil || tr.NoMatch {
			b.Fatalf("%+v %v", tr, err)
		}
		ds = append(ds, time.Since(start))
	}
	b.ReportMetric(float64(p50(ds).Microseconds())/1000, "p50-ms")
}

// BenchmarkSynthesize: one sentence reply, per format. Reports the p50
// wall time (target ≤ 150 ms).
func BenchmarkSynthesize(b *testing.B) {
	s := service(b)
	ctx := context.Background()
	for _, accept := range []string{"audio/pcm", "audio/mpeg", "audio/ogg"} {
		b.Run(accept[6:], func(b *testing.B) {
			var ds []time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				sp, err := s.Synthesize(ctx, "What type of flowers would you like to order?", "Salli", "en-US", accept)
				if err != nil || len(sp.Body) == 0 {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
			}
			b.ReportMetric(float64(p50(ds).Microseconds())/1000, "p50-ms")
		})
	}
}

// BenchmarkConcurrentTurns8: 8 audio turns at once (recognise a phrase,
// speak an MP3 reply); fails on any error. Reports the wall time of the
// batch.
func BenchmarkConcurrentTurns8(b *testing.B) {
	s := service(b)
	g := grammar(b, s, "orderflowers")
	body := audio.PCMBytes(speechtest.Say(b, "en-us", "i would like to order some flowers"))
	ctx := context.Background()
	var ds []time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for k := 0; k < 8; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Recognize(ctx, bytes.NewReader(body), l16CT, g, speech.FocusIntent)
				if err == nil {
					_, err = s.Synthesize(ctx, "What type of flowers would you like to order?", "Salli", "en-US", "audio/mpeg")
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		ds = append(ds, time.Since(start))
	}
	b.ReportMetric(float64(p50(ds).Microseconds())/1000, "p50-batch-ms")
}
