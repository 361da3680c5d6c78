package sqldb

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

func TestRetry(t *testing.T) {
	ctx := t.Context()
	errOther := errors.New("other")
	for _, tc := range []struct {
		name      string
		attempts  int
		fails     int   // attempts that fail with ErrRetryable before the outcome
		outcome   error // returned after the failures
		wantCalls int
		wantErr   error
	}{
		{"success", 3, 0, nil, 1, nil},
		{"retried then success", 3, 2, nil, 3, nil},
		{"exhausted", 3, 10, nil, 3, store.ErrRetryable},
		{"other error not retried", 3, 0, errOther, 1, errOther},
		{"other error after retries", 5, 1, errOther, 2, errOther},
		{"default attempts", 0, 100, nil, DefaultTxAttempts, store.ErrRetryable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := Retry(ctx, tc.attempts, func() error {
				calls++
				if calls <= tc.fails {
					return fmt.Errorf("conflict: %w", store.ErrRetryable)
				}
				return tc.outcome
			})
			if calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls, tc.wantCalls)
			}
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestRetryManyAttemptsDoesNotOverflow(t *testing.T) {
	// The backoff must stay capped (and positive) far beyond 16 doublings.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	calls := 0
	err := Retry(ctx, 1000, func() error {
		calls++
		return store.ErrRetryable
	})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, store.ErrRetryable) {
		t.Fatalf("error %v, want the deadline and the last conflict", err)
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := Retry(ctx, 10, func() error {
		calls++
		cancel()
		return store.ErrRetryable
	})
	if calls != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("%d calls, error %v; want 1 call and context.Canceled", calls, err)
	}
}

func TestMarkRetryable(t *testing.T) {
	base := errors.New("handler failed: conflict")
	err := MarkRetryable(base)
	if !errors.Is(err, store.ErrRetryable) || !errors.Is(err, base) || err.Error() != base.Error() {
		t.Fatalf("MarkRetryable(%v) = %v", base, err)
	}
	if MarkRetryable(nil) != nil {
		t.Fatal("MarkRetryable(nil) != nil")
	}
}

func TestClassify(t *testing.T) {
	cause := errors.New("driver said no")
	err := Classify(store.ErrAlreadyExists, cause)
	if !errors.Is(err, store.ErrAlreadyExists) || !errors.Is(err, cause) {
		t.Fatalf("Classify = %v", err)
	}
	if Classify(store.ErrNotFound, nil) != store.ErrNotFound {
		t.Fatal("Classify with no cause is not the bare sentinel")
	}
}
