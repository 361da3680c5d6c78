package api

import (
	"sync/atomic"
)

// peerSet holds what this node knows of its peer regions for verification
// (区域互认): reloaded from the store when invalidated or after
// peerReload, so that every node follows the others' fetches.
type peerSet struct {
	stale atomic.Bool
}

// invalidate makes the next use reload the peers from the store.
func (p *peerSet) invalidate() { p.stale.Store(true) }
