package scheduler_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sprocketrun/sprocket/scheduler"
)

type printEmitter struct{}

func (printEmitter) Emit(_ context.Context, topic string, data any) error {
	fmt.Println(topic, data)
	return nil
}

func ExampleScheduler_Tick() {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := scheduler.New(scheduler.Config{
		Store:    &scheduler.MemoryStore{},
		Emitter:  printEmitter{},
		Location: loc,
		Topics:   []string{scheduler.TopicHourly, scheduler.TopicDaily},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	// The first tick only records where each topic stands.
	_ = s.Tick(ctx, time.Date(2026, 11, 23, 23, 30, 0, 0, loc))
	// Midnight fires both topics, once.
	_ = s.Tick(ctx, time.Date(2026, 11, 24, 0, 0, 5, 0, loc))
	_ = s.Tick(ctx, time.Date(2026, 11, 24, 0, 0, 30, 0, loc))
	fmt.Println("next:", s.NextSlot(time.Date(2026, 11, 24, 0, 0, 30, 0, loc)).In(loc))
	// Output:
	// mechanic/scheduler/hourly 2026-11-24T00:00:00-05:00
	// mechanic/scheduler/daily 2026-11-24T00:00:00-05:00
	// next: 2026-11-24 01:00:00 -0500 EST
}
