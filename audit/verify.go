package audit

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/suishen/suishen/store"
)

// VerifyKey checks a checkpoint signature made by key kid over msg.
type VerifyKey func(kid string, msg, sig []byte) error

// Report is the outcome of Verify.
type Report struct {
	Entries     int64 // sealed entries checked
	Checkpoints int   // checkpoints checked
	Signed      int   // of which signed
	Unsealed    int64 // entries older than the grace period still without a seal
	Pending     int64 // younger entries still waiting for their seal (not a fault)
	Head        []byte
	// Problem is empty when everything matches; otherwise it names the first
	// fault, and BadEntryID / BadSeq point at it.
	Problem    string
	BadEntryID int64
	BadSeq     int64
}

// OK reports whether the log verified.
func (r Report) OK() bool { return r.Problem == "" && r.Unsealed == 0 }

// Verify recomputes the whole chain from the first seal, checks every
// checkpoint against the recomputed head at its sequence number and its
// signature (when verifyKey is non-nil), and counts entries older than grace
// that were never sealed. It stops at the first fault.
func Verify(ctx context.Context, q store.Queries, verifyKey VerifyKey, now time.Time, grace time.Duration) (Report, error) {
	var r Report
	cps, err := q.ListAuditCheckpoints(ctx)
	if err != nil {
		return r, err
	}
	byseq := make(map[int64][]store.AuditCheckpoint)
	for _, c := range cps {
		byseq[c.Seq] = append(byseq[c.Seq], c)
	}
	prev := make([]byte, 32)
	var seq int64
	for {
		page, err := q.ListSealedAudit(ctx, seq, 1000)
		if err != nil {
			return r, err
		}
		for _, se := range page {
			if se.Seal.Seq != seq+1 {
				r.Problem = fmt.Sprintf("seal %d is missing (next seal is %d): entries were removed from the chain", seq+1, se.Seal.Seq)
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
			for _, c := range byseq[seq] {
				r.Checkpoints++
				if !bytes.Equal(c.Hash, h) {
					r.Problem = fmt.Sprintf("checkpoint at seal %d does not match the recomputed chain", seq)
					r.BadSeq, r.BadEntryID = seq, se.Entry.ID
					return r, nil
				}
				if c.KeyID != "" {
					r.Signed++
					if verifyKey != nil {
						if err := verifyKey(c.KeyID, CheckpointMessage(c.Seq, c.Hash, c.At), c.Signature); err != nil {
							r.Problem = fmt.Sprintf("checkpoint at seal %d: signature by %s does not verify: %v", seq, c.KeyID, err)
							r.BadSeq = seq
							return r, nil
						}
					}
				}
			}
			delete(byseq, seq)
		}
		if len(page) < 1000 {
			break
		}
	}
	for s := range byseq {
		r.Problem = fmt.Sprintf("checkpoint at seal %d refers past the end of the chain (%d): seals were removed", s, seq)
		r.BadSeq = s
		return r, nil
	}
	r.Head = prev
	r.Unsealed, err = q.CountUnsealedAuditBefore(ctx, now.Add(-grace))
	if err != nil {
		return r, err
	}
	all, err := q.CountUnsealedAuditBefore(ctx, now.Add(time.Hour))
	if err != nil {
		return r, err
	}
	r.Pending = all - r.Unsealed
	if r.Unsealed > 0 {
		r.Problem = fmt.Sprintf("%d entries older than %s were never sealed", r.Unsealed, grace)
	}
	return r, nil
}
