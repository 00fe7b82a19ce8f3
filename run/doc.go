// Package run renders a task for one event — the task run — and turns its
// output into actions, logs and errors.
package run
