package task_test

import (
	"fmt"

	"github.com/sprocketrun/sprocket/task"
)

func ExampleParse() {
	t, err := task.Parse([]byte(`{
  "name": "Tag big orders",
  "script": "{% if order.total_price > options.threshold__number_required %}…{% endif %}",
  "options": {"threshold__number_required": "100"},
  "subscriptions": ["shopify/orders/create+5.minutes"],
  "subscriptions_template": "shopify/orders/create+5.minutes",
  "docs": null
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := task.Coerce("threshold__number_required", t.OptionValue("threshold__number_required"))
	fmt.Printf("%v %T\n", v, v)
	s, _ := task.ParseSubscription(t.Subscriptions[0])
	fmt.Println(s.Topic, s.Delay)

	_, err = task.Parse([]byte(`{"name": "x", "scirpt": ""}`))
	fmt.Println(err)
	// Output:
	// 100 int64
	// shopify/orders/create 5m0s
	// task: unknown field "scirpt" (line 1, column 15)
}
