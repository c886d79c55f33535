package asr

import (
	"testing"
)

// BenchmarkCompile: compiling a bot version's grammar (all foci), the
// build-time step.
func BenchmarkCompile(b *testing.B) {
	cmu := testCMU(b)
	for _, bot := range []string{"orderflowers", "booktrip", "reservarhotel"} {
		spec := loadSpec(b, bot)
		b.Run(bot, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Compile(spec, cmu); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
