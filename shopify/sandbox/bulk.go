package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

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
	now := timestamp(e.sb.now())
	bo := e.sb.st.create("BulkOperation", object{
		"status": "COMPLETED", "type": "QUERY", "query": query, "createdAt": now, "completedAt": now,
		"objectCount": strconv.Itoa(count), "rootObjectCount": strconv.Itoa(roots), "fileSize": strconv.Itoa(buf.Len()),
		"errorCode": nil, "partialDataUrl": nil, "_jsonl": buf.Bytes(),
	})
	key := digest(str(bo["id"]) + e.sb.opts.AccessToken)
	bo["_key"] = key
	if count > 0 {
		bo["url"] = e.sb.baseURL() + bulkPathPrefix + strconv.FormatInt(legacyID(str(bo["id"])), 10) + "-" + key + ".jsonl"
	} else {
		bo["url"] = nil
	}
	return object{"bulkOperation": bo}, nil
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
	if bo["status"] == "COMPLETED" {
		return object{"bulkOperation": bo, "userErrors": userErrors(userError([]string{"id"}, "A bulk operation cannot be canceled when it is completed"))}, nil
	}
	bo["status"] = "CANCELED"
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
