package bench

import (
	"context"
	"fmt"

	"github.com/kspbench/kspbench/plugin"
)

// recycling is one instance of a plugin that a workload calls over and over
// outside the plugin's pool. ready replaces it where serve's pool would: once
// it has served its profile's budget (plugin.Instance.Worn, the one
// definition of abi.Profile.MaxCallsPerInstance and
// MaxGuestBytesPerInstance), so that a figure times what production runs,
// the calls with a re-instantiation amortised over each budget's worth of
// them (none under a profile without a budget); and once a failure broke it,
// so that one failing figure does not fail the next on the same instance.
type recycling struct {
	p    *plugin.Plugin
	inst *plugin.Instance
}

// ready makes sure r.inst can serve the next call.
func (r *recycling) ready(ctx context.Context) error {
	if r.inst != nil && r.inst.Broken() == nil && !r.inst.Worn() {
		return nil
	}
	r.close(ctx)
	inst, err := r.p.NewInstance(ctx)
	if err != nil {
		return fmt.Errorf("replacing the instance (recycled at its profile's budget, or broken): %w", err)
	}
	r.inst = inst
	return nil
}

// close closes the instance, if any; not the plugin.
func (r *recycling) close(ctx context.Context) {
	if r.inst != nil {
		r.inst.Close(ctx)
		r.inst = nil
	}
}
