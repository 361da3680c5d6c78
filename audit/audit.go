// Package audit keeps Suishen's tamper-evident audit log (审计日志).
//
// Writers append entries in the same transaction as the change they record
// (store.Queries.AppendAudit); they never touch a shared chain head, so
// concurrent issuance is not serialised. A Sealer then places committed
// entries, in batches, into an SM3 hash chain:
//
//	digest_i = SM3(canonical(entry_i))
//	hash_i   = SM3(hash_{i-1} ‖ digest_i),   hash_0 = 32 zero bytes
//
// and periodically writes a checkpoint of the head, signed by the trust
// anchor (no anchor, no checkpoint: an unsigned one would prove nothing).
// Verify recomputes everything against a pinned anchor and names the first
// entry that does not match, or the range that is missing or not covered by
// a checkpoint; the anchor-signed trust bundle publishes the head too
// (audit_head), so a log cut or rewritten after a bundle was saved fails
// against that bundle. Entries sealed in a later batch than their ID
// suggests (a slow transaction committed late) are simply chained later: the
// chain order is the seal order, not the ID order.
package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/suishen/suishen/store"
)

// Actor is who did something.
type Actor struct {
	Kind store.PrincipalKind
	ID   string
}

// New builds an entry for q.AppendAudit. Details are encoded as JSON; they
// must not carry personal data in the clear (mask names, never ID numbers).
func New(now time.Time, actor Actor, action, objectType, objectID, requestID string, details any) store.AuditEntry {
	var raw []byte
	if details != nil {
		var err error
		raw, err = json.Marshal(details)
		if err != nil {
			raw = []byte(`{"marshal_error":true}`)
		}
	}
	return store.AuditEntry{
		At:         now.UTC().Truncate(time.Microsecond),
		ActorKind:  actor.Kind,
		ActorID:    actor.ID,
		Action:     action,
		ObjectType: objectType,
		ObjectID:   objectID,
		RequestID:  requestID,
		Details:    raw,
	}
}

// Digest is SM3 over the entry's canonical encoding: a version tag and every
// field, each as a 4-byte big-endian length and its bytes.
func Digest(e store.AuditEntry) [32]byte {
	var b bytes.Buffer
	put := func(s []byte) {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(s)))
		b.Write(l[:])
		b.Write(s)
	}
	put([]byte("suishen-audit-v1"))
	put([]byte(strconv.FormatInt(e.ID, 10)))
	put([]byte(e.At.UTC().Format("2006-01-02T15:04:05.000000Z")))
	put([]byte(e.ActorKind))
	put([]byte(e.ActorID))
	put([]byte(e.Action))
	put([]byte(e.ObjectType))
	put([]byte(e.ObjectID))
	put([]byte(e.RequestID))
	put(e.Details)
	return sm3.Sum(b.Bytes())
}

// Chain returns SM3(prev ‖ digest).
func Chain(prev []byte, digest [32]byte) []byte {
	h := sm3.New()
	h.Write(prev)
	h.Write(digest[:])
	return h.Sum(nil)
}

// CheckpointMessage is the exact byte string a checkpoint signature covers.
func CheckpointMessage(seq int64, hash []byte, at time.Time) []byte {
	return []byte(fmt.Sprintf("suishen-audit-checkpoint-v1\n%d\n%s\n%s",
		seq, hex.EncodeToString(hash), at.UTC().Format("2006-01-02T15:04:05.000000Z")))
}

// Signer signs checkpoints (the trust anchor's signing.Signer satisfies it).
type Signer interface {
	KeyID() string
	Sign(msg []byte) ([]byte, error)
}

// Sealer chains committed entries. Several nodes may run one each: a seal
// sequence number can be taken only once, so a node that loses a race just
// tries again later.
type Sealer struct {
	Store store.Store
	// Anchor returns the checkpoint signer, or nil while there is none.
	Anchor func() Signer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log receives operational messages (never entry contents).
	Log *slog.Logger
	// CheckpointEvery is the least time between two checkpoints (default 1 min).
	CheckpointEvery time.Duration
	// Batch is the most entries sealed per transaction (default 1000).
	Batch int

	mu             sync.Mutex
	scanned        bool      // a full scan for unsealed entries has been done
	since          time.Time // later passes look at entries created after this
	lastCheckpoint time.Time
}

func (s *Sealer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// lookBack bounds later passes to recent entries: a transaction that stays
// open longer than this before committing its entry is caught by the full
// scan at the next start, and `audit verify` reports it meanwhile.
const lookBack = 10 * time.Minute

// SealOnce seals every committed, unsealed entry and writes a checkpoint when
// one is due. It returns how many entries it sealed.
func (s *Sealer) SealOnce(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	batch := s.Batch
	if batch <= 0 {
		batch = 1000
	}
	start := s.now()
	since := s.since
	if !s.scanned {
		since = time.Time{}
	}
	total := 0
	for {
		n := 0
		err := s.Store.InTx(ctx, func(q store.Queries) error {
			n = 0
			prev := make([]byte, 32)
			var seq int64
			last, err := q.LastAuditSeal(ctx)
			switch {
			case err == nil:
				prev, seq = last.Hash, last.Seq
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			entries, err := q.UnsealedAudit(ctx, since, batch)
			if err != nil || len(entries) == 0 {
				return err
			}
			seals := make([]store.AuditSeal, len(entries))
			for i, e := range entries {
				seq++
				prev = Chain(prev, Digest(e))
				seals[i] = store.AuditSeal{Seq: seq, EntryID: e.ID, Hash: prev}
			}
			n = len(seals)
			return q.AddAuditSeals(ctx, seals)
		})
		if errors.Is(err, store.ErrAlreadyExists) {
			// Another node sealed these first; its chain is as good as ours.
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("audit: seal: %w", err)
		}
		total += n
		if n < batch {
			break
		}
	}
	s.scanned = true
	s.since = start.Add(-lookBack)
	if err := s.checkpoint(ctx, false); err != nil {
		return total, err
	}
	return total, nil
}

// SealAndCheckpoint seals what is pending and checkpoints the head at once,
// however recent the last checkpoint: for a clean shutdown and for commands
// that wrote entries, so the log they leave behind is covered.
func (s *Sealer) SealAndCheckpoint(ctx context.Context) (int, error) {
	n, err := s.SealOnce(ctx)
	if err != nil {
		return n, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return n, s.checkpoint(ctx, true)
}

func (s *Sealer) checkpoint(ctx context.Context, force bool) error {
	every := s.CheckpointEvery
	if every <= 0 {
		every = time.Minute
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if !force && !s.lastCheckpoint.IsZero() && now.Sub(s.lastCheckpoint) < every {
		return nil
	}
	var signer Signer
	if s.Anchor != nil {
		signer = s.Anchor()
	}
	if signer == nil {
		// Checkpoints are evidence only when the anchor signs them.
		if s.Log != nil {
			s.Log.Warn("audit checkpoint skipped: no trust anchor can sign")
		}
		return nil
	}
	empty := false
	err := s.Store.InTx(ctx, func(q store.Queries) error {
		head, err := q.LastAuditSeal(ctx)
		if errors.Is(err, store.ErrNotFound) {
			empty = true
			return nil
		}
		if err != nil {
			return err
		}
		last, err := q.LastAuditCheckpoint(ctx)
		switch {
		case err == nil && last.Seq >= head.Seq:
			return nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		cp := store.AuditCheckpoint{Seq: head.Seq, Hash: head.Hash, At: now}
		sig, err := signer.Sign(CheckpointMessage(cp.Seq, cp.Hash, cp.At))
		if err != nil {
			return err
		}
		cp.KeyID, cp.Signature = signer.KeyID(), sig
		return q.AddAuditCheckpoint(ctx, cp)
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("audit: checkpoint: %w", err)
	}
	if !empty {
		// Nothing sealed yet is nothing covered: the first seal gets its
		// checkpoint at once, not a minute after a fresh node started.
		s.lastCheckpoint = now
	}
	return nil
}

// Run seals every interval until ctx ends, then once more.
func (s *Sealer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// Final pass with a fresh deadline so a clean shutdown leaves nothing unsealed.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if _, err := s.SealAndCheckpoint(fctx); err != nil && s.Log != nil {
				s.Log.Warn("audit sealing on shutdown failed", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if _, err := s.SealOnce(ctx); err != nil && s.Log != nil && ctx.Err() == nil {
				s.Log.Warn("audit sealing failed", "err", err)
			}
		}
	}
}

// Head is the newest sealed entry: its sequence number, the chain hash there
// and the entry's time. The trust bundle publishes it as audit_head.
type Head struct {
	Seq  int64
	Hash []byte
	At   time.Time
}

// CurrentHead returns the chain's head; ok is false while nothing is sealed.
func CurrentHead(ctx context.Context, q store.Queries) (h Head, ok bool, err error) {
	last, err := q.LastAuditSeal(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return Head{}, false, nil
	}
	if err != nil {
		return Head{}, false, err
	}
	page, err := q.ListSealedAudit(ctx, last.Seq-1, 1)
	if err != nil {
		return Head{}, false, err
	}
	if len(page) != 1 || page[0].Seal.Seq != last.Seq {
		return Head{}, false, fmt.Errorf("audit: the entry of seal %d is missing", last.Seq)
	}
	return Head{Seq: last.Seq, Hash: last.Hash, At: page[0].Entry.At}, true, nil
}
