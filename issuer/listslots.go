package issuer

import (
	"strconv"
	"strings"
)

// Status list naming: how certificates and long-lived codes are placed in
// status lists.
//
// The n-th slot of a partition goes to list prefix + "-" + n/ListEntries at
// entry ShuffledIndex(n % ListEntries). The prefix is the partition: "c"
// followed by the certificate type code for certificates (a counter per
// type, so a verifier of one type fetches only that type's lists), "o"
// offline codes, "e" enterprise codes, "v" venue codes — a verifier of one
// kind never fetches another kind's lists.
//
// ListEntries is 2^20: at 100 million slots that is under a hundred lists,
// so the trust bundle that references every list stays far below 64 KiB
// (with MinStatusListSize it would take 763 references, ~170 KiB), while one
// list with 2 % of its entries not good is ~30 KB compressed.
//
// Lists named before this scheme — a letter and a number without a hyphen,
// e.g. "c12" — have MinStatusListSize entries; their certificates and codes
// keep them.
const ListEntries = 1 << 20

// ListSlot returns the list and entry of the n-th allocation (n ≥ 0) in
// partition prefix, shuffled with key (see ShuffledIndex).
func ListSlot(key []byte, prefix string, n int64) (list string, index int, err error) {
	list = prefix + "-" + strconv.FormatInt(n/ListEntries, 10)
	index, err = ShuffledIndex(key, int(n%ListEntries), ListEntries)
	return list, index, err
}

// ListEntriesOf returns the number of entries of the list named id:
// ListEntries, or MinStatusListSize for a list named before ListSlot.
func ListEntriesOf(id string) int {
	if strings.Contains(id, "-") {
		return ListEntries
	}
	return MinStatusListSize
}
