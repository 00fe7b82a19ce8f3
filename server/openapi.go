package server

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// apiOp documents one operation of the HTTP API for the OpenAPI document.
type apiOp struct {
	method, path string
	tag          string
	summary      string
	query        []string // query parameters, "name: description"
	body         string   // request body schema (components), "" for none
	status       int      // success status
	resp         string   // success body schema, "" for none
	errors       []int    // error statuses besides 401 and 429
	public       bool     // no bearer token
	raw          bool     // the success body is not JSON (the cached value)
}

// apiOps lists every documented operation; TestOpenAPIRoutes checks it
// against the routes the service registers, both ways.
var apiOps = []apiOp{
	{method: "GET", path: "/v1/openapi.json", tag: "meta", summary: "This OpenAPI 3.1 document", status: 200, resp: "Any", public: true},
	{method: "GET", path: "/healthz", tag: "meta", summary: "Liveness check", status: 200, resp: "OK", public: true},
	{method: "GET", path: "/v1/auth/verify", tag: "meta", summary: "Check the API token", status: 200, resp: "OK"},
	{method: "GET", path: "/v1/shop/status", tag: "shop", summary: "Queue status (waiting, running and scheduled runs, lag) and the Shopify connection: scopes granted and needed by enabled tasks, API version, rate-limit state, webhook subscriptions", status: 200, resp: "ShopStatus"},
	{method: "GET", path: "/v1/email_templates", tag: "email", summary: "List email templates (Liquid rendered by the email action's template option)", query: pageQuery(), status: 200, resp: "EmailTemplateList", errors: []int{400}},
	{method: "GET", path: "/v1/email_templates/{name}", tag: "email", summary: "Read an email template", status: 200, resp: "EmailTemplate", errors: []int{404}},
	{method: "PUT", path: "/v1/email_templates/{name}", tag: "email", summary: "Create or replace an email template; Liquid that does not parse is refused", body: "EmailTemplateInput", status: 200, resp: "EmailTemplate", errors: []int{400}},
	{method: "DELETE", path: "/v1/email_templates/{name}", tag: "email", summary: "Delete an email template", status: 204, errors: []int{404}},
	{method: "GET", path: "/v1/oauth/providers", tag: "integrations", summary: "List OAuth providers: the built-in ones (slack, airtable, google) and those added by configuration; client secrets are never shown", query: pageQuery(), status: 200, errors: []int{400}},
	{method: "GET", path: "/v1/oauth/providers/{name}", tag: "integrations", summary: "Read an OAuth provider", status: 200, errors: []int{404}},
	{method: "PUT", path: "/v1/oauth/providers/{name}", tag: "integrations", summary: "Configure a provider: client id and secret (sealed), and for another OAuth 2.0 service its authorize, token and revoke URLs and scopes", status: 200, errors: []int{400, 422}},
	{method: "DELETE", path: "/v1/oauth/providers/{name}", tag: "integrations", summary: "Remove a provider added by configuration (or the credentials of a built-in one)", status: 204, errors: []int{404}},
	{method: "POST", path: "/v1/oauth/{provider}/connect", tag: "integrations", summary: "Begin connecting an account (PKCE and a state nonce): answers the authorize_url to open", status: 200, errors: []int{404, 422}},
	{method: "GET", path: "/v1/oauth/accounts", tag: "integrations", summary: "List connected accounts by provider (never a token)", query: pageQuery(), status: 200, errors: []int{400}},
	{method: "DELETE", path: "/v1/oauth/accounts/{provider}/{account}", tag: "integrations", summary: "Disconnect an account, revoking its grant at the provider", status: 204, errors: []int{404}},
	{method: "GET", path: "/oauth/callback", tag: "integrations", summary: "Where a provider sends the user back after consent: the state nonce is checked and the code exchanged", status: 200, public: true, raw: true, errors: []int{400}},
	{method: "GET", path: "/v1/integrations", tag: "integrations", summary: "List the app integrations' settings (Judge.me, Locksmith, Report Toaster, Appstle, Flow): secrets never shown", status: 200},
	{method: "PUT", path: "/v1/integrations/{app}", tag: "integrations", summary: "Configure an app integration (its signing secret, API key or URL)", status: 200, errors: []int{400, 404}},
	{method: "DELETE", path: "/v1/integrations/{app}", tag: "integrations", summary: "Remove an app integration's settings", status: 204, errors: []int{404}},
	{method: "POST", path: "/integrations/{app}", tag: "integrations", summary: "An app's delivery: verified the way the app signs, then an event with the app's topic", status: 200, public: true, errors: []int{400, 401, 404}},
	{method: "POST", path: "/integrations/{app}/{rest...}", tag: "integrations", summary: "An app's delivery to a sub-path (Flow's task id, for one)", status: 200, public: true, errors: []int{400, 401, 404}},
	{method: "POST", path: "/v1/run_links", tag: "integrations", summary: "Mint a signed, expiring run link for a task: a trigger, a text run, or resources by resource_type and ids", status: 201, errors: []int{400, 404, 422}},
	{method: "GET", path: "/run/tasks", tag: "integrations", summary: "A run link: shows what it will run", status: 200, public: true, raw: true, errors: []int{400, 403}},
	{method: "POST", path: "/run/tasks", tag: "integrations", summary: "A run link's button: runs it", status: 200, public: true, raw: true, errors: []int{400, 403}},
	{method: "GET", path: "/run/tasks/{id}", tag: "integrations", summary: "A run link for one task: shows what it will run", status: 200, public: true, raw: true, errors: []int{400, 403, 404}},
	{method: "POST", path: "/run/tasks/{id}", tag: "integrations", summary: "A run link for one task: runs it", status: 200, public: true, raw: true, errors: []int{400, 403, 404}},
	{method: "GET", path: "/v1/shop/connection", tag: "shop", summary: "The Shopify connection (never a credential)", status: 200, resp: "ShopConnection"},
	{method: "PUT", path: "/v1/shop/connection", tag: "shop", summary: "Connect a shop with an Admin API access token, or a client id and secret (client-credentials grant); checked against the shop unless verify is false, and stored sealed. 409 when the environment configures the connection", body: "ShopConnectionInput", status: 200, resp: "ShopConnection", errors: []int{400, 409, 422}},
	{method: "DELETE", path: "/v1/shop/connection", tag: "shop", summary: "Forget the stored Shopify connection", status: 200, resp: "ShopConnection", errors: []int{409}},
	{method: "POST", path: "/v1/shop/oauth/install", tag: "shop", summary: "Begin the OAuth install of an app: answers the URL to send the merchant to, asking for the scopes the enabled tasks need (or those given)", body: "OAuthInstallInput", status: 200, resp: "OAuthInstall", errors: []int{400, 409, 422}},
	{method: "GET", path: "/shopify/oauth/callback", tag: "shop", summary: "Where Shopify sends the merchant back after the install: checked by HMAC and the state nonce, the code is exchanged for a token", status: 200, public: true, raw: true, errors: []int{400, 401, 502}},
	{method: "POST", path: "/shopify/webhooks", tag: "shop", summary: "Shopify webhook deliveries: X-Shopify-Hmac-Sha256 checked with the app secret, X-Shopify-Topic becomes shopify/<topic>, redeliveries (same X-Shopify-Event-Id) make no second event", status: 200, public: true, errors: []int{400, 401, 404, 413}},
	{method: "POST", path: "/v1/shop/send", tag: "shop", summary: "Admin action link: fetch resources from the shop into mechanic/user/<resource> events (individual mode) or one mechanic/user/<resources> event (batch)", body: "SendInput", status: 201, resp: "SendResult", errors: []int{400, 404, 409, 422, 502}},
	{method: "GET", path: "/files/{token}/{name}", tag: "files", summary: "A file made by a files action, at its unguessable temporary URL (until it expires)", status: 200, public: true, raw: true, errors: []int{404}},
	{method: "GET", path: "/shopify/storefront.js", tag: "shop", summary: "The enabled tasks' online store JavaScript, rendered with shop and options", status: 200, public: true, raw: true},
	{method: "GET", path: "/shopify/order_status.js", tag: "shop", summary: "The enabled tasks' order status page JavaScript", status: 200, public: true, raw: true},
	{method: "GET", path: "/v1/shop/deprecations", tag: "shop", summary: "Shopify API deprecations reported by tasks", status: 200, resp: "Deprecations"},
	{method: "GET", path: "/v1/api_tokens", tag: "api tokens", summary: "List API tokens (never their values)", query: pageQuery(), status: 200, resp: "APITokenList", errors: []int{400}},
	{method: "POST", path: "/v1/api_tokens", tag: "api tokens", summary: "Create an API token (its value is answered once)", body: "APITokenInput", status: 201, resp: "APIToken", errors: []int{400, 409}},
	{method: "DELETE", path: "/v1/api_tokens/{id}", tag: "api tokens", summary: "Revoke an API token", status: 204, errors: []int{404}},

	{method: "GET", path: "/v1/tasks", tag: "tasks", summary: "List tasks", query: []string{"enabled: true or false", "limit: page size (default 100, at most 1000; larger is lowered to 1000)", "cursor: next_cursor of the previous page"}, status: 200, resp: "TaskList", errors: []int{400}},
	{method: "POST", path: "/v1/tasks", tag: "tasks", summary: "Create a task (disabled); Liquid syntax errors answer 422, warnings come with the task. An Idempotency-Key header (a UUID becomes the id) makes retries safe", body: "TaskInput", status: 201, resp: "Task", errors: []int{400, 422}},
	{method: "POST", path: "/v1/tasks/preview", tag: "tasks", summary: "Preview a task document without saving it", body: "TaskInput", status: 200, resp: "Preview", errors: []int{400, 501}},
	{method: "GET", path: "/v1/tasks/{id}", tag: "tasks", summary: "Read a task (with \"paused\" when the event-rate guard paused it)", status: 200, resp: "Task", errors: []int{404}},
	{method: "PUT", path: "/v1/tasks/{id}", tag: "tasks", summary: "Update a task: send previous_content_hash (409 when stale) or force: true (400 without either)", body: "TaskInput", status: 200, resp: "Task", errors: []int{400, 404, 409, 422}},
	{method: "DELETE", path: "/v1/tasks/{id}", tag: "tasks", summary: "Delete a task", status: 204, errors: []int{404}},
	{method: "POST", path: "/v1/tasks/{id}/preview", tag: "tasks", summary: "Preview a saved task, or a draft sent in the body", body: "TaskInput", status: 200, resp: "Preview", errors: []int{400, 404, 501}},
	{method: "POST", path: "/v1/tasks/{id}/enable", tag: "tasks", summary: "Enable a task; 422 naming each empty required or invalid option", status: 200, resp: "Task", errors: []int{404, 422}},
	{method: "POST", path: "/v1/tasks/{id}/disable", tag: "tasks", summary: "Disable a task (its queued runs will fail)", status: 200, resp: "Task", errors: []int{404}},
	{method: "GET", path: "/v1/tasks/{id}/versions", tag: "tasks", summary: "A task's saved versions, newest first", query: pageQuery(), status: 200, resp: "TaskVersions", errors: []int{400, 404}},
	{method: "POST", path: "/v1/tasks/{id}/versions/{version}/restore", tag: "tasks", summary: "Make a saved version the current content", status: 200, resp: "Task", errors: []int{400, 404}},

	{method: "GET", path: "/v1/webhooks", tag: "webhooks", summary: "List incoming webhooks", query: pageQuery(), status: 200, resp: "WebhookList", errors: []int{400}},
	{method: "POST", path: "/v1/webhooks", tag: "webhooks", summary: "Create an incoming webhook for a user/ topic, optionally signed (secret, signature_header; the secret is stored sealed and never answered, has_secret says one is set)", body: "WebhookInput", status: 201, resp: "Webhook", errors: []int{400}},
	{method: "GET", path: "/v1/webhooks/{id}", tag: "webhooks", summary: "Read a webhook", status: 200, resp: "Webhook", errors: []int{404}},
	{method: "PUT", path: "/v1/webhooks/{id}", tag: "webhooks", summary: "Update a webhook (absent fields keep their values)", body: "WebhookInput", status: 200, resp: "Webhook", errors: []int{400, 404}},
	{method: "DELETE", path: "/v1/webhooks/{id}", tag: "webhooks", summary: "Delete a webhook", status: 204, errors: []int{404}},
	{method: "POST", path: "/webhooks/{id}", tag: "webhooks", summary: "Send a request to an incoming webhook: it becomes an event once committed. Signed webhooks need HMAC-SHA256(secret, body) in hex or base64 (optionally sha256=…) in the signature header", status: 204, errors: []int{400, 404, 413, 429, 503}, public: true},

	{method: "GET", path: "/v1/events", tag: "events", summary: "List events", query: []string{"topic: exact topic", "task_id: events for one task", "parent_id: child events of an event", "limit: page size (default 100, at most 1000; larger is lowered to 1000)", "cursor: next_cursor of the previous page"}, status: 200, resp: "EventList", errors: []int{400}},
	{method: "POST", path: "/v1/events", tag: "events", summary: "Create an event: any topic (e.g. fire mechanic/scheduler/daily), or trigger a task with mechanic/user/trigger, text or form and task_id (409 if the task is disabled, 422 if not subscribed)", body: "EventInput", status: 201, resp: "Event", errors: []int{400, 409, 422}},
	{method: "GET", path: "/v1/events/{id}", tag: "events", summary: "Read an event", status: 200, resp: "Event", errors: []int{404}},
	{method: "POST", path: "/v1/events/{id}/cancel", tag: "events", summary: "Cancel a queued event (its event run has not started)", status: 200, resp: "Run", errors: []int{404, 409}},

	{method: "GET", path: "/v1/runs", tag: "runs", summary: "List runs of every kind", query: runQuery(true), status: 200, resp: "RunList"},
	{method: "GET", path: "/v1/event_runs", tag: "runs", summary: "List event runs", query: runQuery(false), status: 200, resp: "RunList"},
	{method: "GET", path: "/v1/task_runs", tag: "runs", summary: "List task runs", query: runQuery(false), status: 200, resp: "RunList"},
	{method: "GET", path: "/v1/action_runs", tag: "runs", summary: "List action runs", query: runQuery(false), status: 200, resp: "RunList"},
	{method: "GET", path: "/v1/runs/{id}", tag: "runs", summary: "Read a run of any kind", status: 200, resp: "Run", errors: []int{404}},
	{method: "GET", path: "/v1/event_runs/{id}", tag: "runs", summary: "Read an event run", status: 200, resp: "Run", errors: []int{404}},
	{method: "GET", path: "/v1/task_runs/{id}", tag: "runs", summary: "Read a task run", status: 200, resp: "Run", errors: []int{404}},
	{method: "GET", path: "/v1/action_runs/{id}", tag: "runs", summary: "Read an action run", status: 200, resp: "Run", errors: []int{404}},
	{method: "POST", path: "/v1/runs/{id}/retry", tag: "runs", summary: "Retry a run (Mechanic's rules: failed action runs; task runs that failed or produced no actions; event runs that failed or started no task runs; 409 with the reason otherwise)", status: 200, resp: "Run", errors: []int{404, 409}},
	{method: "POST", path: "/v1/event_runs/{id}/retry", tag: "runs", summary: "Retry an event run (404 if the id is another kind of run)", status: 200, resp: "Run", errors: []int{404, 409}},
	{method: "POST", path: "/v1/task_runs/{id}/retry", tag: "runs", summary: "Retry a task run (404 if the id is another kind of run)", status: 200, resp: "Run", errors: []int{404, 409}},
	{method: "POST", path: "/v1/action_runs/{id}/retry", tag: "runs", summary: "Retry an action run (404 if the id is another kind of run)", status: 200, resp: "Run", errors: []int{404, 409}},

	{method: "GET", path: "/v1/cache_endpoints", tag: "cache", summary: "List public cache endpoints", query: pageQuery(), status: 200, resp: "CacheEndpointList", errors: []int{400}},
	{method: "POST", path: "/v1/cache_endpoints", tag: "cache", summary: "Publish a cache key at /cache/{id}", body: "CacheEndpointInput", status: 201, resp: "CacheEndpoint", errors: []int{400}},
	{method: "GET", path: "/v1/cache_endpoints/{id}", tag: "cache", summary: "Read a cache endpoint", status: 200, resp: "CacheEndpoint", errors: []int{404}},
	{method: "DELETE", path: "/v1/cache_endpoints/{id}", tag: "cache", summary: "Delete a cache endpoint", status: 204, errors: []int{404}},
	{method: "GET", path: "/cache/{id}", tag: "cache", summary: "The cached value of a cache endpoint, with its content type (404 with null when absent)", status: 200, errors: []int{404}, public: true, raw: true},
	{method: "HEAD", path: "/cache/{id}", tag: "cache", summary: "Headers of a cache endpoint's value", status: 200, errors: []int{404}, public: true, raw: true},
	{method: "OPTIONS", path: "/cache/{id}", tag: "cache", summary: "CORS preflight of a cache endpoint", status: 204, public: true},

	{method: "GET", path: "/v1/globals", tag: "settings", summary: "List globals with their values", query: pageQuery(), status: 200, resp: "GlobalList", errors: []int{400}},
	{method: "PUT", path: "/v1/globals/{key}", tag: "settings", summary: "Create or replace a global", body: "GlobalInput", status: 200, resp: "GlobalAnswer", errors: []int{400}},
	{method: "DELETE", path: "/v1/globals/{key}", tag: "settings", summary: "Delete a global", status: 204, errors: []int{404}},
	{method: "GET", path: "/v1/secrets", tag: "settings", summary: "List secrets (metadata only, never values)", query: pageQuery(), status: 200, resp: "SecretList", errors: []int{400}},
	{method: "PUT", path: "/v1/secrets/{key}", tag: "settings", summary: "Create or replace a secret (write-only; stored sealed with the installation key)", body: "SecretInput", status: 200, resp: "SecretAnswer", errors: []int{400}},
	{method: "DELETE", path: "/v1/secrets/{key}", tag: "settings", summary: "Delete a secret", status: 204, errors: []int{404}},
	{method: "GET", path: "/v1/event_filters", tag: "settings", summary: "List event filters", query: pageQuery(), status: 200, resp: "EventFilterList", errors: []int{400}},
	{method: "PUT", path: "/v1/event_filters/{name}", tag: "settings", summary: "Create or replace an event filter (a Liquid template; rendering false stops an event)", body: "EventFilterInput", status: 200, resp: "Any", errors: []int{400}},
	{method: "DELETE", path: "/v1/event_filters/{name}", tag: "settings", summary: "Delete an event filter", status: 204, errors: []int{404}},
}

// pageQuery documents the paging parameters of a list endpoint.
func pageQuery() []string {
	return []string{"limit: page size (default 100, at most 1000; larger is lowered to 1000)", "cursor: next_cursor of the previous page"}
}

func runQuery(kind bool) []string {
	q := []string{"task_id: runs of one task", "event_id: runs of one event", "parent_run_id: runs created by a run", "status: pending, running, success or failed", "limit: page size (default 100, at most 1000; larger is lowered to 1000)", "cursor: next_cursor of the previous page"}
	if kind {
		q = append(q, "kind: event_run, task_run or action_run")
	}
	return q
}

var rePathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// obj is a JSON object schema with the given properties.
func obj(props map[string]any, required ...string) map[string]any {
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func arrayOf(name string) map[string]any { return map[string]any{"type": "array", "items": ref(name)} }

var (
	tStr     = map[string]any{"type": "string"}
	tBool    = map[string]any{"type": "boolean"}
	tInt     = map[string]any{"type": "integer"}
	tTime    = map[string]any{"type": "string", "format": "date-time"}
	tAny     = map[string]any{}
	tStrs    = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	tAnyList = map[string]any{"type": "array", "items": map[string]any{}}
)

// openAPISchemas are the document's component schemas.
func openAPISchemas() map[string]any {
	problem := obj(map[string]any{"field": tStr, "line": tInt, "message": tStr}, "field", "message")
	taskProps := map[string]any{
		"id": tStr, "name": tStr, "script": tStr, "subscriptions": tStrs, "subscriptions_template": tStr,
		"options": map[string]any{"type": "object"}, "docs": tStr, "tags": tStrs,
		"perform_action_runs_in_sequence": tBool, "halt_action_run_sequence_on_error": tBool,
		"enabled": tBool, "created_at": tTime, "updated_at": tTime, "content_hash": tStr,
		"paused":   obj(map[string]any{"reason": tStr, "paused_at": tTime}),
		"warnings": map[string]any{"type": "array", "items": ref("Problem")},
	}
	return map[string]any{
		"Any":     tAny,
		"OK":      obj(map[string]any{"ok": tBool}),
		"Problem": problem,
		"Error": obj(map[string]any{"error": obj(map[string]any{
			"message": tStr, "field": map[string]any{"type": []string{"string", "null"}},
			"details": map[string]any{"type": "array", "items": ref("Problem")},
		}, "message", "field")}, "error"),
		"Task": map[string]any{"type": "object", "properties": taskProps, "additionalProperties": true},
		"TaskInput": map[string]any{"type": "object", "description": "A Mechanic task document (as exported), bare or as {\"task\": {...}}, with optional previous_content_hash and force",
			"properties": map[string]any{"name": tStr, "script": tStr, "subscriptions": tStrs, "subscriptions_template": tStr,
				"options": map[string]any{"type": "object"}, "previous_content_hash": tStr, "force": tBool}, "additionalProperties": true},
		"TaskList":     obj(map[string]any{"tasks": arrayOf("Task"), "next_cursor": tStr}, "tasks"),
		"TaskVersions": obj(map[string]any{"versions": map[string]any{"type": "array", "items": obj(map[string]any{"version": tInt, "name": tStr, "subscriptions": tStrs, "content_hash": tStr, "saved_at": tTime, "task": map[string]any{"type": "object"}})}, "next_cursor": tStr}, "versions"),
		"Preview":      obj(map[string]any{"subscriptions": tStrs, "sampled_options": tStrs, "runs": tAnyList, "ok": tBool}),
		"Webhook": obj(map[string]any{"id": tStr, "name": tStr, "topic": tStr, "data_mode": tStr, "url": tStr,
			"signature_header": tStr, "has_secret": tBool, "created_at": tTime, "updated_at": tTime}),
		"WebhookInput": obj(map[string]any{"name": tStr, "topic": tStr, "data_mode": map[string]any{"type": "string", "enum": []string{"auto", "full_request"}},
			"secret": tStr, "signature_header": tStr}),
		"WebhookList": obj(map[string]any{"webhooks": arrayOf("Webhook"), "next_cursor": tStr}, "webhooks"),
		"Event": obj(map[string]any{"id": tStr, "topic": tStr, "data": tAny, "parent_id": map[string]any{"type": []string{"string", "null"}},
			"source": tStr, "webhook_id": tStr, "webhook_request_id": tStr, "task_ids": tStrs, "created_at": tTime, "run_at": tTime}),
		"EventInput": obj(map[string]any{"topic": tStr, "data": tAny, "task_id": tStr, "task_ids": tStrs, "run_at": tTime}, "topic"),
		"EventList":  obj(map[string]any{"events": arrayOf("Event"), "next_cursor": tStr}, "events"),
		"Run": obj(map[string]any{"id": tStr, "kind": map[string]any{"type": "string", "enum": []string{"event_run", "task_run", "action_run"}},
			"status": map[string]any{"type": "string", "enum": []string{"pending", "running", "success", "failed"}}, "ok": tBool,
			"event_id": tStr, "task_id": tStr, "parent_run_id": tStr, "seq": tInt, "paused": tBool, "attempts": tInt,
			"run_at": tTime, "enqueued_at": tTime, "next_attempt_at": tAny, "started_at": tAny, "stopped_at": tAny,
			"elapsed_time_ms": tAny, "error": tAny, "output": tStr, "logs": tAnyList, "errors": tAnyList, "result": tAny, "result_meta": tAny,
			"action": obj(map[string]any{"type": tStr, "options": tAny, "meta": tAny}),
			"attempts_history": map[string]any{"type": "array", "description": "every attempt (claim) of the run, oldest first (at most the latest 100); only when one run is read",
				"items": obj(map[string]any{"attempt": tInt, "node_id": map[string]any{"type": []string{"string", "null"}}, "started_at": tTime,
					"finished_at": map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
					"outcome":     map[string]any{"type": "string", "enum": []string{"running", "success", "error", "interrupted"}},
					"error":       map[string]any{"type": []string{"string", "null"}}}, "attempt", "started_at", "finished_at", "outcome", "error")},
			"reperformed_after_interruption": map[string]any{"type": "boolean",
				"description": "true when an attempt was interrupted (its lease ran out: process killed or stalled) and the run was performed again; its side effects may have happened twice. Only when one run is read"}}),
		"RunList": map[string]any{"type": "object", "description": "{\"runs\"|\"event_runs\"|\"task_runs\"|\"action_runs\": [...], \"next_cursor\": ...}",
			"additionalProperties": arrayOf("Run"), "properties": map[string]any{"next_cursor": tStr}},
		"CacheEndpoint":      obj(map[string]any{"id": tStr, "key": tStr, "content_type": tStr, "url": tStr, "created_at": tTime}),
		"CacheEndpointInput": obj(map[string]any{"key": tStr, "content_type": tStr}, "key"),
		"CacheEndpointList":  obj(map[string]any{"cache_endpoints": arrayOf("CacheEndpoint"), "next_cursor": tStr}, "cache_endpoints"),
		"Global":             obj(map[string]any{"key": tStr, "value": tAny, "created_at": tTime, "updated_at": tTime}),
		"GlobalInput":        obj(map[string]any{"global": obj(map[string]any{"value": tAny}, "value")}, "global"),
		"GlobalAnswer":       obj(map[string]any{"global": ref("Global")}),
		"GlobalList":         obj(map[string]any{"globals": arrayOf("Global"), "next_cursor": tStr}, "globals"),
		"Secret":             obj(map[string]any{"key": tStr, "value_present": tBool, "approximate_task_reference_count": tInt, "created_at": tTime, "updated_at": tTime}),
		"SecretInput":        obj(map[string]any{"secret": obj(map[string]any{"value": tStr}, "value")}, "secret"),
		"SecretAnswer":       obj(map[string]any{"secret": ref("Secret")}),
		"SecretList":         obj(map[string]any{"secrets": arrayOf("Secret"), "next_cursor": tStr}, "secrets"),
		"EventFilter":        obj(map[string]any{"name": tStr, "template": tStr, "created_at": tTime, "updated_at": tTime}),
		"EventFilterInput":   obj(map[string]any{"template": tStr}, "template"),
		"EventFilterList":    obj(map[string]any{"event_filters": arrayOf("EventFilter"), "next_cursor": tStr}, "event_filters"),
		"APIToken":           obj(map[string]any{"id": tStr, "name": tStr, "created_at": tTime, "token": tStr}),
		"APITokenInput":      obj(map[string]any{"name": tStr}, "name"),
		"APITokenList":       obj(map[string]any{"api_tokens": arrayOf("APIToken"), "next_cursor": tStr}, "api_tokens"),
		"ShopStatus": obj(map[string]any{"status": tStr, "time_zone": tStr, "waiting": tInt, "running": tInt, "scheduled": tInt,
			"lag_seconds": map[string]any{"type": "number"}, "oldest_due_at": tAny, "queue": map[string]any{"type": "object"}}),
		"EmailTemplate":      obj(map[string]any{"name": tStr, "body": tStr, "created_at": tTime, "updated_at": tTime}),
		"EmailTemplateInput": obj(map[string]any{"body": tStr}, "body"),
		"EmailTemplateList":  obj(map[string]any{"email_templates": arrayOf("EmailTemplate"), "next_cursor": tStr}, "email_templates"),
		"ShopConnection": obj(map[string]any{"connected": tBool, "shop": tStr, "base_url": tStr, "api_version": tStr,
			"auth":   map[string]any{"type": "string", "enum": []string{"access_token", "client_credentials", "oauth"}},
			"source": map[string]any{"type": "string", "enum": []string{"environment", "api"}}, "client_id": tStr, "scopes": tStrs,
			"has_api_secret": tBool, "connected_at": tTime}, "connected"),
		"ShopConnectionInput": obj(map[string]any{"shop": tStr, "access_token": tStr, "client_id": tStr, "client_secret": tStr,
			"base_url": tStr, "api_version": tStr, "verify": tBool}, "shop"),
		"OAuthInstallInput": obj(map[string]any{"shop": tStr, "client_id": tStr, "client_secret": tStr, "scopes": tStrs,
			"redirect_uri": tStr, "base_url": tStr, "api_version": tStr}, "shop", "client_id", "client_secret"),
		"OAuthInstall": obj(map[string]any{"install_url": tStr, "state": tStr, "scopes": tStrs, "redirect_uri": tStr, "expires_at": tTime}),
		"SendInput": obj(map[string]any{"resource_type": map[string]any{"type": "string", "enum": []string{"customer", "order", "draft_order", "product", "variant", "collection"}},
			"ids": tAnyList, "mode": map[string]any{"type": "string", "enum": []string{"individual", "batch"}}, "task_ids": tStrs}, "resource_type", "ids"),
		"SendResult":   obj(map[string]any{"event_ids": tStrs, "topic": tStr, "mode": tStr}),
		"Deprecations": obj(map[string]any{"deprecations": tAnyList, "total_count": tInt, "limit": tInt, "truncated": tBool}),
	}
}

// openAPIDocument builds the OpenAPI 3.1 document of the service's HTTP API.
func openAPIDocument() map[string]any {
	paths := map[string]any{}
	errResp := func(code int) map[string]any {
		return map[string]any{"description": http.StatusText(code), "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
	}
	for _, op := range apiOps {
		item, _ := paths[op.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.path] = item
		}
		var params []any
		for _, m := range rePathParam.FindAllStringSubmatch(op.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": tStr})
		}
		for _, q := range op.query {
			name, desc, _ := strings.Cut(q, ": ")
			params = append(params, map[string]any{"name": name, "in": "query", "required": false, "description": desc, "schema": tStr})
		}
		ok := map[string]any{"description": http.StatusText(op.status)}
		switch {
		case op.raw:
			ok["content"] = map[string]any{"*/*": map[string]any{"schema": tAny}}
		case op.resp != "":
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": ref(op.resp)}}
		}
		responses := map[string]any{strconv.Itoa(op.status): ok}
		codes := op.errors
		if !op.public {
			codes = append([]int{401, 429}, codes...)
		}
		for _, c := range codes {
			responses[strconv.Itoa(c)] = errResp(c)
		}
		o := map[string]any{
			"operationId": operationID(op),
			"tags":        []string{op.tag},
			"summary":     op.summary,
			"responses":   responses,
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		if op.body != "" {
			o["requestBody"] = map[string]any{"required": op.path != "/v1/tasks/{id}/preview", // without a body it previews the saved task
				"content": map[string]any{"application/json": map[string]any{"schema": ref(op.body)}}}
		}
		if op.public {
			o["security"] = []any{}
		}
		item[strings.ToLower(op.method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "Sprocket API",
			"version": "v1",
			"description": "The HTTP API of a Sprocket service: task sync (Mechanic's v1 task sync API), events, runs, incoming webhooks, " +
				"cache endpoints, globals, secrets and event filters. Send Authorization: Bearer <token>. Errors are " +
				"{\"error\": {\"message\", \"field\", \"details\"}}. Rate limits answer 429 with Retry-After. " +
				"Lists answer one page (limit, default 100, at most 1000) and next_cursor while more remain; a page whose items pass 8 MiB of JSON ends early with next_cursor. " +
				"While the stored-bytes quota (--max-stored-bytes) is reached, event ingest answers 429 with Retry-After. See docs/api.md for a guide.",
		},
		"servers":    []any{map[string]any{"url": "http://127.0.0.1:8080"}},
		"security":   []any{map[string]any{"bearer": []any{}}},
		"paths":      paths,
		"components": map[string]any{"schemas": openAPISchemas(), "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
}

// operationID names an operation: method and path as one identifier.
func operationID(op apiOp) string {
	p := strings.NewReplacer("/v1/", "", "/", "_", "{", "", "}", "", ".", "_").Replace(op.path)
	return strings.ToLower(op.method) + "_" + strings.Trim(p, "_")
}

// openAPIHandler answers the OpenAPI document (no token needed).
func openAPIHandler() http.HandlerFunc {
	doc := openAPIDocument()
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, doc)
	}
}
