package principal

import (
	"encoding/base64"
	"strings"
)

// LoginTicketPrefix starts every one-time sign-in ticket (the secret part of
// a login_url).
const LoginTicketPrefix = "slt_"

// NewLoginTicket mints a one-time sign-in ticket and the digest to store.
func NewLoginTicket() (ticket string, hash []byte) {
	ticket = LoginTicketPrefix + base64.RawURLEncoding.EncodeToString(random(32))
	return ticket, Hash(ticket)
}

// IsLoginTicket reports whether s has the form of a sign-in ticket.
func IsLoginTicket(s string) bool {
	rest, ok := strings.CutPrefix(s, LoginTicketPrefix)
	if !ok || len(rest) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}
