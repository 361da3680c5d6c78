package issuer

import (
	"errors"
	"testing"
	"time"
)

// The whole table, written out independently of the implementation: every
// status × every action. "" means illegal.
func TestTransitionExhaustive(t *testing.T) {
	want := map[Status]map[Action]Status{
		StatusValid:      {ActionSuspend: StatusSuspended, ActionResume: "", ActionRevoke: StatusRevoked, ActionCancel: StatusCancelled, ActionRenew: StatusSuperseded},
		StatusSuspended:  {ActionSuspend: "", ActionResume: StatusValid, ActionRevoke: StatusRevoked, ActionCancel: StatusCancelled, ActionRenew: ""},
		StatusExpired:    {ActionSuspend: "", ActionResume: "", ActionRevoke: "", ActionCancel: StatusCancelled, ActionRenew: StatusSuperseded},
		StatusRevoked:    {ActionSuspend: "", ActionResume: "", ActionRevoke: "", ActionCancel: "", ActionRenew: ""},
		StatusCancelled:  {ActionSuspend: "", ActionResume: "", ActionRevoke: "", ActionCancel: "", ActionRenew: ""},
		StatusSuperseded: {ActionSuspend: "", ActionResume: "", ActionRevoke: "", ActionCancel: "", ActionRenew: ""},
	}
	if len(want) != len(Statuses) {
		t.Fatalf("table covers %d statuses, package has %d", len(want), len(Statuses))
	}
	count := 0
	for _, from := range Statuses {
		row, ok := want[from]
		if !ok || len(row) != len(Actions) {
			t.Fatalf("test table incomplete for %s", from)
		}
		for _, a := range Actions {
			count++
			got, err := Transition(from, a)
			if to := row[a]; to == "" {
				var e *Error
				if got != "" || !errors.Is(err, ErrIllegalTransition) || !errors.As(err, &e) || e.Code != CodeIllegalTransition {
					t.Errorf("%s --%s--> %q, %v; want illegal_transition", from, a, got, err)
				}
			} else if err != nil || got != to {
				t.Errorf("%s --%s--> %q, %v; want %s", from, a, got, err, to)
			}
		}
	}
	if count != 30 {
		t.Fatalf("%d pairs checked", count)
	}
	for _, tc := range []struct {
		s    Status
		a    Action
		code string
	}{{"active", ActionSuspend, CodeUnknownStatus}, {"", ActionSuspend, CodeUnknownStatus}, {StatusValid, "destroy", CodeUnknownAction}} {
		_, err := Transition(tc.s, tc.a)
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code || errors.Is(err, ErrIllegalTransition) {
			t.Errorf("Transition(%q, %q) = %v, want %s", tc.s, tc.a, err, tc.code)
		}
	}
}

func TestEffectiveStatus(t *testing.T) {
	until := day("2026-03-15") // valid through 15 March, China time
	for _, tc := range []struct {
		stored Status
		until  *time.Time
		now    time.Time
		want   Status
	}{
		{StatusValid, &until, time.Date(2026, 3, 15, 23, 59, 59, 0, cst), StatusValid},
		{StatusValid, &until, time.Date(2026, 3, 16, 0, 0, 0, 0, cst), StatusExpired},
		{StatusValid, &until, time.Date(2026, 3, 15, 15, 59, 59, 0, time.UTC), StatusValid},
		{StatusValid, &until, time.Date(2026, 3, 15, 16, 0, 0, 0, time.UTC), StatusExpired},
		{StatusSuspended, &until, time.Date(2027, 1, 1, 0, 0, 0, 0, cst), StatusExpired},
		{StatusRevoked, &until, time.Date(2027, 1, 1, 0, 0, 0, 0, cst), StatusRevoked},
		{StatusCancelled, &until, time.Date(2027, 1, 1, 0, 0, 0, 0, cst), StatusCancelled},
		{StatusSuperseded, &until, time.Date(2027, 1, 1, 0, 0, 0, 0, cst), StatusSuperseded},
		{StatusValid, nil, time.Date(2999, 1, 1, 0, 0, 0, 0, cst), StatusValid},
	} {
		if got := EffectiveStatus(tc.stored, tc.until, tc.now); got != tc.want {
			t.Errorf("EffectiveStatus(%s, %v, %v) = %s, want %s", tc.stored, tc.until, tc.now, got, tc.want)
		}
	}
}

func TestNationalCode(t *testing.T) {
	want := map[Status]string{
		StatusValid: "01", StatusSuspended: "02", StatusRevoked: "07", StatusCancelled: "04",
		StatusExpired: "05", StatusSuperseded: "05", "bogus": "99",
	}
	for s, code := range want {
		if got := NationalCode(s); got != code {
			t.Errorf("NationalCode(%s) = %s, want %s", s, got, code)
		}
		if NationalCodeNames[NationalCode(s)] == "" {
			t.Errorf("no name for %s", NationalCode(s))
		}
	}
	if NationalCodeFor(StatusRevoked, RevocationAnnulment) != "03" || NationalCodeFor(StatusRevoked, RevocationPenalty) != "07" ||
		NationalCodeFor(StatusValid, RevocationAnnulment) != "01" {
		t.Error("revocation kinds mapped wrongly")
	}
}

func TestStatusEntry(t *testing.T) {
	want := map[Status]uint8{
		StatusValid: 0, StatusExpired: 0, StatusSuspended: 1, StatusRevoked: 2, StatusCancelled: 2, StatusSuperseded: 3,
	}
	for _, s := range Statuses {
		if got := StatusEntry(s); got != want[s] {
			t.Errorf("StatusEntry(%s) = %d, want %d", s, got, want[s])
		}
	}
}
