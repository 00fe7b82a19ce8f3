// Command killcampaign proves on the real binary that `kill -9` loses no
// acknowledged webhook and hides no repeated side effect. It builds (or
// takes) `sprocket serve`, starts it on SQLite in a temporary data
// directory with a task whose http action posts each webhook's number to
// a slow loopback sink (200–500 ms per request by default), and then:
//
//  1. drives webhooks at a fixed offered rate (default 1,000/s) for the
//     load period, recording every 2xx acknowledgement with its number;
//  2. kills the service with SIGKILL several times during the load (three
//     by default) and restarts it at once on the same data directory and
//     port;
//  3. waits until every run has finished and checks, through the API:
//     every acknowledged webhook is exactly one event (none lost, none
//     doubled), every event has exactly one task run and one action run,
//     all successful; every action reached the sink at least once, with
//     the same Idempotency-Key on every send; and every action the sink
//     saw more than once has an interrupted attempt in its
//     attempts_history (reperformed_after_interruption: the re-send is
//     visible in the record).
//
// It prints the counts and exits 1 on any loss, unexplained duplicate or
// other broken check. -short runs a smaller campaign (about a minute with
// the build). Usage:
//
//	go run ./bench/killcampaign            # full campaign
//	go run ./bench/killcampaign -short     # CI-sized
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	c := defaultConfig(false)
	short := flag.Bool("short", false, "run the short campaign (6 s of load, lease 2 s): flags given explicitly still apply")
	flag.StringVar(&c.bin, "bin", "", "sprocket binary to run (empty: go build ./cmd/sprocket into a temporary directory)")
	flag.IntVar(&c.rate, "rate", c.rate, "offered webhook rate (requests/s)")
	flag.DurationVar(&c.duration, "duration", c.duration, "length of the load")
	flag.IntVar(&c.kills, "kills", c.kills, "SIGKILLs (each followed by a restart) spread over the load")
	flag.DurationVar(&c.sinkMin, "sink-min", c.sinkMin, "shortest time the sink takes to answer an action")
	flag.DurationVar(&c.sinkMax, "sink-max", c.sinkMax, "longest time the sink takes to answer an action")
	flag.DurationVar(&c.lease, "lease", c.lease, "the service's --run-lease (a killed process's runs are retaken after it)")
	flag.IntVar(&c.workers, "workers", c.workers, "the service's --workers")
	flag.IntVar(&c.senders, "senders", c.senders, "concurrent webhook senders")
	flag.DurationVar(&c.drainTimeout, "drain-timeout", c.drainTimeout, "give up waiting for the runs to finish after this long")
	flag.BoolVar(&c.keep, "keep", false, "keep the data directory and the service log")
	flag.Parse()
	if *short {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		s := defaultConfig(true)
		s.bin, s.keep = c.bin, c.keep
		for name, apply := range map[string]func(){
			"rate": func() { s.rate = c.rate }, "duration": func() { s.duration = c.duration }, "kills": func() { s.kills = c.kills },
			"sink-min": func() { s.sinkMin = c.sinkMin }, "sink-max": func() { s.sinkMax = c.sinkMax }, "lease": func() { s.lease = c.lease },
			"workers": func() { s.workers = c.workers }, "senders": func() { s.senders = c.senders },
			"drain-timeout": func() { s.drainTimeout = c.drainTimeout },
		} {
			if set[name] {
				apply()
			}
		}
		c = s
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := campaign(ctx, c, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "killcampaign:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
	if problems := rep.problems(); len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "killcampaign: FAIL:", p)
		}
		os.Exit(1)
	}
	fmt.Println("killcampaign: PASS")
}

// defaultConfig returns the full or the short campaign.
func defaultConfig(short bool) config {
	c := config{
		rate: 1000, duration: 30 * time.Second, kills: 3,
		sinkMin: 200 * time.Millisecond, sinkMax: 500 * time.Millisecond,
		lease: 5 * time.Second, workers: 512, senders: 256, drainTimeout: 10 * time.Minute,
	}
	if short {
		c.duration, c.lease, c.drainTimeout = 6*time.Second, 2*time.Second, 3*time.Minute
	}
	return c
}
