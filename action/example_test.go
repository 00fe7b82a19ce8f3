package action_test

import (
	"context"
	"fmt"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/echo"
	httpaction "github.com/sprocketrun/sprocket/action/http"
	"github.com/sprocketrun/sprocket/liquid/value"
)

func ExampleRegistry() {
	reg := action.NewRegistry()
	if err := reg.Register(echo.Type, echo.New()); err != nil {
		panic(err)
	}
	if err := reg.Register(httpaction.Type, httpaction.New(httpaction.Config{})); err != nil {
		panic(err)
	}

	// At task-run time: reject bad options early, naming the option.
	opts, _ := value.FromJSON([]byte(`{"method":"fetch","url":"https://example.com"}`))
	fmt.Println(reg.Validate("http", opts))

	// Later, when the action run is performed.
	opts, _ = value.FromJSON([]byte(`{"foo":"bar","__perform_event":false}`))
	res, err := reg.Perform(context.Background(), action.Request{Type: "echo", Options: opts, RunID: "r1", Attempt: 1})
	out, _ := value.ToJSON(res.Value)
	fmt.Println(string(out), err, reg.EmitsPerformEvent("echo", opts))

	opts, _ = value.FromJSON([]byte(`{"__error":"Forcing an error!"}`))
	_, err = reg.Perform(context.Background(), action.Request{Type: "echo", Options: opts})
	fmt.Println(err, action.Classify(err), action.Retryable(err))
	// Output:
	// http action: option "method": must be one of options, head, get, post, put, patch, delete, got "fetch"
	// {"foo":"bar"} <nil> false
	// Forcing an error! failed false
}
