package api

import (
	"context"
	"sync"
	"time"

	"github.com/suishen/suishen/store"
)

// usageLog writes usage records with group commit: concurrent requests'
// records go into one transaction, and each request returns only after its
// record is committed — nothing is lost on a crash, and a verification burst
// costs one commit per batch instead of one per request.
type usageLog struct {
	st       store.Store
	mu       sync.Mutex
	pending  []usageWrite
	flushing bool
}

type usageWrite struct {
	rec  store.UsageRecord
	done chan error
}

// maxUsageBatch bounds one transaction.
const maxUsageBatch = 500

func (l *usageLog) write(ctx context.Context, r store.UsageRecord) error {
	w := usageWrite{rec: r, done: make(chan error, 1)}
	l.mu.Lock()
	l.pending = append(l.pending, w)
	leader := !l.flushing
	if leader {
		l.flushing = true
	}
	l.mu.Unlock()
	if leader {
		l.flush()
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush commits batches until nothing is pending; the request that found
// no flush running leads it, the others wait for their record's commit.
func (l *usageLog) flush() {
	for {
		l.mu.Lock()
		batch := l.pending
		if len(batch) > maxUsageBatch {
			batch = batch[:maxUsageBatch]
		}
		l.pending = l.pending[len(batch):]
		if len(batch) == 0 {
			l.flushing = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		// A detached context: the leader's own request may be cancelled,
		// the others' records must still be written.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := l.st.InTx(ctx, func(q store.Queries) error {
			for _, w := range batch {
				if err := q.AddUsageRecord(ctx, w.rec); err != nil {
					return err
				}
			}
			return nil
		})
		cancel()
		for _, w := range batch {
			w.done <- err
		}
	}
}
