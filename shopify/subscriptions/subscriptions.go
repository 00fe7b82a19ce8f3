// Package subscriptions keeps a shop's webhook subscriptions in step with
// the shopify/… topics that enabled tasks subscribe to: Reconcile lists the
// subscriptions that deliver to the service's webhook URL, creates the
// missing ones and deletes the ones no task needs any more, through the
// Admin GraphQL API (webhookSubscriptionCreate / Delete, with the uri
// field that replaces the deprecated callbackUrl).
package subscriptions

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/shopify/scopes"
)

// GraphQLer calls the Admin GraphQL API.
type GraphQLer interface {
	GraphQL(ctx context.Context, req shopify.GraphQLRequest) (*shopify.GraphQLResponse, error)
}

// Result says what Reconcile did.
type Result struct {
	// Created, Deleted and Kept list Shopify topics ("orders/create").
	Created, Deleted, Kept []string
	// Failed maps topics whose subscription could not be made or removed
	// to Shopify's reason (for example a missing access scope).
	Failed map[string]string
}

// EnumTopic turns a webhook topic ("orders/create") into the GraphQL
// enum value (ORDERS_CREATE).
func EnumTopic(topic string) string {
	return strings.ToUpper(strings.ReplaceAll(topic, "/", "_"))
}

// Topics returns the Shopify webhook topics of event subscriptions:
// "shopify/orders/create+1.hour" → "orders/create", sorted and once each.
func Topics(subs []string) []string {
	var out []string
	for _, s := range subs {
		t, ok := strings.CutPrefix(s, "shopify/")
		if !ok {
			continue
		}
		if i := strings.IndexByte(t, '+'); i >= 0 {
			t = t[:i]
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

type subscription struct {
	ID    string `json:"id"`
	Topic string `json:"topic"`
	URI   string `json:"uri"`
}

// List returns the shop's webhook subscriptions that deliver to uri.
func List(ctx context.Context, api GraphQLer, uri string) ([]subscription, error) {
	var out []subscription
	after := any(nil)
	for page := 0; page < 20; page++ {
		vars, _ := json.Marshal(map[string]any{"uri": uri, "after": after})
		resp, err := api.GraphQL(ctx, shopify.GraphQLRequest{
			Query:     `query SprocketWebhooks($uri: String, $after: String) { webhookSubscriptions(first: 50, uri: $uri, after: $after) { nodes { id topic uri } pageInfo { hasNextPage endCursor } } }`,
			Variables: vars,
		})
		if err != nil {
			return nil, fmt.Errorf("list webhook subscriptions: %w", err)
		}
		if len(resp.Errors) > 0 {
			return nil, fmt.Errorf("list webhook subscriptions: %s", resp.Errors[0].Message)
		}
		var d struct {
			W struct {
				Nodes    []subscription `json:"nodes"`
				PageInfo struct {
					HasNextPage bool   `json:"hasNextPage"`
					EndCursor   string `json:"endCursor"`
				} `json:"pageInfo"`
			} `json:"webhookSubscriptions"`
		}
		if err := json.Unmarshal(resp.Data, &d); err != nil {
			return nil, fmt.Errorf("list webhook subscriptions: %w", err)
		}
		for _, n := range d.W.Nodes {
			if n.URI == uri || uri == "" {
				out = append(out, n)
			}
		}
		if !d.W.PageInfo.HasNextPage {
			return out, nil
		}
		after = d.W.PageInfo.EndCursor
	}
	return out, fmt.Errorf("list webhook subscriptions: more than 20 pages")
}

// Reconcile makes the subscriptions delivering to uri exactly topics.
// Failures of single topics are in Result.Failed; an error means the
// subscriptions could not be read at all.
func Reconcile(ctx context.Context, api GraphQLer, uri string, topics []string) (Result, error) {
	res := Result{Failed: map[string]string{}}
	have, err := List(ctx, api, uri)
	if err != nil {
		return res, err
	}
	want := map[string]bool{}
	for _, t := range topics {
		want[EnumTopic(t)] = true
	}
	present := map[string]bool{}
	names := map[string]string{} // enum → topic, for the report
	for _, t := range scopes.WebhookTopics() {
		names[EnumTopic(t)] = t
	}
	for _, t := range topics {
		names[EnumTopic(t)] = t
	}
	for _, s := range have {
		topic := names[s.Topic]
		if topic == "" {
			topic = strings.ToLower(s.Topic)
		}
		if want[s.Topic] && !present[s.Topic] {
			present[s.Topic] = true
			res.Kept = append(res.Kept, topic)
			continue
		}
		// Not wanted, or a duplicate: remove it.
		if msg := mutate(ctx, api, `mutation SprocketWebhookDelete($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }`,
			map[string]any{"id": s.ID}, "webhookSubscriptionDelete"); msg != "" {
			res.Failed[topic] = msg
			continue
		}
		res.Deleted = append(res.Deleted, topic)
	}
	for _, t := range topics {
		if present[EnumTopic(t)] {
			continue
		}
		if msg := mutate(ctx, api, `mutation SprocketWebhookCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { webhookSubscription { id } userErrors { field message } } }`,
			map[string]any{"topic": EnumTopic(t), "sub": map[string]any{"uri": uri, "format": "JSON"}}, "webhookSubscriptionCreate"); msg != "" {
			res.Failed[t] = msg
			continue
		}
		res.Created = append(res.Created, t)
	}
	return res, nil
}

// mutate runs one mutation and returns "" or why it failed.
func mutate(ctx context.Context, api GraphQLer, query string, vars map[string]any, field string) string {
	raw, err := json.Marshal(vars)
	if err != nil {
		return err.Error()
	}
	resp, err := api.GraphQL(ctx, shopify.GraphQLRequest{Query: query, Variables: raw})
	if err != nil {
		return err.Error()
	}
	if len(resp.Errors) > 0 {
		return resp.Errors[0].Message
	}
	var d map[string]struct {
		UserErrors []struct {
			Message string `json:"message"`
		} `json:"userErrors"`
	}
	if err := json.Unmarshal(resp.Data, &d); err != nil {
		return "unexpected answer: " + err.Error()
	}
	if ue := d[field].UserErrors; len(ue) > 0 {
		return ue[0].Message
	}
	return ""
}
