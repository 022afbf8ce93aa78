package redis_test

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	connectredis "github.com/connectkit/connect/stores/redis"
)

// BenchmarkSaveTake measures a Save and a Take of a 300-byte value with a 10-minute TTL,
// through a StateStore ("store") and through go-redis directly with the same commands,
// SET key value PX and GETDEL ("raw"), serially and from parallel goroutines.
func BenchmarkSaveTake(b *testing.B) {
	c := newClient(b)
	prefix := freshPrefix(b, c)
	st := connectredis.NewStateStore(c, connectredis.WithPrefix(prefix))
	value := bytes.Repeat([]byte("v"), 300)
	const ttl = 10 * time.Minute
	ctx := context.Background()
	var seq atomic.Int64 // a unique key per iteration, across sub-benchmarks

	store := func(b *testing.B, key string) {
		if err := st.Save(ctx, key, value, ttl); err != nil {
			b.Fatal(err)
		}
		if v, err := st.Take(ctx, key); err != nil || len(v) != len(value) {
			b.Fatalf("Take = %d bytes, %v", len(v), err)
		}
	}
	raw := func(b *testing.B, key string) {
		key = prefix + key
		if err := c.Do(ctx, "set", key, value, "px", ttl.Milliseconds()).Err(); err != nil {
			b.Fatal(err)
		}
		if v, err := c.GetDel(ctx, key).Bytes(); err != nil || len(v) != len(value) {
			b.Fatalf("GETDEL = %d bytes, %v", len(v), err)
		}
	}
	for _, bm := range []struct {
		name string
		run  func(b *testing.B, key string)
	}{{"store", store}, {"raw", raw}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bm.run(b, "s256:bench-"+strconv.FormatInt(seq.Add(1), 10))
			}
		})
		b.Run(bm.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					bm.run(b, "s256:bench-"+strconv.FormatInt(seq.Add(1), 10))
				}
			})
		})
	}
}
