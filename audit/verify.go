package audit

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/suishen/suishen/signing"
	"github.com/suishen/suishen/store"
)

// Claim is an audit head a verifier kept from outside the database — the
// audit_head of a trust bundle signed by the anchor — with where it came
// from, for messages.
type Claim struct {
	Head
	From string
}

// Options of Verify.
type Options struct {
	// Anchors are the trust anchors the pinned anchor vouches for, by key ID
	// (trust.Anchors). Only checkpoints signed by one of them count; keys in
	// the database are never consulted.
	Anchors map[string]*signing.PublicKey
	// Compromised are anchor key IDs known to be compromised (marked so in
	// the database or in a kept bundle): their checkpoints prove nothing,
	// since whoever holds the key could have signed them at any time. Using
	// a mark from the database is safe — it can only make the check stricter.
	Compromised map[string]bool
	// Claims are audit heads the log must still reach, each with the same
	// chain hash at its sequence number.
	Claims []Claim
	// Now is the time of the check; entries dated within Grace of it (either
	// side) may still be waiting for their seal or their checkpoint.
	Now   time.Time
	Grace time.Duration
}

// Report is the outcome of Verify.
type Report struct {
	Entries     int64 // sealed entries checked
	Checkpoints int   // checkpoints checked against the chain
	Signed      int   // of which signed by an anchor the pin vouches for, signature verified
	Unvouched   int   // of which unsigned, signed by a key the pin does not vouch for, or by a compromised anchor (not evidence)
	Covered     int64 // highest seal covered by a verified checkpoint (0: none)
	Claims      int   // audit heads from bundles that the log was found to reach
	Unsealed    int64 // entries older than the grace period still without a seal
	Pending     int64 // younger entries still waiting for their seal (not a fault)
	Head        []byte
	HeadSeq     int64
	// Problem is empty when everything matches; otherwise it names the first
	// fault, and BadEntryID / BadSeq point at it (the first seal of a
	// missing or uncovered range).
	Problem    string
	BadEntryID int64
	BadSeq     int64
}

// OK reports whether the log verified.
func (r Report) OK() bool { return r.Problem == "" && r.Unsealed == 0 }

// Verify recomputes the whole chain from the first seal and checks, stopping
// at the first fault:
//   - every seal follows the one before without a gap and matches its entry;
//   - every checkpoint matches the recomputed chain at its sequence number,
//     and a checkpoint signed by an anchor in opts.Anchors has a valid
//     signature (it is evidence unless the anchor is in opts.Compromised);
//   - every claimed head is reached, with the same hash (a log cut after the
//     head, or rewritten before it, fails here);
//   - checkpoints are required: every seal must be covered by a later
//     checkpoint signed by a vouched-for anchor, except a tail of entries
//     dated within the grace period after the last such checkpoint. A log
//     with no such checkpoint at all fails, whatever its dates;
//   - no entry older than the grace period is left unsealed.
func Verify(ctx context.Context, q store.Queries, opts Options) (Report, error) {
	var r Report
	cps, err := q.ListAuditCheckpoints(ctx)
	if err != nil {
		return r, err
	}
	byseq := make(map[int64][]store.AuditCheckpoint)
	for _, c := range cps {
		byseq[c.Seq] = append(byseq[c.Seq], c)
	}
	claims := append([]Claim(nil), opts.Claims...)
	sort.Slice(claims, func(i, j int) bool { return claims[i].Seq < claims[j].Seq })
	young := func(at time.Time) bool {
		return !at.Before(opts.Now.Add(-opts.Grace)) && !at.After(opts.Now.Add(opts.Grace))
	}
	var (
		prev      = make([]byte, 32)
		seq       int64
		firstUnv  *store.AuditCheckpoint // first checkpoint after r.Covered that is not evidence
		uncovered int64                  // entry ID of the first seal after r.Covered
		oldSeq    int64                  // last seal whose entry is not young
	)
	for {
		page, err := q.ListSealedAudit(ctx, seq, 1000)
		if err != nil {
			return r, err
		}
		for _, se := range page {
			if se.Seal.Seq != seq+1 {
				r.Problem = fmt.Sprintf("%s missing (the next seal is %d): entries were removed from the chain", seals(seq+1, se.Seal.Seq-1, true), se.Seal.Seq)
				r.BadSeq = seq + 1
				return r, nil
			}
			if se.Entry.ID != se.Seal.EntryID {
				r.Problem = fmt.Sprintf("seal %d points at entry %d, which does not exist", se.Seal.Seq, se.Seal.EntryID)
				r.BadSeq, r.BadEntryID = se.Seal.Seq, se.Seal.EntryID
				return r, nil
			}
			h := Chain(prev, Digest(se.Entry))
			if !bytes.Equal(h, se.Seal.Hash) {
				r.Problem = fmt.Sprintf("entry %d (seal %d) does not match its seal: the entry or the chain before it was altered", se.Entry.ID, se.Seal.Seq)
				r.BadSeq, r.BadEntryID = se.Seal.Seq, se.Entry.ID
				return r, nil
			}
			prev, seq = h, se.Seal.Seq
			r.Entries++
			if uncovered == 0 {
				uncovered = se.Entry.ID
			}
			if !young(se.Entry.At) {
				oldSeq = seq
			}
			for len(claims) > 0 && claims[0].Seq == seq {
				c := claims[0]
				claims = claims[1:]
				if !bytes.Equal(c.Hash, h) {
					r.Problem = fmt.Sprintf("the chain at seal %d (entry %d) does not match the audit head in %s: an entry in %s was altered or replaced and the chain re-hashed",
						seq, se.Entry.ID, c.From, seals(r.Covered+1, seq, false))
					r.BadSeq, r.BadEntryID = r.Covered+1, uncovered
					if r.Covered >= seq {
						r.Problem = fmt.Sprintf("the chain at seal %d (entry %d) does not match the audit head in %s, although checkpoints signed by the anchor match it: the anchor signed two different logs",
							seq, se.Entry.ID, c.From)
						r.BadSeq, r.BadEntryID = seq, se.Entry.ID
					}
					return r, nil
				}
				r.Claims++
			}
			for _, c := range byseq[seq] {
				r.Checkpoints++
				signer := "no key"
				if c.KeyID != "" {
					signer = "key " + c.KeyID
				}
				if !bytes.Equal(c.Hash, h) {
					r.Problem = fmt.Sprintf("checkpoint at seal %d (signed by %s) does not match the recomputed chain: an entry in %s was altered or replaced and the chain re-hashed",
						seq, signer, seals(r.Covered+1, seq, false))
					r.BadSeq, r.BadEntryID = r.Covered+1, uncovered
					return r, nil
				}
				pub := opts.Anchors[c.KeyID]
				if c.KeyID == "" || pub == nil || opts.Compromised[c.KeyID] {
					r.Unvouched++
					if firstUnv == nil {
						cc := c
						firstUnv = &cc
					}
					continue
				}
				if !signing.Verify(pub, CheckpointMessage(c.Seq, c.Hash, c.At), c.Signature) {
					r.Problem = fmt.Sprintf("checkpoint at seal %d: the signature by anchor %s does not verify", seq, c.KeyID)
					r.BadSeq, r.BadEntryID = seq, se.Entry.ID
					return r, nil
				}
				r.Signed++
				r.Covered, uncovered, firstUnv = seq, 0, nil
			}
			delete(byseq, seq)
		}
		if len(page) < 1000 {
			break
		}
	}
	r.Head, r.HeadSeq = prev, seq
	if len(byseq) > 0 {
		past := seq
		for s := range byseq {
			past = max(past, s)
		}
		r.Problem = fmt.Sprintf("the chain ends at seal %d, but a checkpoint was made at seal %d: %s removed (the newest entries were cut)", seq, past, seals(seq+1, past, true))
		r.BadSeq = seq + 1
		return r, nil
	}
	if len(claims) > 0 {
		c := claims[len(claims)-1]
		r.Problem = fmt.Sprintf("the chain ends at seal %d, but the audit head in %s shows it reached seal %d (entry of %s): %s removed (the newest entries were cut)",
			seq, c.From, c.Seq, c.At.UTC().Format(time.RFC3339), seals(seq+1, c.Seq, true))
		r.BadSeq = seq + 1
		return r, nil
	}
	if seq > r.Covered && (r.Covered == 0 || oldSeq > r.Covered) {
		last := seq
		if r.Covered > 0 {
			last = oldSeq
		}
		verb := "are"
		if last == r.Covered+1 {
			verb = "is"
		}
		r.Problem = fmt.Sprintf("%s (from entry %d) %s not covered by any checkpoint signed by the pinned anchor", seals(r.Covered+1, last, false), uncovered, verb)
		switch {
		case firstUnv != nil && opts.Compromised[firstUnv.KeyID]:
			r.Problem += fmt.Sprintf(": the checkpoint at seal %d is signed by anchor %s, which is marked compromised: whoever holds its key could have signed it", firstUnv.Seq, firstUnv.KeyID)
		case firstUnv != nil && firstUnv.KeyID != "":
			r.Problem += fmt.Sprintf(": the checkpoint at seal %d is signed by key %s, which the pinned anchor does not vouch for (a key row in the database proves nothing)", firstUnv.Seq, firstUnv.KeyID)
		case firstUnv != nil:
			r.Problem += fmt.Sprintf(": the checkpoint at seal %d is not signed", firstUnv.Seq)
		case len(cps) == 0:
			r.Problem += ": the log has no checkpoints at all (were they deleted?)"
		default:
			r.Problem += ": the checkpoints after seal " + fmt.Sprint(r.Covered) + " are gone (deleted, or the server stopped abruptly before its next checkpoint; a running server writes one every minute)"
		}
		r.BadSeq, r.BadEntryID = r.Covered+1, uncovered
		return r, nil
	}
	r.Unsealed, err = q.CountUnsealedAuditBefore(ctx, opts.Now.Add(-opts.Grace))
	if err != nil {
		return r, err
	}
	all, err := q.CountUnsealedAuditBefore(ctx, opts.Now.Add(time.Hour))
	if err != nil {
		return r, err
	}
	r.Pending = all - r.Unsealed
	if r.Unsealed > 0 {
		r.Problem = fmt.Sprintf("%d entries older than %s were never sealed", r.Unsealed, opts.Grace)
	}
	return r, nil
}

// seals names a range of seals, with its verb when verb is set:
// "seal 7 is", "seals 7–9 are".
func seals(from, to int64, verb bool) string {
	s := fmt.Sprintf("seals %d–%d", from, to)
	v := " are"
	if from == to {
		s, v = fmt.Sprintf("seal %d", from), " is"
	}
	if verb {
		return s + v
	}
	return s
}
