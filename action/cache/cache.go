// Package cache implements Mechanic's cache action: Redis-style commands
// (set, setex, del, incr, incrby, decr, decrby) on the shop's cache.
//
// Options come in two forms (docs: core/actions/cache.md):
//
//   - positional: an array, the command followed by its arguments in the
//     documented order, e.g. ["set", "foo", 5], ["setex", "foo", 60, 5],
//     ["incrby", "foo", 3]. Commands other than setex accept one extra
//     trailing argument, the TTL in seconds.
//   - verbose: a hash with the command as its only key and a hash of named
//     arguments as its value, e.g. {"incr": {"key": "foo", "ttl": 600}};
//     "ttl" is accepted by every command.
//
// Every command resets the entry's TTL, which defaults to and may not
// exceed 60 days. Values are any JSON value of at most 256 KiB.
package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
)

// Type is the action type name the cache action is registered under.
const Type = "cache"

// MaxValueBytes is the largest accepted value, measured as JSON.
const MaxValueBytes = 256 << 10

// MaxTTLSeconds is the longest TTL in seconds (60 days).
const MaxTTLSeconds = int64(store.MaxCacheTTL / time.Second)

var keyPattern = regexp.MustCompile(`(?i)^[a-z0-9_:\-./]+$`)

// Command is one parsed cache command.
type Command struct {
	// Name is the command as written, e.g. "incrby".
	Name string
	// Op is the store operation it performs.
	Op store.CacheOp
	// TTLSeconds is the TTL that was given, 0 when defaulted.
	TTLSeconds int64
}

type commandSpec struct {
	kind store.CacheOpKind
	args []string // positional argument names after the key, in order
	sign int64    // +1/-1 for incr/decr families
}

var commands = map[string]commandSpec{
	"set":    {kind: store.CacheSet, args: []string{"value"}},
	"setex":  {kind: store.CacheSet, args: []string{"ttl", "value"}},
	"del":    {kind: store.CacheDel},
	"incr":   {kind: store.CacheIncr, sign: 1},
	"incrby": {kind: store.CacheIncr, args: []string{"increment"}, sign: 1},
	"decr":   {kind: store.CacheIncr, sign: -1},
	"decrby": {kind: store.CacheIncr, args: []string{"decrement"}, sign: -1},
}

const commandList = "set, setex, del, incr, incrby, decr or decrby"

// Parse reads cache action options in either form and returns the command.
// Errors are *action.ValidationError values naming the offending option.
func Parse(options any) (Command, error) {
	switch o := options.(type) {
	case []any:
		return parsePositional(o)
	case *value.Map:
		return parseVerbose(o)
	case nil:
		return Command{}, action.Invalid(Type, "", "options are required: a command array such as [\"set\", key, value] or a hash such as {\"set\": {\"key\": …, \"value\": …}}")
	}
	return Command{}, action.Invalid(Type, "", "options must be an array or a hash, got %s", value.TypeName(options))
}

func lookupCommand(field string, v any) (string, commandSpec, error) {
	name, ok := v.(string)
	if !ok {
		return "", commandSpec{}, action.Invalid(Type, field, "the command must be a string (%s), got %s", commandList, value.TypeName(v))
	}
	spec, ok := commands[strings.ToLower(name)]
	if !ok {
		return "", commandSpec{}, action.Invalid(Type, field, "unknown command %q (want %s)", name, commandList)
	}
	return strings.ToLower(name), spec, nil
}

func parsePositional(a []any) (Command, error) {
	if len(a) == 0 {
		return Command{}, action.Invalid(Type, "0", "the command is missing (want %s)", commandList)
	}
	name, spec, err := lookupCommand("0", a[0])
	if err != nil {
		return Command{}, err
	}
	names := append([]string{"key"}, spec.args...)
	maxArgs := len(names)
	trailingTTL := name != "setex"
	if trailingTTL {
		maxArgs++
	}
	if len(a)-1 < len(names) {
		return Command{}, action.Invalid(Type, strconv.Itoa(len(a)), "%s needs %d argument(s) after the command (%s), got %d", name, len(names), strings.Join(names, ", "), len(a)-1)
	}
	if len(a)-1 > maxArgs {
		return Command{}, action.Invalid(Type, strconv.Itoa(maxArgs+1), "%s takes at most %d argument(s) after the command, got %d", name, maxArgs, len(a)-1)
	}
	args := map[string]any{}
	fields := map[string]string{}
	for i, n := range names {
		args[n] = a[i+1]
		fields[n] = strconv.Itoa(i + 1)
	}
	if trailingTTL && len(a)-1 == maxArgs {
		args["ttl"] = a[maxArgs]
		fields["ttl"] = strconv.Itoa(maxArgs)
	}
	return build(name, spec, args, fields)
}

func parseVerbose(m *value.Map) (Command, error) {
	if m.Len() != 1 {
		return Command{}, action.Invalid(Type, "", "a verbose cache command is a hash with exactly one key, the command (%s); got %d keys", commandList, m.Len())
	}
	cmdName := m.Keys()[0]
	name, spec, err := lookupCommand(cmdName, cmdName)
	if err != nil {
		return Command{}, err
	}
	raw, _ := m.Get(cmdName)
	argMap, ok := raw.(*value.Map)
	if !ok {
		return Command{}, action.Invalid(Type, cmdName, "must be a hash of arguments (key, …), got %s", value.TypeName(raw))
	}
	allowed := map[string]bool{"key": true, "ttl": true}
	for _, n := range spec.args {
		allowed[n] = true
	}
	args := map[string]any{}
	fields := map[string]string{}
	var unknown error
	argMap.Each(func(k string, v any) bool {
		if !allowed[k] {
			unknown = action.Invalid(Type, cmdName+"."+k, "unknown argument for %s", name)
			return false
		}
		args[k] = v
		fields[k] = cmdName + "." + k
		return true
	})
	if unknown != nil {
		return Command{}, unknown
	}
	for _, n := range append([]string{"key"}, spec.args...) {
		if _, ok := args[n]; !ok {
			return Command{}, action.Invalid(Type, cmdName+"."+n, "is required for %s", name)
		}
	}
	return build(name, spec, args, fields)
}

func build(name string, spec commandSpec, args map[string]any, fields map[string]string) (Command, error) {
	key, ok := args["key"].(string)
	if !ok {
		return Command{}, action.Invalid(Type, fields["key"], "key must be a string, got %s", value.TypeName(args["key"]))
	}
	if !keyPattern.MatchString(key) {
		return Command{}, action.Invalid(Type, fields["key"], "key %q must match /^[a-z0-9_:\\-\\.\\/]+$/i", key)
	}
	cmd := Command{Name: name, Op: store.CacheOp{Kind: spec.kind, Key: key}}
	if v, ok := args["ttl"]; ok && v != nil {
		n, err := integer(v)
		if err != nil {
			return Command{}, action.Invalid(Type, fields["ttl"], "ttl %s", err)
		}
		if n < 1 || n > MaxTTLSeconds {
			return Command{}, action.Invalid(Type, fields["ttl"], "ttl must be between 1 and %d seconds (60 days), got %d", MaxTTLSeconds, n)
		}
		cmd.TTLSeconds = n
		cmd.Op.TTL = time.Duration(n) * time.Second
	} else if name == "setex" {
		return Command{}, action.Invalid(Type, fields["ttl"], "ttl is required for setex")
	}
	switch spec.kind {
	case store.CacheSet:
		b, err := value.ToJSON(args["value"])
		if err != nil {
			return Command{}, action.Invalid(Type, fields["value"], "value is not JSON: %v", err)
		}
		if len(b) > MaxValueBytes {
			return Command{}, action.Invalid(Type, fields["value"], "value is %d bytes as JSON; the limit is %d (256 KiB)", len(b), MaxValueBytes)
		}
		cmd.Op.Value = b
	case store.CacheIncr:
		delta := int64(1)
		for _, n := range spec.args {
			v, err := integer(args[n])
			if err != nil {
				return Command{}, action.Invalid(Type, fields[n], "%s %s", n, err)
			}
			delta = v
		}
		if spec.sign < 0 {
			if delta == math.MinInt64 {
				return Command{}, action.Invalid(Type, fields["decrement"], "decrement is out of range")
			}
			delta = -delta
		}
		cmd.Op.Delta = delta
	}
	return cmd, nil
}

// integer accepts integers, integral floats and strings of digits, as Ruby's
// Integer() coercion would.
func integer(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x), nil
		}
		return 0, fmt.Errorf("must be an integer, got %s", value.FormatFloat(x))
	case *big.Int:
		return 0, errors.New("is out of range")
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("must be an integer, got %q", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("must be an integer, got %s", value.TypeName(v))
}

// Result describes a command as an action result: command, key, ttl (the
// TTL applied, in seconds) and, for set/setex, the value; for increments the
// delta, and when the new value is known, value.
func (c Command) Result(newValue any, known bool) *value.Map {
	m := value.NewMap(5)
	m.Set("command", c.Name)
	m.Set("key", c.Op.Key)
	ttl := c.TTLSeconds
	if ttl == 0 && c.Op.Kind != store.CacheDel {
		ttl = MaxTTLSeconds
	}
	if c.Op.Kind != store.CacheDel {
		m.Set("ttl", ttl)
	}
	switch c.Op.Kind {
	case store.CacheSet:
		v, _ := value.FromJSON(c.Op.Value)
		m.Set("value", v)
	case store.CacheIncr:
		m.Set("delta", c.Op.Delta)
		if known {
			m.Set("value", newValue)
		}
	}
	return m
}

// Performer performs cache actions. With PerformEffects (the pipeline's
// path) the cache write is returned as an effect and committed together
// with the action run; Perform applies it directly to Cache.
type Performer struct {
	// Cache receives direct writes made by Perform; it may be nil when only
	// PerformEffects is used.
	Cache store.Cache
}

// New returns a cache performer writing to c (which may be nil, see Performer).
func New(c store.Cache) *Performer { return &Performer{Cache: c} }

// Validate checks cache options, naming the offending option.
func (*Performer) Validate(options any) error {
	_, err := Parse(options)
	return err
}

// PerformEffects parses the options and returns the cache write as an
// effect, to be committed atomically with the run's completion. The key
// argument (an idempotency key) is not needed by cache writes.
func (*Performer) PerformEffects(_ context.Context, req action.Request, _ string) (action.Result, store.Effects, error) {
	opts, _ := action.SplitControl(req.Options)
	cmd, err := Parse(opts)
	if err != nil {
		return action.Result{}, store.Effects{}, err
	}
	return action.Result{Value: cmd.Result(nil, false)}, store.Effects{Cache: []store.CacheOp{cmd.Op}}, nil
}

// Perform applies the command to p.Cache directly. A value that cannot be
// incremented fails the run; other store errors are transient.
func (p *Performer) Perform(ctx context.Context, req action.Request) (action.Result, error) {
	cmd, err := Parse(req.Options)
	if err != nil {
		return action.Result{}, err
	}
	if p.Cache == nil {
		return action.Result{}, action.Failed(errors.New("cache action: no cache configured"))
	}
	raw, err := p.Cache.CacheApply(ctx, cmd.Op)
	if err != nil {
		if errors.Is(err, store.ErrNotInteger) {
			return action.Result{}, action.Failed(fmt.Errorf("cache action: %s %q: the stored value is not an integer", cmd.Name, cmd.Op.Key))
		}
		return action.Result{}, action.Transient(fmt.Errorf("cache action: %w", err))
	}
	var nv any
	known := false
	if cmd.Op.Kind == store.CacheIncr && len(raw) > 0 {
		if v, err := value.FromJSON(raw); err == nil {
			nv, known = v, true
		}
	}
	return action.Result{Value: cmd.Result(nv, known)}, nil
}
