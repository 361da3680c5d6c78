package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/suishen/suishen/store"
)

// testLoginTickets: a ticket works once, not after its expiry, and of many
// concurrent uses exactly one wins.
func testLoginTickets(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := base.Truncate(time.Microsecond) // the stores keep microseconds
	tk := store.LoginTicket{TicketHash: hash(40), Subject: "sub-1", HolderKind: "person", DisplayName: "张*",
		CreatedBy: "app:1", CreatedAt: base, ExpiresAt: base.Add(2 * time.Minute)}
	ok(t, s.CreateLoginTicket(ctx, tk), "create")
	wantErr(t, s.CreateLoginTicket(ctx, tk), store.ErrAlreadyExists, "duplicate ticket")

	_, err := s.UseLoginTicket(ctx, hash(41), base)
	wantErr(t, err, store.ErrNotFound, "unknown ticket")
	got, err := s.UseLoginTicket(ctx, tk.TicketHash, base.Add(time.Minute))
	ok(t, err, "first use")
	if got.Subject != tk.Subject || got.HolderKind != tk.HolderKind || got.DisplayName != tk.DisplayName ||
		got.CreatedBy != tk.CreatedBy || !got.ExpiresAt.Equal(tk.ExpiresAt) || got.UsedAt == nil ||
		!got.UsedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("used ticket %+v", got)
	}
	_, err = s.UseLoginTicket(ctx, tk.TicketHash, base.Add(time.Minute))
	wantErr(t, err, store.ErrNotFound, "second use")

	late := tk
	late.TicketHash = hash(42)
	ok(t, s.CreateLoginTicket(ctx, late), "create late")
	_, err = s.UseLoginTicket(ctx, late.TicketHash, late.ExpiresAt)
	wantErr(t, err, store.ErrNotFound, "at the expiry instant")
	_, err = s.UseLoginTicket(ctx, late.TicketHash, late.ExpiresAt.Add(-time.Microsecond))
	ok(t, err, "just before expiry")

	// Expired tickets are swept, used or not; live ones stay.
	live := tk
	live.TicketHash, live.ExpiresAt = hash(44), base.Add(time.Hour)
	ok(t, s.CreateLoginTicket(ctx, live), "create live")
	n, err := s.DeleteExpiredLoginTickets(ctx, base.Add(2*time.Minute))
	ok(t, err, "sweep")
	same(t, "tickets swept", n, int64(2)) // tk (used) and late (used), both expired
	_, err = s.UseLoginTicket(ctx, live.TicketHash, base.Add(3*time.Minute))
	ok(t, err, "a live ticket survives the sweep")

	race := tk
	race.TicketHash = hash(43)
	ok(t, s.CreateLoginTicket(ctx, race), "create race")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, losses := 0, 0
	for range 8 {
		wg.Go(func() {
			_, err := s.UseLoginTicket(ctx, race.TicketHash, base)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrNotFound):
				losses++
			default:
				t.Errorf("concurrent use: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || losses != 7 {
		t.Fatalf("concurrent uses: %d won, %d lost; want 1 and 7", wins, losses)
	}
}

// testDeleteSession: a deleted session is gone at once; deleting twice is ErrNotFound.
func testDeleteSession(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := base.Truncate(time.Microsecond)
	se := store.Session{TokenHash: hash(44), Subject: "sub-1", HolderKind: "person", DisplayName: "张*",
		CreatedBy: "app:1", CreatedAt: base, ExpiresAt: base.Add(30 * time.Minute)}
	other := se
	other.TokenHash = hash(45)
	ok(t, s.CreateSession(ctx, se), "create")
	ok(t, s.CreateSession(ctx, other), "create other")
	ok(t, s.DeleteSession(ctx, se.TokenHash), "delete")
	_, err := s.GetSession(ctx, se.TokenHash, base)
	wantErr(t, err, store.ErrNotFound, "deleted session")
	wantErr(t, s.DeleteSession(ctx, se.TokenHash), store.ErrNotFound, "delete again")
	_, err = s.GetSession(ctx, other.TokenHash, base)
	ok(t, err, "the holder's other session survives")
}
