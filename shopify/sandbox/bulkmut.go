package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/sprocketrun/sprocket/shopify/schema"
)

// stagedPathPrefix is where staged upload targets accept their multipart
// POST. Like Shopify's storage bucket, it needs no access token: the
// signed form fields authorise the upload.
const stagedPathPrefix = "/sandbox-files/staged"

// Limits of staged uploads and bulk mutations.
const (
	maxStagedBytes   = 20 << 20
	maxStagedFiles   = 100
	maxBulkMutations = 100000
)

// mStagedUploadsCreate answers upload targets on the sandbox itself. A
// target's parameters are the form fields to send with the file in a
// multipart POST to its url; "key" is the path bulkOperationRunMutation
// takes as stagedUploadPath.
func mStagedUploadsCreate(e *executor, args map[string]any) (object, error) {
	in, _ := args["input"].([]any)
	var targets []any
	for i, x := range in {
		m, _ := x.(map[string]any)
		name := str(m["filename"])
		if name == "" {
			return object{"stagedTargets": nil, "userErrors": userErrors(userError([]string{"input", strconv.Itoa(i), "filename"}, "Filename can't be blank"))}, nil
		}
		if method := str(m["httpMethod"]); method != "" && method != "POST" {
			return object{"stagedTargets": nil, "userErrors": userErrors(userError([]string{"input", strconv.Itoa(i), "httpMethod"}, "The sandbox's staged targets accept POST uploads only"))}, nil
		}
		resource := str(m["resource"])
		mime := strDefault(m["mimeType"], "application/octet-stream")
		n := len(e.sb.staged) + 1
		if n > maxStagedFiles {
			return object{"stagedTargets": nil, "userErrors": userErrors(userError([]string{"input"}, fmt.Sprintf("The sandbox holds at most %d staged files; reset it", maxStagedFiles)))}, nil
		}
		key := fmt.Sprintf("tmp/%d/%s/%s-%d/%s", legacyID(gidOf("Shop", 1)), strings.ToLower(resource), randomID(), n, stagedName(resource, name))
		sig := digest(key + e.sb.opts.AccessToken)
		e.sb.staged[key] = nil
		url := e.sb.baseURL() + stagedPathPrefix
		targets = append(targets, object{
			"__typename": "StagedMediaUploadTarget", "url": url, "resourceUrl": url + "/" + key,
			"parameters": []any{
				param("key", key), param("Content-Type", mime), param("success_action_status", "201"),
				param("acl", "private"), param("policy", "sandbox"), param("x-goog-algorithm", "GOOG4-RSA-SHA256"),
				param("x-goog-signature", sig),
			},
		})
	}
	return object{"stagedTargets": targets}, nil
}

// stagedName is the stored file name: Shopify names the variables file of
// a bulk mutation bulk_op_vars.
func stagedName(resource, name string) string {
	if resource == "BULK_MUTATION_VARIABLES" {
		return "bulk_op_vars"
	}
	return name
}

func param(name, value string) object {
	return object{"__typename": "StagedUploadParameter", "name": name, "value": value}
}

// serveStaged accepts the multipart POST of a staged upload.
func (sb *Sandbox) serveStaged(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "staged uploads take a multipart POST", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxStagedBytes+1<<20)
	if err := r.ParseMultipartForm(maxStagedBytes); err != nil {
		http.Error(w, "invalid multipart upload: "+err.Error(), http.StatusBadRequest)
		return
	}
	defer r.MultipartForm.RemoveAll()
	key := r.FormValue("key")
	if key == "" || r.FormValue("x-goog-signature") != digest(key+sb.opts.AccessToken) {
		http.Error(w, "<Error><Code>AccessDenied</Code><Message>the key and x-goog-signature fields do not match a staged target</Message></Error>", http.StatusForbidden)
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "<Error><Code>InvalidArgument</Code><Message>the form has no file field: "+err.Error()+"</Message></Error>", http.StatusBadRequest)
		return
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		http.Error(w, "read upload: "+err.Error(), http.StatusBadRequest)
		return
	}
	sb.mu.Lock()
	_, known := sb.staged[key]
	if known {
		sb.staged[key] = buf.Bytes()
	}
	sb.mu.Unlock()
	if !known {
		http.Error(w, "<Error><Code>AccessDenied</Code><Message>no staged target "+key+" (was the sandbox reset?)</Message></Error>", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Location", sb.baseURL()+stagedPathPrefix+"/"+key)
	status := http.StatusNoContent
	if r.FormValue("success_action_status") == "201" {
		status = http.StatusCreated
	}
	w.WriteHeader(status)
	if status == http.StatusCreated {
		fmt.Fprintf(w, "<?xml version='1.0' encoding='UTF-8'?><PostResponse><Location>%s</Location><Bucket>sandbox</Bucket><Key>%s</Key><ETag>\"%s\"</ETag></PostResponse>",
			sb.baseURL()+stagedPathPrefix+"/"+key, key, digest(buf.String()))
	}
}

// mBulkRunMutation runs a mutation once per line of the staged JSONL
// variables file and writes Shopify's result JSONL: one line per input
// line with data, errors when there are any, and __lineNumber (from 0).
func mBulkRunMutation(e *executor, args map[string]any) (object, error) {
	fail := func(field, code, msg string) (object, error) {
		return object{"bulkOperation": nil, "userErrors": userErrors(object{"field": []any{field}, "message": msg, "code": code})}, nil
	}
	mutation := str(args["mutation"])
	doc, findings := e.sch.ParseAndValidate(mutation)
	if len(findings) > 0 {
		return fail("mutation", "INVALID_MUTATION", "Invalid mutation: "+findings[0].Message)
	}
	op, err := schema.PickOperation(doc, "")
	if err != nil || op.Operation != ast.Mutation {
		return fail("mutation", "INVALID_MUTATION", "Invalid mutation: a bulk mutation must be a single mutation operation")
	}
	if len(op.SelectionSet) != 1 {
		return fail("mutation", "INVALID_MUTATION", "Invalid mutation: a bulk mutation must have exactly one top-level field")
	}
	if f, ok := op.SelectionSet[0].(*ast.Field); ok && strings.HasPrefix(f.Name, "bulkOperation") {
		return fail("mutation", "INVALID_MUTATION", "Invalid mutation: "+f.Name+" cannot run in a bulk mutation")
	}
	path := str(args["stagedUploadPath"])
	vars, known := e.sb.staged[path]
	if !known {
		return fail("stagedUploadPath", "NO_SUCH_FILE", "The JSONL file could not be found. Try uploading the file again, and check that you've entered the URL correctly for the stagedUploadPath mutation argument.")
	}
	if vars == nil {
		return fail("stagedUploadPath", "NO_SUCH_FILE", "The staged upload "+path+" has not been uploaded yet.")
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(vars))
	sc.Buffer(make([]byte, 64<<10), maxStagedBytes)
	line := 0
	for sc.Scan() {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if line >= maxBulkMutations {
			return fail("stagedUploadPath", "INVALID_STAGED_UPLOAD_FILE", fmt.Sprintf("The JSONL file has more than %d lines.", maxBulkMutations))
		}
		var lineVars map[string]any
		if err := json.Unmarshal(raw, &lineVars); err != nil {
			return fail("stagedUploadPath", "INVALID_STAGED_UPLOAD_FILE", fmt.Sprintf("Failed to parse the JSONL file: line %d: %v", line+1, err))
		}
		res := e.runBulkLine(doc, op, lineVars)
		res.set("__lineNumber", line)
		b, err := json.Marshal(res)
		if err != nil {
			return nil, fmt.Errorf("encode bulk mutation line %d: %w", line, err)
		}
		out.Write(b)
		out.WriteByte('\n')
		line++
	}
	if err := sc.Err(); err != nil {
		return fail("stagedUploadPath", "INVALID_STAGED_UPLOAD_FILE", "Failed to read the JSONL file: "+err.Error())
	}
	bo := e.sb.startBulk("MUTATION", mutation, out.Bytes(), line, line)
	return object{"bulkOperation": bo}, nil
}

// runBulkLine runs the bulk mutation with one line's variables and returns
// its result line.
func (e *executor) runBulkLine(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) *omap {
	res := newOmap(3)
	coerced, err := validator.VariableValues(e.schema, op, vars)
	if err != nil {
		msg := err.Error()
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) {
			msg = gerr.Message
		}
		res.set("errors", []gqlError{{Message: msg, Extensions: map[string]any{"code": "INVALID_VARIABLE"}}})
		return res
	}
	sub := &executor{sb: e.sb, sch: e.sch, schema: e.schema, doc: doc, op: op, vars: coerced, version: e.version}
	data := sub.run()
	res.set("data", data)
	if len(sub.errs) > 0 {
		res.set("errors", sub.errs)
	}
	return res
}
