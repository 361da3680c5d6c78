package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
	"github.com/suishen/suishen/store/storetest"
)

// TestReservationDoesNotHoldTheLock: reserve_certificate_numbers must let go
// of its advisory lock before it returns, not at the end of the caller's
// transaction, or every issuer would wait for every other one.
func TestReservationDoesNotHoldTheLock(t *testing.T) {
	s := openSchema(t, true)
	ctx := t.Context()
	inside := make(chan int64)
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(q store.Queries) error {
			n, err := q.NextCertificateNumbers(ctx, 10)
			if err != nil {
				return err
			}
			var locks int
			if err := q.(*txQueries).d.QueryRow(ctx,
				`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`).Scan(&locks); err != nil {
				return err
			}
			if locks != 0 {
				t.Errorf("the transaction still holds %d advisory locks after reserving", locks)
			}
			inside <- n
			<-release // keep the transaction open
			return nil
		})
	}()
	var first int64
	select {
	case first = <-inside:
	case err := <-done:
		t.Fatalf("InTx: %v", err)
	}
	// Another reservation completes while that transaction is still open.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	next, err := s.NextCertificateNumbers(wctx, 1)
	close(release)
	if err != nil {
		t.Fatalf("reservation while another transaction is open: %v", err)
	}
	if next < first+10 {
		t.Errorf("reservation %d overlaps the open transaction's %d..%d", next, first, first+9)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestIssuanceDoesNotConflictWithStatusChanges issues into a list while
// entries of that list change status. Issuance only needs the list's row to
// exist; it must not fail with serialization errors because a status change
// updated that row (see sqldb's addStatusList). Before that was fixed, about
// one issuance in seven was retried here.
func TestIssuanceDoesNotConflictWithStatusChanges(t *testing.T) {
	s := openSchema(t, true)
	ctx := t.Context()
	const changes, workers, perWorker = 100, 8, 100
	first, err := s.NextCertificateNumbers(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	var pre []store.Certificate
	for i := range changes {
		pre = append(pre, storetest.BenchCertificate(first+int64(i)))
	}
	if _, err := s.CreateCertificates(ctx, pre); err != nil {
		t.Fatal(err)
	}
	var attempts atomic.Int64
	stop := make(chan struct{})
	var changer sync.WaitGroup
	changer.Go(func() {
		for _, c := range pre {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if err := s.ChangeCertificateStatus(ctx, store.CertificateStatusChange{
				ID: c.ID, From: "valid", To: "suspended", At: time.Now(),
			}); err != nil {
				t.Errorf("change: %v", err)
				return
			}
		}
	})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range perWorker {
				err := s.InTx(ctx, func(q store.Queries) error {
					attempts.Add(1)
					n, err := q.NextCertificateNumbers(ctx, 1)
					if err != nil {
						return err
					}
					return q.CreateCertificate(ctx, storetest.BenchCertificate(n))
				})
				if err != nil {
					t.Errorf("issue: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	changer.Wait()
	entries, err := s.StatusEntries(ctx, pre[0].StatusList)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no status changed while issuing: the test did not test anything")
	}
	retries := attempts.Load() - workers*perWorker
	t.Logf("%d issuances, %d retries, %d status changes meanwhile", workers*perWorker, retries, len(entries))
	if retries > workers*perWorker/20 {
		t.Errorf("%d retries for %d issuances while %d statuses changed in their list", retries, workers*perWorker, len(entries))
	}
}
