// Package sandbox is a stand-in Shopify shop: it serves the Admin GraphQL
// API from the real Admin schema (package shopify/schema) and the REST
// paths Mechanic's task library uses, answering from a seeded, stateful
// in-memory store. Tests use it in-process through Handler (with
// net/http/httptest); the `sprocket sandbox` command serves it so that
// `sprocket serve` can be pointed at it.
//
// # GraphQL
//
// POST /admin/api/{version}/graphql.json parses and validates the query
// against the schema (invalid documents get Shopify-shaped errors with
// locations and HTTP 200), coerces variables, computes the requested query
// cost (schema.Cost), throttles with a restoring bucket (BucketSize points,
// RestoreRate points per second; not enough points → THROTTLED with the
// bucket state in extensions.cost) and executes the operation.
//
// The executor is generic and schema-driven: a field of a stored object is
// answered from the stored value of the same name; relations are stored as
// GIDs; connections (edges/node/cursor, nodes, pageInfo,
// first/last/after/before) are built from stored lists and filtered by the
// `query:` search syntax (tag:, status:, id:, created_at:>…, updated_at,
// financial_status, fulfillment_status, sku:, other field:value pairs, free
// text over title/name/email, NOT/-, OR) and sorted by sortKey/reverse. Root
// fields find objects by id, list every object of a connection's node type
// and count them (xCount). node/nodes, fragments on interfaces and unions,
// aliases, variables and @include/@skip work; of introspection only
// __typename is answered (__schema/__type give an error).
//
// A field with no stored value resolves to null when it is nullable and to
// a type-appropriate zero when it is non-null: 0, false, "" (and "0.0" for
// Money/Decimal, the sandbox epoch for DateTime), the first enum value, an
// empty list, or an object whose own fields follow the same rule. A root
// field or mutation the sandbox does not implement answers an error with
// extensions.code NOT_IMPLEMENTED rather than empty data.
//
// bulkOperationRunQuery runs the inner query with unbounded connections
// and stores a BulkOperation whose url serves the JSONL result (no token
// needed, like Shopify's signed URLs); bulkOperationRunMutation runs a
// mutation per line of a JSONL file uploaded to the sandbox's own staged
// upload target. Operations complete at once or after Options.BulkDelay.
//
// # Webhooks
//
// Webhook subscriptions (GraphQL webhookSubscription* and REST
// webhooks.json) are stored with the shop. State changes made through the
// Admin API or the control endpoints send the CoveredTopics to every
// subscription of the topic: a POST of the object's REST shape signed with
// Options.APISecret (X-Shopify-Hmac-Sha256) and Shopify's headers, from a
// bounded queue with bounded, backed-off retries. Stats().Webhooks counts
// them, WaitDeliveries waits for the queue to drain, Close stops it.
//
// # REST
//
// GET/POST/PUT/DELETE /admin/api/{version}/<resource>.json (and
// /admin/<resource>.json) answer from the same store in REST shapes
// (numeric ids, snake_case), with limit + page_info pagination and a Link
// header, X-Shopify-Shop-Api-Call-Limit, and 429 with Retry-After when the
// leaky bucket (RESTBucketSize requests, RESTLeakRate per second) is full.
//
// # Control
//
// /sandbox/ endpoints (same access token): GET stats, POST reset, GET
// objects?id=GID|type=Type, POST orders|customers|products, POST
// import/orders|customers|products (a REST or webhook payload stored under
// its own id, so that tasks run with that event data find their objects),
// POST faults ({"status":503,"count":2} or {"hang":"3s","count":1}), POST
// deliver ({"topic":"orders/paid","id":"<GID>"}), GET webhooks. The same is
// available in Go: Stats, Reset, Object, IDs, CreateOrder, CreateCustomer,
// CreateProduct, ImportREST, InjectFault, Deliver, WebhookSubscriptions,
// WaitDeliveries, Invoices.
//
// See README.md in this folder for the operations the library uses most
// and which of them are implemented.
package sandbox
