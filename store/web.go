package store

import (
	"context"
	"time"
)

// LoginTicket is a one-time sign-in link (login_url) minted with a holder
// session: the holder's browser opens it once, within its short lifetime, and
// gets a cookie session of its own. Only the ticket's hash is stored.
type LoginTicket struct {
	TicketHash  []byte
	Subject     string // pseudonymous holder subject
	HolderKind  string // person | enterprise
	DisplayName string // masked name
	CreatedBy   string // principal that minted it
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      *time.Time
}

// WebQueries are the queries behind the pages' sign-in and sign-out.
type WebQueries interface {
	CreateLoginTicket(ctx context.Context, t LoginTicket) error
	// UseLoginTicket marks the ticket used at now and returns it — once: an
	// unknown, already used or expired (now >= ExpiresAt) ticket gives
	// ErrNotFound, and of two concurrent uses exactly one succeeds.
	UseLoginTicket(ctx context.Context, ticketHash []byte, now time.Time) (LoginTicket, error)
	// DeleteSession ends a session at once; ErrNotFound when there is none.
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteExpiredLoginTickets removes tickets expired at now (used or
	// not) and reports how many.
	DeleteExpiredLoginTickets(ctx context.Context, now time.Time) (int64, error)
}
