package sandbox

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// webhookResources are Shopify's webhook topic resources whose names hold
// an underscore; they let a WebhookSubscriptionTopic enum value
// (INVENTORY_LEVELS_UPDATE) be turned back into its topic
// (inventory_levels/update).
var webhookResources = []string{
	"app_purchases_one_time", "app_subscriptions", "audit_events", "bulk_operations", "collection_listings",
	"collection_publications", "company_contact_roles", "company_contacts", "company_locations",
	"customer_account_settings", "customer_groups", "customer_payment_methods", "customers_email_marketing_consent",
	"customers_marketing_consent", "delivery_promise_settings", "draft_orders", "finance_app_staff_member",
	"finance_kyc_information", "fulfillment_events", "fulfillment_holds", "fulfillment_orders", "inventory_items",
	"inventory_levels", "inventory_shipments", "inventory_transfers", "markets_backup_region", "metafield_definitions",
	"order_transactions", "payment_schedules", "payment_terms", "product_feeds", "product_listings",
	"product_publications", "reverse_deliveries", "reverse_fulfillment_orders", "scheduled_product_listings",
	"selling_plan_groups", "shipping_addresses", "subscription_billing_attempts", "subscription_billing_cycle_edits",
	"subscription_billing_cycles", "subscription_contracts", "tax_services", "tender_transactions",
	"customer_tags", "customer_segments",
}

// TopicOfEnum turns a WebhookSubscriptionTopic value ("ORDERS_CREATE",
// "INVENTORY_LEVELS_UPDATE") into its webhook topic ("orders/create",
// "inventory_levels/update").
func TopicOfEnum(enum string) string {
	s := strings.ToLower(enum)
	best := ""
	for _, r := range webhookResources {
		if strings.HasPrefix(s, r+"_") && len(r) > len(best) {
			best = r
		}
	}
	if best != "" {
		return best + "/" + s[len(best)+1:]
	}
	res, event, ok := strings.Cut(s, "_")
	if !ok {
		return s
	}
	return res + "/" + event
}

// EnumOfTopic turns a webhook topic ("orders/create") into its
// WebhookSubscriptionTopic value ("ORDERS_CREATE").
func EnumOfTopic(topic string) string {
	return strings.ToUpper(strings.NewReplacer("/", "_", ".", "_").Replace(topic))
}

// WebhookSubscription is one stored webhook subscription.
type WebhookSubscription struct {
	// ID is the subscription's GID.
	ID string `json:"id"`
	// Topic is the webhook topic ("orders/create").
	Topic string `json:"topic"`
	// URI is where deliveries are POSTed.
	URI string `json:"uri"`
	// APIVersion is the version the payloads are declared in.
	APIVersion string `json:"apiVersion"`
}

// WebhookSubscriptions lists the shop's webhook subscriptions, oldest first.
func (sb *Sandbox) WebhookSubscriptions() []WebhookSubscription {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	var out []WebhookSubscription
	for _, o := range sb.st.list("WebhookSubscription") {
		out = append(out, subscriptionOf(o))
	}
	return out
}

func subscriptionOf(o object) WebhookSubscription {
	v, _ := o["apiVersion"].(object)
	return WebhookSubscription{ID: str(o["id"]), Topic: TopicOfEnum(str(o["topic"])), URI: str(o["uri"]), APIVersion: str(v["handle"])}
}

// checkAddress validates a webhook address: the sandbox delivers over
// HTTP(S) only.
func checkAddress(uri string) string {
	if strings.TrimSpace(uri) == "" {
		return "Address can't be blank"
	}
	if scheme, _, ok := strings.Cut(uri, "://"); ok && scheme != "http" && scheme != "https" {
		return "Address protocol " + scheme + ":// is not supported (the sandbox delivers to http and https addresses)"
	}
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "Address is invalid"
	}
	return ""
}

// subscriptionTaken reports whether another subscription has topic+uri.
func (sb *Sandbox) subscriptionTaken(enum, uri, except string) bool {
	for _, o := range sb.st.list("WebhookSubscription") {
		if o["topic"] == enum && o["uri"] == uri && o["id"] != except {
			return true
		}
	}
	return false
}

// addSubscription stores a subscription. Caller holds mu and validated it.
func (sb *Sandbox) addSubscription(enum, uri, format, version string, includeFields, namespaces []any) object {
	now := timestamp(sb.now())
	if format == "" {
		format = "JSON"
	}
	if version == "" {
		version = sb.opts.APIVersion
	}
	o := sb.st.create("WebhookSubscription", object{
		"topic": enum, "format": format, "createdAt": now, "updatedAt": now,
		"includeFields": nonNilAny(includeFields), "metafieldNamespaces": nonNilAny(namespaces), "metafields": []any{},
		"filter":     nil,
		"apiVersion": object{"__typename": "ApiVersion", "handle": version, "displayName": version, "supported": true},
	})
	setSubscriptionURI(o, uri)
	return o
}

func setSubscriptionURI(o object, uri string) {
	o["uri"] = uri
	o["callbackUrl"] = uri
	o["endpoint"] = object{"__typename": "WebhookHttpEndpoint", "callbackUrl": uri}
}

// subscriptionInput reads uri (or the deprecated callbackUrl) of a
// WebhookSubscriptionInput.
func subscriptionInput(in map[string]any) (uri, field string) {
	if u := str(in["uri"]); u != "" {
		return u, "uri"
	}
	if u := str(in["callbackUrl"]); u != "" {
		return u, "callbackUrl"
	}
	return "", "uri"
}

func mWebhookCreate(e *executor, args map[string]any) (object, error) {
	enum := str(args["topic"])
	in := inputOf(args, "webhookSubscription")
	uri, field := subscriptionInput(in)
	fail := func(f, msg string) (object, error) {
		return object{"webhookSubscription": nil, "userErrors": userErrors(userError([]string{"webhookSubscription", f}, msg))}, nil
	}
	if msg := checkAddress(uri); msg != "" {
		return fail(field, msg)
	}
	if e.sb.subscriptionTaken(enum, uri, "") {
		return fail(field, "Address for this topic has already been taken")
	}
	inc, _ := in["includeFields"].([]any)
	ns, _ := in["metafieldNamespaces"].([]any)
	o := e.sb.addSubscription(enum, uri, str(in["format"]), e.version, inc, ns)
	return object{"webhookSubscription": o}, nil
}

func mWebhookUpdate(e *executor, args map[string]any) (object, error) {
	o := e.sb.st.getType(str(args["id"]), "WebhookSubscription")
	if o == nil {
		return object{"webhookSubscription": nil, "userErrors": userErrors(userError([]string{"id"}, "Webhook subscription does not exist"))}, nil
	}
	in := inputOf(args, "webhookSubscription")
	if uri, field := subscriptionInput(in); uri != "" {
		if msg := checkAddress(uri); msg != "" {
			return object{"webhookSubscription": nil, "userErrors": userErrors(userError([]string{"webhookSubscription", field}, msg))}, nil
		}
		if e.sb.subscriptionTaken(str(o["topic"]), uri, str(o["id"])) {
			return object{"webhookSubscription": nil, "userErrors": userErrors(userError([]string{"webhookSubscription", field}, "Address for this topic has already been taken"))}, nil
		}
		setSubscriptionURI(o, uri)
	}
	if f := str(in["format"]); f != "" {
		o["format"] = f
	}
	if l, ok := in["includeFields"].([]any); ok {
		o["includeFields"] = l
	}
	if l, ok := in["metafieldNamespaces"].([]any); ok {
		o["metafieldNamespaces"] = l
	}
	o["updatedAt"] = timestamp(e.sb.now())
	return object{"webhookSubscription": o}, nil
}

func mWebhookDelete(e *executor, args map[string]any) (object, error) {
	id := str(args["id"])
	if e.sb.st.getType(id, "WebhookSubscription") == nil {
		return object{"deletedWebhookSubscriptionId": nil, "userErrors": userErrors(userError([]string{"id"}, "Webhook subscription does not exist"))}, nil
	}
	e.sb.st.delete(id)
	return object{"deletedWebhookSubscriptionId": id}, nil
}

// resolveWebhookSubscriptions answers QueryRoot.webhookSubscriptions with
// its uri, callbackUrl, topics and format filters.
func resolveWebhookSubscriptions(e *executor, _ object, args map[string]any) (any, error) {
	uri := str(args["uri"])
	if uri == "" {
		uri = str(args["callbackUrl"])
	}
	topics := tagList(args["topics"])
	format := str(args["format"])
	var out []any
	for _, o := range e.sb.st.list("WebhookSubscription") {
		if uri != "" && o["uri"] != uri {
			continue
		}
		if len(topics) > 0 && !slices.Contains(topics, str(o["topic"])) {
			continue
		}
		if format != "" && o["format"] != format {
			continue
		}
		out = append(out, o)
	}
	if q, _ := args["query"].(string); q != "" {
		out = filterQuery(e.sb, out, q)
	}
	return filtered(out), nil
}

// webhookREST is the REST shape of a subscription (webhooks.json).
func (sb *Sandbox) webhookREST(o object) map[string]any {
	v, _ := o["apiVersion"].(object)
	return map[string]any{
		"id": legacyID(str(o["id"])), "admin_graphql_api_id": o["id"], "address": o["uri"],
		"topic": TopicOfEnum(str(o["topic"])), "format": strings.ToLower(str(o["format"])),
		"created_at": o["createdAt"], "updated_at": o["updatedAt"], "fields": o["includeFields"],
		"metafield_namespaces": o["metafieldNamespaces"], "api_version": v["handle"],
	}
}

// webhookRoutes serves webhooks.json, webhooks/count.json and
// webhooks/{id}.json.
func (c *restCall) webhookRoutes(seg []string) {
	m := c.r.Method
	sb := c.sb
	switch {
	case len(seg) == 1 && m == http.MethodGet, len(seg) == 2 && seg[1] == "count" && m == http.MethodGet:
		var items []object
		for _, o := range sb.st.list("WebhookSubscription") {
			if a := c.params.Get("address"); a != "" && o["uri"] != a {
				continue
			}
			if t := c.params.Get("topic"); t != "" && TopicOfEnum(str(o["topic"])) != t {
				continue
			}
			items = append(items, o)
		}
		if len(seg) == 2 {
			c.ok(map[string]any{"count": len(items)})
			return
		}
		c.list("webhooks", items, sb.webhookREST)
	case len(seg) == 1 && m == http.MethodPost:
		in, _ := c.body["webhook"].(map[string]any)
		if in == nil {
			c.unprocessable(map[string]any{"webhook": []string{"Required parameter missing or invalid"}})
			return
		}
		topic := str(in["topic"])
		if !validTopic(sb, topic) {
			c.unprocessable(map[string]any{"topic": []string{"Invalid topic specified: " + topic}})
			return
		}
		uri := str(in["address"])
		if msg := checkAddress(uri); msg != "" {
			c.unprocessable(map[string]any{"address": []string{strings.TrimPrefix(msg, "Address ")}})
			return
		}
		enum := EnumOfTopic(topic)
		if sb.subscriptionTaken(enum, uri, "") {
			c.unprocessable(map[string]any{"address": []string{"for this topic has already been taken"}})
			return
		}
		format := strings.ToUpper(strDefault(in["format"], "json"))
		inc, _ := in["fields"].([]any)
		ns, _ := in["metafield_namespaces"].([]any)
		o := sb.addSubscription(enum, uri, format, c.version, inc, ns)
		c.created(map[string]any{"webhook": sb.webhookREST(o)})
	case len(seg) == 2:
		o := c.find("WebhookSubscription", seg[1])
		if o == nil {
			c.notFound()
			return
		}
		switch m {
		case http.MethodGet:
			c.ok(map[string]any{"webhook": sb.webhookREST(o)})
		case http.MethodPut:
			in, _ := c.body["webhook"].(map[string]any)
			if a := str(in["address"]); a != "" {
				if msg := checkAddress(a); msg != "" {
					c.unprocessable(map[string]any{"address": []string{strings.TrimPrefix(msg, "Address ")}})
					return
				}
				if sb.subscriptionTaken(str(o["topic"]), a, str(o["id"])) {
					c.unprocessable(map[string]any{"address": []string{"for this topic has already been taken"}})
					return
				}
				setSubscriptionURI(o, a)
			}
			o["updatedAt"] = timestamp(sb.now())
			c.ok(map[string]any{"webhook": sb.webhookREST(o)})
		case http.MethodDelete:
			sb.st.delete(str(o["id"]))
			c.ok(map[string]any{})
		default:
			c.notFound()
		}
	default:
		c.notFound()
	}
}

// validTopic reports whether topic names a WebhookSubscriptionTopic value
// of the served schema.
func validTopic(sb *Sandbox, topic string) bool {
	def := sb.schema.AST().Types["WebhookSubscriptionTopic"]
	if def == nil || topic == "" {
		return false
	}
	return def.EnumValues.ForName(EnumOfTopic(topic)) != nil
}
