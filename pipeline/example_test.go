package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/cache"
	"github.com/sprocketrun/sprocket/action/echo"
	"github.com/sprocketrun/sprocket/action/event"
	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/pipeline"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

// Example wires a pipeline the way sprocket serve does: the SQLite store,
// the real renderer reading the store's cache, and the core actions.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sprocket-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()

	reg := action.NewRegistry()
	_ = reg.Register(echo.Type, echo.New())
	_ = reg.Register(cache.Type, cache.New(st))
	_ = reg.Register(event.Type, event.New(st, nil))
	p, err := pipeline.New(pipeline.Config{
		Store:    st,
		Actions:  reg,
		Renderer: pipeline.RunRenderer{Renderer: &run.Renderer{Engine: dialect.NewEngine(dialect.Options{}), Cache: pipeline.StoreCache(st)}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Events inserted through the batcher wake the pipeline at once.
	events := store.NewEventBatcher(p.WakingInserter(st), store.BatcherOptions{})
	defer events.Close()

	def := `{"name": "Count orders", "script": "{% action \"cache\", \"incr\", \"orders\" %}", "subscriptions": ["user/orders/new"]}`
	if _, _, err := st.CreateTask(ctx, store.NewTask{Name: "Count orders", Enabled: true,
		Subscriptions: []string{"user/orders/new"}, Definition: []byte(def)}); err != nil {
		fmt.Println(err)
		return
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()
	if _, err := events.Insert(ctx, store.NewEvent{Topic: "user/orders/new", Data: []byte(`{"id": 1}`)}); err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; i < 500; i++ {
		if v, ok, _ := st.CacheGet(ctx, "orders"); ok {
			fmt.Println("orders counted:", string(v))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output: orders counted: 1
}
