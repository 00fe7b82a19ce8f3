package liquid_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/sprocketrun/sprocket/liquid"
)

// shoutTag is a block tag rendering its body in capitals.
type shoutTag struct{}

type shoutNode struct{ body *liquid.Body }

func (shoutTag) Parse(p *liquid.TagParser) (liquid.Node, error) {
	body, err := p.ParseBlock() // up to {% endshout %}
	if err != nil {
		return nil, err
	}
	return &shoutNode{body: body}, nil
}

func (n *shoutNode) Render(rc *liquid.RenderContext) error {
	s, err := rc.RenderBody(n.body)
	if err != nil {
		return err
	}
	return rc.WriteString(strings.ToUpper(s))
}

func Example() {
	eng := liquid.NewEngine()
	eng.RegisterTag("shout", shoutTag{})
	tpl, err := eng.Parse("{% for n in names %}{% shout %}hi {{ n }}{% endshout %}{% unless forloop.last %}, {% endunless %}{% endfor %}")
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := tpl.Render(context.Background(), map[string]any{"names": []string{"ann", "bo"}}, nil)
	fmt.Println(out, err)
	// Output: HI ANN, HI BO <nil>
}
