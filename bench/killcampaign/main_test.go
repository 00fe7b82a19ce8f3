package main

import (
	"strings"
	"testing"
)

// TestShortCampaign runs the short kill campaign against the real binary:
// three SIGKILLs during 6 s of webhooks at 1,000/s, then every check of
// the full campaign (nothing lost, every duplicate explained).
func TestShortCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sprocket and runs a kill campaign (about a minute)")
	}
	var log strings.Builder
	rep, err := campaign(t.Context(), defaultConfig(true), &log)
	if err != nil {
		t.Fatalf("campaign: %v\n%s", err, log.String())
	}
	var out strings.Builder
	rep.print(&out)
	t.Logf("%s%s", log.String(), out.String())
	for _, p := range rep.problems() {
		t.Error(p)
	}
}
