package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/sprocketrun/sprocket/shopify/schema"
)

// maxBulkObjects bounds the objects one bulk query writes.
const maxBulkObjects = 100000

// bulkPathPrefix is where bulk results are downloaded from. Like Shopify's
// signed result URLs, these need no access token; the file name carries an
// unguessable key.
const bulkPathPrefix = "/sandbox-files/bulk/"

// mBulkRunQuery runs a bulk query at once: it validates the query, executes
// it with unbounded connections, writes the JSONL result (one line per
// node; nodes of nested connections on their own lines with "__parentId")
// and stores a COMPLETED BulkOperation whose url serves the file.
func mBulkRunQuery(e *executor, args map[string]any) (object, error) {
	query := str(args["query"])
	fail := func(msg string) (object, error) {
		return object{"bulkOperation": nil, "userErrors": userErrors(object{"field": []any{"query"}, "message": msg, "code": "INVALID"})}, nil
	}
	doc, findings := e.sch.ParseAndValidate(query)
	if len(findings) > 0 {
		return fail("Invalid bulk query: " + findings[0].Message)
	}
	op, err := schema.PickOperation(doc, "")
	if err != nil || op.Operation != ast.Query {
		return fail("Invalid bulk query: a bulk query must be a single query operation")
	}
	sub := &executor{sb: e.sb, sch: e.sch, schema: e.schema, doc: doc, op: op, vars: map[string]any{}, bulk: true}
	data := sub.run()
	if len(sub.errs) > 0 {
		return fail("Invalid bulk query: " + sub.errs[0].Message)
	}
	var buf bytes.Buffer
	roots, count := 0, 0
	var walkErr error
	for _, k := range data.keys {
		nodes, ok := connectionNodes(data.vals[k])
		if !ok {
			continue
		}
		for _, n := range nodes {
			roots++
			if err := writeBulkNode(&buf, n, "", &count); err != nil {
				walkErr = err
				break
			}
		}
	}
	if walkErr != nil {
		return fail(walkErr.Error())
	}
	if roots == 0 && count == 0 && !hasConnection(data) {
		return fail("Invalid bulk query: the query must contain at least one connection")
	}
	bo := e.sb.startBulk("QUERY", query, buf.Bytes(), count, roots)
	return object{"bulkOperation": bo}, nil
}

// startBulk stores a bulk operation with its finished result: COMPLETED at
// once when Options.BulkDelay is 0, else RUNNING until a timer completes
// it. Completion sends bulk_operations/finish. Caller holds mu.
func (sb *Sandbox) startBulk(typ, query string, jsonl []byte, count, roots int) object {
	now := timestamp(sb.now())
	bo := sb.st.create("BulkOperation", object{
		"status": "CREATED", "type": typ, "query": query, "createdAt": now, "completedAt": nil,
		"objectCount": "0", "rootObjectCount": "0", "fileSize": nil, "url": nil,
		"errorCode": nil, "partialDataUrl": nil,
	})
	bo["_key"] = digest(str(bo["id"]) + sb.opts.AccessToken)
	done := func() {
		bo["status"] = "COMPLETED"
		bo["completedAt"] = timestamp(sb.now())
		bo["objectCount"] = strconv.Itoa(count)
		bo["rootObjectCount"] = strconv.Itoa(roots)
		bo["fileSize"] = strconv.Itoa(len(jsonl))
		bo["_jsonl"] = jsonl
		if len(jsonl) > 0 {
			bo["url"] = sb.baseURL() + bulkPathPrefix + strconv.FormatInt(legacyID(str(bo["id"])), 10) + "-" + str(bo["_key"]) + ".jsonl"
		}
		sb.emit("bulk_operations/finish", bo)
	}
	if sb.opts.BulkDelay <= 0 {
		done()
		return bo
	}
	bo["status"] = "RUNNING"
	var t *time.Timer
	t = time.AfterFunc(sb.opts.BulkDelay, func() {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		live := false
		sb.bulkTimers = slices.DeleteFunc(sb.bulkTimers, func(x *time.Timer) bool {
			if x == t {
				live = true
			}
			return x == t
		})
		if live && bo["status"] == "RUNNING" && sb.st.get(str(bo["id"])) != nil {
			done()
		}
	})
	sb.bulkTimers = append(sb.bulkTimers, t)
	return bo
}

// connectionNodes returns the nodes of a resolved connection value.
func connectionNodes(v any) ([]*omap, bool) {
	m, ok := v.(*omap)
	if !ok {
		return nil, false
	}
	var out []*omap
	found := false
	if edges, ok := m.vals["edges"].([]any); ok {
		found = true
		for _, e := range edges {
			if em, ok := e.(*omap); ok {
				if n, ok := em.vals["node"].(*omap); ok {
					out = append(out, n)
				}
			}
		}
	}
	if nodes, ok := m.vals["nodes"].([]any); ok && !found {
		found = true
		for _, n := range nodes {
			if nm, ok := n.(*omap); ok {
				out = append(out, nm)
			}
		}
	}
	return out, found
}

func hasConnection(m *omap) bool {
	for _, k := range m.keys {
		if _, ok := connectionNodes(m.vals[k]); ok {
			return true
		}
	}
	return false
}

// writeBulkNode writes a node line, then the lines of its nested
// connections' nodes.
func writeBulkNode(buf *bytes.Buffer, n *omap, parent string, count *int) error {
	*count++
	if *count > maxBulkObjects {
		return fmt.Errorf("bulk query result exceeds %d objects", maxBulkObjects)
	}
	line := newOmap(len(n.keys) + 1)
	var children [][]*omap
	for _, k := range n.keys {
		if nodes, ok := connectionNodes(n.vals[k]); ok {
			children = append(children, nodes)
			continue
		}
		line.set(k, n.vals[k])
	}
	if parent != "" {
		line.set("__parentId", parent)
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode bulk line: %w", err)
	}
	buf.Write(b)
	buf.WriteByte('\n')
	id, _ := n.vals["id"].(string)
	for _, nodes := range children {
		if id == "" && len(nodes) > 0 {
			return fmt.Errorf("Invalid bulk query: a nested connection needs the parent's id field selected")
		}
		for _, c := range nodes {
			if err := writeBulkNode(buf, c, id, count); err != nil {
				return err
			}
		}
	}
	return nil
}

func mBulkCancel(e *executor, args map[string]any) (object, error) {
	bo := e.sb.st.getType(str(args["id"]), "BulkOperation")
	if bo == nil {
		return object{"bulkOperation": nil, "userErrors": userErrors(userError([]string{"id"}, "Bulk operation does not exist"))}, nil
	}
	if bo["status"] != "RUNNING" && bo["status"] != "CREATED" {
		return object{"bulkOperation": bo, "userErrors": userErrors(userError([]string{"id"}, "A bulk operation cannot be canceled when it is "+strings.ToLower(str(bo["status"]))))}, nil
	}
	bo["status"] = "CANCELED"
	bo["completedAt"] = timestamp(e.sb.now())
	e.sb.emit("bulk_operations/finish", bo)
	return object{"bulkOperation": bo}, nil
}

// baseURL is the scheme and host the latest Admin API request came to.
// Caller holds mu.
func (sb *Sandbox) baseURL() string {
	if sb.host == "" {
		return "http://" + sb.opts.Shop
	}
	return "http://" + sb.host
}

// serveBulkFile answers GET /sandbox-files/bulk/<n>-<key>.jsonl.
func (sb *Sandbox) serveBulkFile(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, bulkPathPrefix), ".jsonl")
	num, key, ok := strings.Cut(name, "-")
	n, err := strconv.ParseInt(num, 10, 64)
	if r.Method != http.MethodGet || !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	sb.mu.Lock()
	bo := sb.st.getType(gidOf("BulkOperation", n), "BulkOperation")
	var body []byte
	if bo != nil && bo["_key"] == key {
		body, _ = bo["_jsonl"].([]byte)
	}
	sb.mu.Unlock()
	if bo == nil || bo["_key"] != key {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}
