package logs

import (
	"fmt"
	"testing"
)

func BenchmarkBloomAdd(b *testing.B) {
	var msgs [][]byte
	for i := 0; i < 1000; i++ {
		msgs = append(msgs, []byte(fmt.Sprintf(`{"messageVersion":"1.0","botName":"OrderFlowers","botAlias":"prod","botVersion":"1","inputTranscript":"i want roses %d","botResponse":"What day do you want the roses to be picked up?","intent":"OrderFlowers","nluIntentConfidence":0.93,"slots":{"FlowerType":"roses","PickupDate":null,"PickupTime":null},"missedUtterance":false,"inputDialogMode":"Text","requestId":"%08x-0c7e-4b0b-9d43-2f0f5e1c9a11","userId":"user-%d","sessionId":"2024-05-01T10:00:00.000Z-AbCdEfGh","dialogState":"ElicitSlot","locale":"en-US"}`, i, i*7919, i)))
	}
	n := 0
	for _, m := range msgs {
		n += len(m)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		bb := newBloom(int64(n))
		for _, m := range msgs {
			bb.add(m)
		}
	}
}
