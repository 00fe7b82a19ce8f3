package cache

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/store/sqlite"
)

func opts(t *testing.T, js string) any {
	t.Helper()
	v, err := value.FromJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		kind      store.CacheOpKind
		key       string
		val       string
		delta     int64
		ttl       time.Duration
		wantField string
		wantErr   string
	}{
		{name: "positional set", in: `["set","foo",5]`, kind: store.CacheSet, key: "foo", val: "5"},
		{name: "positional set ttl", in: `["set","foo",{"a":[1]},60]`, kind: store.CacheSet, key: "foo", val: `{"a":[1]}`, ttl: time.Minute},
		{name: "positional setex", in: `["setex","foo",60,"bar"]`, kind: store.CacheSet, key: "foo", val: `"bar"`, ttl: time.Minute},
		{name: "positional del", in: `["del","a:b/c.d-e_f"]`, kind: store.CacheDel, key: "a:b/c.d-e_f"},
		{name: "positional incr", in: `["incr","n"]`, kind: store.CacheIncr, key: "n", delta: 1},
		{name: "positional incrby string", in: `["incrby","n","7"]`, kind: store.CacheIncr, key: "n", delta: 7},
		{name: "positional decr", in: `["decr","n"]`, kind: store.CacheIncr, key: "n", delta: -1},
		{name: "positional decrby ttl", in: `["decrby","n",4,10]`, kind: store.CacheIncr, key: "n", delta: -4, ttl: 10 * time.Second},
		{name: "upper case command", in: `["SET","Foo",null]`, kind: store.CacheSet, key: "Foo", val: "null"},
		{name: "verbose set", in: `{"set":{"key":"foo","value":5}}`, kind: store.CacheSet, key: "foo", val: "5"},
		{name: "verbose incr ttl", in: `{"incr":{"key":"foo","ttl":600}}`, kind: store.CacheIncr, key: "foo", delta: 1, ttl: 10 * time.Minute},
		{name: "verbose setex", in: `{"setex":{"key":"foo","ttl":60,"value":5}}`, kind: store.CacheSet, key: "foo", val: "5", ttl: time.Minute},
		{name: "verbose incrby", in: `{"incrby":{"key":"foo","increment":2.0}}`, kind: store.CacheIncr, key: "foo", delta: 2},
		{name: "verbose del", in: `{"del":{"key":"foo"}}`, kind: store.CacheDel, key: "foo"},

		{name: "nil", in: `null`, wantErr: "options are required"},
		{name: "string", in: `"set"`, wantErr: "must be an array or a hash"},
		{name: "empty array", in: `[]`, wantField: "0", wantErr: "command is missing"},
		{name: "unknown command", in: `["get","foo"]`, wantField: "0", wantErr: `unknown command "get"`},
		{name: "missing value", in: `["set","foo"]`, wantField: "2", wantErr: "set needs 2 argument(s)"},
		{name: "too many", in: `["del","foo",1,2]`, wantField: "3", wantErr: "at most 2"},
		{name: "setex too many", in: `["setex","foo",1,2,3]`, wantField: "4", wantErr: "at most 3"},
		{name: "bad key", in: `["set","foo bar",1]`, wantField: "1", wantErr: "must match"},
		{name: "key not string", in: `["set",5,1]`, wantField: "1", wantErr: "key must be a string"},
		{name: "ttl too large", in: `["setex","foo",5184001,1]`, wantField: "2", wantErr: "between 1 and 5184000"},
		{name: "ttl zero", in: `{"set":{"key":"foo","value":1,"ttl":0}}`, wantField: "set.ttl", wantErr: "between 1"},
		{name: "ttl not int", in: `["setex","foo",1.5,1]`, wantField: "2", wantErr: "must be an integer, got 1.5"},
		{name: "increment not int", in: `["incrby","foo","x"]`, wantField: "2", wantErr: `increment must be an integer, got "x"`},
		{name: "verbose two keys", in: `{"set":{},"del":{}}`, wantErr: "exactly one key"},
		{name: "verbose not hash", in: `{"set":["foo",1]}`, wantField: "set", wantErr: "must be a hash"},
		{name: "verbose missing key", in: `{"del":{}}`, wantField: "del.key", wantErr: "is required"},
		{name: "verbose missing decrement", in: `{"decrby":{"key":"a"}}`, wantField: "decrby.decrement", wantErr: "is required"},
		{name: "verbose unknown arg", in: `{"set":{"key":"a","value":1,"vlaue":2}}`, wantField: "set.vlaue", wantErr: "unknown argument"},
		{name: "verbose setex without ttl", in: `{"setex":{"key":"a","value":1}}`, wantField: "setex.ttl", wantErr: "is required for setex"},
		{name: "value too big", in: `["set","a","` + strings.Repeat("x", MaxValueBytes) + `"]`, wantField: "2", wantErr: "the limit is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, err := Parse(opts(t, tt.in))
			if tt.wantErr != "" {
				var ve *action.ValidationError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want validation error containing %q", err, tt.wantErr)
				}
				if ve.Field != tt.wantField || ve.Type != Type {
					t.Errorf("field = %q type = %q, want %q %q", ve.Field, ve.Type, tt.wantField, Type)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cmd.Op.Kind != tt.kind || cmd.Op.Key != tt.key || string(cmd.Op.Value) != tt.val || cmd.Op.Delta != tt.delta || cmd.Op.TTL != tt.ttl {
				t.Errorf("op = %+v (value %s)", cmd.Op, cmd.Op.Value)
			}
		})
	}
}

func TestPerformAndEffects(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := New(st)
	reg := action.NewRegistry()
	if err := reg.Register(Type, p); err != nil {
		t.Fatal(err)
	}
	perform := func(js string) (action.Result, error) {
		return reg.Perform(ctx, action.Request{Type: Type, Options: opts(t, js)})
	}
	for i := 0; i < 3; i++ {
		if _, err := perform(`["incr","hits"]`); err != nil {
			t.Fatal(err)
		}
	}
	res, err := perform(`{"incrby":{"key":"hits","increment":10},"__meta":"m"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := value.ToJSON(res.Value); string(got) != `{"command":"incrby","key":"hits","ttl":5184000,"delta":10,"value":13}` {
		t.Errorf("result = %s", got)
	}
	if _, err := perform(`["set","word","abc"]`); err != nil {
		t.Fatal(err)
	}
	_, err = perform(`["incr","word"]`)
	if action.Classify(err) != action.KindFailed || !strings.Contains(err.Error(), "not an integer") {
		t.Errorf("incr on string: %v (%v)", err, action.Classify(err))
	}
	if _, err := perform(`["del","word"]`); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := st.CacheGet(ctx, "word"); found {
		t.Error("word still cached after del")
	}
	_, eff, err := p.PerformEffects(ctx, action.Request{Options: opts(t, `["setex","k",30,[1,2]]`)}, "key")
	if err != nil {
		t.Fatal(err)
	}
	if len(eff.Cache) != 1 || eff.Cache[0].TTL != 30*time.Second || string(eff.Cache[0].Value) != "[1,2]" {
		t.Errorf("effects = %+v", eff)
	}
	if err := reg.Validate(Type, opts(t, `["set"]`)); err == nil {
		t.Error("Validate accepted a bad command")
	}
}
