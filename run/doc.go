// Package run renders a task for one event — the task run — and turns its
// output into actions, logs and errors.
//
// A Renderer builds the run's variables (event, options, task, shop,
// cache, globals, secrets and the event's subject variable such as order
// or bulkOperation), renders the task code with Mechanic's Liquid dialect
// (package dialect) within per-run limits, and parses the output, a stream
// of {"action": …}, {"log": …} and {"error": …} objects, with ParseOutput.
// Engine failures (syntax errors, inline Liquid errors, limits, output
// that is not an object stream) are *Error values; error objects the task
// renders are part of a successful Result.
//
// Preview renders a task the way Mechanic's preview does: with synthetic
// events (the task's preview event definitions, or sample payloads for
// the subscribed topics), event.preview set to true, and no Shopify API
// or cache access.
package run
