package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/sprocketrun/sprocket/action"
	"github.com/sprocketrun/sprocket/action/cache"
	"github.com/sprocketrun/sprocket/action/echo"
	actionemail "github.com/sprocketrun/sprocket/action/email"
	"github.com/sprocketrun/sprocket/action/event"
	"github.com/sprocketrun/sprocket/action/filegen"
	"github.com/sprocketrun/sprocket/action/files"
	"github.com/sprocketrun/sprocket/action/ftp"
	actionhttp "github.com/sprocketrun/sprocket/action/http"
	shopifyaction "github.com/sprocketrun/sprocket/action/shopify"
	"github.com/sprocketrun/sprocket/dialect"
	"github.com/sprocketrun/sprocket/internal/netpolicy"
	"github.com/sprocketrun/sprocket/liquid/value"
	"github.com/sprocketrun/sprocket/pipeline"
	"github.com/sprocketrun/sprocket/run"
	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/shopify/objects"
	"github.com/sprocketrun/sprocket/store"
	"github.com/sprocketrun/sprocket/task"
)

// PipelineOptions tunes the standard pipeline.
type PipelineOptions struct {
	// Workers is how many runs are performed at once (pipeline default when zero).
	Workers int
	// Lease is how long a claimed run stays leased without a heartbeat
	// (pipeline default when zero); after a crash, runs in progress are
	// retaken once it expires.
	Lease time.Duration
	// Location is the shop's time zone (UTC when nil).
	Location *time.Location
	// Network is the outbound network policy of task-controlled
	// connections (http and ftp actions, the url file generator): nil
	// refuses loopback, private and other internal ranges; netpolicy.New
	// with prefixes opens those (--allow-network).
	Network *netpolicy.Policy
	// BlockPrivateNetworks is deprecated and ignored: internal addresses
	// are refused by default (see Network).
	BlockPrivateNetworks bool
	// Retention is passed to the pipeline; the service prunes on its own,
	// so the default here is negative (no pipeline pruning).
	Retention time.Duration
	// ErrorEvents enables mechanic/errors/* events for failed runs.
	ErrorEvents bool
	// ShopifyCallLimit bounds the Shopify API calls of one task run
	// (DefaultShopifyCallLimit when zero).
	ShopifyCallLimit int
	// MaxChildEventsPerMinute is the pipeline's event-rate guard (zero:
	// the pipeline default; negative disables).
	MaxChildEventsPerMinute int
	// MaxEventGenerations bounds the depth of event chains (zero: the
	// pipeline default; negative: no bound).
	MaxEventGenerations int
	// ShopConcurrency is the shop's run queue size (Mechanic's concurrency
	// limit): the most runs performed at once, shared by every node on
	// one database; zero means the workers' count per node.
	ShopConcurrency int
	// TaskConcurrency is the most runs of one task (task runs and the
	// action runs it emitted) a node performs at once, so that one busy
	// task cannot take every worker: zero means the pipeline default (a
	// quarter of the node's concurrency, at least 1), negative no limit.
	// It is counted per node, not across a database's nodes.
	TaskConcurrency int
	// Email configures the email action (relay, sender); its templates
	// come from the store and its attachments from the http action's file
	// generators unless set. Without a relay, email actions fail saying so.
	Email actionemail.Config
	// PublicURL is the service's public base URL (e.g.
	// "https://sprocket.example.com"), the prefix of the URLs of files
	// made by files actions; empty leaves those URLs relative.
	PublicURL string
	// PDF renders the pdf file generator (e.g. a *chromium.Renderer); nil
	// makes pdf generators fail with a clear error.
	PDF filegen.PDFRenderer
	// Integrations overrides the integration actions' API base URLs.
	Integrations IntegrationEndpoints
	// MemoryLimit is the process's memory ceiling in bytes (sprocket serve
	// --memory-limit): task runs rendering at once reserve their memory
	// budgets from run.GateCapacity of it, and wait while it is taken.
	// Zero means no gate (each run is still held to its own budget).
	MemoryLimit int64
}

// StandardPipeline returns the factory of Sprocket's run pipeline: task
// runs rendered by package run with Mechanic's Liquid dialect and the
// cache variable read from the store, and the action types http, echo,
// cache, event, shopify, email, files and ftp, the last four sharing one set
// of file generators.
func StandardPipeline(o PipelineOptions) PipelineFactory {
	return func(d PipelineDeps) (Pipeline, error) {
		st, log := d.Store, d.Logger
		if log == nil {
			log = slog.Default()
		}
		vault := d.Vault
		if vault == nil {
			vault = NewVault(st, nil)
		}
		loc := o.Location
		if loc == nil {
			loc = time.UTC
		}
		shop := d.Shopify
		if shop == nil {
			shop = noShop{}
		}
		reg := action.NewRegistry()
		// The http performer downloads for the url generator, under the same
		// network policy as http actions.
		gens := &filegen.Generators{PDF: o.PDF}
		httpPerf := actionhttp.New(actionhttp.Config{Network: o.Network, Logger: log, Files: gens.For(actionhttp.Type, "files"),
			OAuth: d.oauthTokens(), Transport: o.Integrations.HTTPTransport})
		gens.Fetcher = httpPerf
		emailCfg := o.Email
		if emailCfg.Logger == nil {
			emailCfg.Logger = log
		}
		emailAction, err := newEmailAction(emailCfg, st, gens.For("email", "attachments"))
		if err != nil {
			return nil, err
		}
		performers := map[string]action.Performer{
			"http":           httpPerf,
			"echo":           echo.New(),
			"cache":          cache.New(st),
			"event":          event.New(st, loc),
			"shopify":        shopifyPerformer(shop, d.bulk, log),
			"email":          emailAction,
			"ftp":            ftp.New(ftp.Config{Generators: gens, Network: o.Network, Logger: log}),
			"slack":          slackPerformer(o, d),
			"airtable":       airtablePerformer(o, d),
			"google":         googlePerformer(o, d),
			"google_sheets":  googleSheetsPerformer(o, d),
			"google_drive":   googleDrivePerformer(o, d, gens.For("google_drive", "files")),
			"flow":           flowPerformer(o, shop),
			"report_toaster": reportToasterPerformer(d),
		}
		if d.Files != nil {
			fp, err := files.New(files.Config{Store: d.Files, Generators: gens, BaseURL: o.PublicURL, Logger: log})
			if err != nil {
				return nil, fmt.Errorf("files action: %w", err)
			}
			performers["files"] = fp
		}
		for name, p := range performers {
			if err := reg.Register(name, p); err != nil {
				return nil, fmt.Errorf("register %s action: %w", name, err)
			}
		}
		retention := o.Retention
		if retention == 0 {
			retention = -1
		}
		renderer := newTaskRenderer(st, vault, loc, log, shop, o.ShopifyCallLimit)
		var gate pipeline.RenderGate
		if o.MemoryLimit > 0 {
			g := run.NewMemoryGate(run.GateCapacity(o.MemoryLimit), renderer.base.Limits)
			renderer.base.Gate, gate = g, g
			log.Info("render memory", "ceiling_bytes", o.MemoryLimit, "render_capacity_bytes", g.Capacity(),
				"run_budget_bytes", g.Budget(""), "concurrent_renders", g.Concurrency(""),
				"bulk_operation_budget_bytes", g.Budget(pipeline.TopicBulkOperation))
		}
		p, err := pipeline.New(pipeline.Config{
			Node:       d.Node,
			Store:      st,
			Renderer:   renderer,
			RenderGate: gate,
			Throttle:   shopifyThrottle{api: shop},
			Actions:    reg,
			Secrets:    vault,
			EventFilter: &pipeline.SettingsEventFilters{
				Settings: vault,
				Engine:   dialect.NewEngine(dialect.Options{}),
				Cache:    pipeline.StoreCache(st),
			},
			Workers:     o.Workers,
			Lease:       o.Lease,
			Location:    loc,
			Retention:   retention,
			ErrorEvents: o.ErrorEvents,
			Logger:      log,
			Pauser:      pauserFor(st),

			MaxChildEventsPerMinute: o.MaxChildEventsPerMinute,
			MaxEventGenerations:     o.MaxEventGenerations,
			ShopConcurrency:         o.ShopConcurrency,
			TaskConcurrency:         o.TaskConcurrency,
			ConcurrencyShare:        concurrencyShare(d.share, o.ShopConcurrency),
			Tracer:                  d.Tracer,
		})
		if err != nil {
			return nil, fmt.Errorf("build pipeline: %w", err)
		}
		return p, nil
	}
}

// shopAttributes supplies the shop variable's attributes: the connected
// shop's (cached for a minute by the connection, shared by runs), or
// without a connection the stand-in shop's, whose collections then fail
// as not connected.
type shopAttributes struct {
	api     ShopifyAPI
	standIn *value.Map
}

// Attributes implements objects.ShopSource.
func (a shopAttributes) Attributes(ctx context.Context, _ func(ctx context.Context) (*value.Map, error)) (*value.Map, error) {
	return liveShop(ctx, a.api, a.standIn)
}

// shopifyPerformer is the shopify action on the shop connection, tracking
// the bulk operations it starts when bulk is set.
func shopifyPerformer(shop ShopifyAPI, bulk *bulkOps, log *slog.Logger) action.Performer {
	p := shopifyaction.New(shopifyaction.Config{Client: shop, IsTransient: shopify.IsTransient, Logger: log})
	if bulk == nil {
		return p
	}
	return bulkTracking{Performer: p, ops: bulk}
}

// concurrencyShare is the pipeline's share of the shop's run queue size
// when nodes share a database (nil otherwise).
func concurrencyShare(share *sharedThrottle, total int) func() int {
	if share == nil || total <= 0 {
		return nil
	}
	return share.concurrencyShare(total)
}

// noShop is the Shopify API of a service that has no connection.
type noShop struct{}

func (noShop) GraphQL(context.Context, shopify.GraphQLRequest) (*shopify.GraphQLResponse, error) {
	return nil, shopify.ErrNotConnected
}

func (noShop) REST(context.Context, shopify.RESTRequest) (*shopify.RESTResponse, error) {
	return nil, shopify.ErrNotConnected
}

func (noShop) Hold() bool { return false }

func (noShop) ShopJSON(context.Context) (json.RawMessage, error) { return nil, shopify.ErrNotConnected }

// taskRenderer adapts run.Renderer to pipeline.TaskRenderer.
type taskRenderer struct {
	base      run.Renderer
	vault     *Vault
	loc       *time.Location
	shop      ShopifyAPI
	callLimit int
}

// NewTaskRenderer returns the pipeline's task renderer: package run with
// Mechanic's dialect, reading the cache variable from st and the globals
// and secrets variables from vault (which also backs global and secret
// options and the signing filters). The shop variable is run's stand-in
// shop in the time zone loc (UTC when nil), so Liquid dates use the
// service's time zone.
func NewTaskRenderer(st store.Cache, vault *Vault, loc *time.Location, log *slog.Logger) pipeline.TaskRenderer {
	return newTaskRenderer(st, vault, loc, log, noShop{}, 0)
}

// newTaskRenderer is NewTaskRenderer with live Shopify reads through shop
// (the shopify filter, at most callLimit calls a run, and the shop variable).
func newTaskRenderer(st store.Cache, vault *Vault, loc *time.Location, log *slog.Logger, shop ShopifyAPI, callLimit int) taskRenderer {
	if loc == nil {
		loc = time.UTC
	}
	if callLimit <= 0 {
		callLimit = DefaultShopifyCallLimit
	}
	return taskRenderer{vault: vault, loc: loc, shop: shop, callLimit: callLimit, base: run.Renderer{
		Engine:       dialect.NewEngine(dialect.Options{}),
		Templates:    run.NewTemplateCache(512),
		Cache:        pipeline.StoreCache(st),
		SecretSource: vault,
		Logger:       log,
	}}
}

// selectedOptions maps the stored values of global and secret options
// (the chosen global's or secret's key) to what a run sees: the global's
// value, or the secret's reference (nil when it does not exist).
func selectedOptions(t *task.Task, globals, secrets map[string]any) *value.Map {
	var out *value.Map
	if t.Options == nil {
		return nil
	}
	t.Options.Each(func(k string, v any) bool {
		key, err := task.ParseOptionKey(k)
		if err != nil {
			return true
		}
		name, _ := v.(string)
		var mapped any
		switch key.Kind() {
		case task.KindGlobal:
			mapped = globals[name]
		case task.KindSecret:
			mapped = secrets[name]
		default:
			return true
		}
		if out == nil {
			out = value.NewMap(2)
		}
		out.Set(k, mapped)
		return true
	})
	return out
}

// shopIn returns run's stand-in shop variable with its time zone set to loc.
func shopIn(loc *time.Location) *value.Map {
	shop := run.PreviewShop()
	_, off := time.Now().In(loc).Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	shop.Set("iana_timezone", loc.String())
	shop.Set("timezone", fmt.Sprintf("(GMT%c%02d:%02d) %s", sign, off/3600, off%3600/60, loc.String()))
	return shop
}

func runEvent(e store.Event) (*run.Event, error) {
	var data any
	if len(e.Data) > 0 {
		v, err := value.FromJSON(e.Data)
		if err != nil {
			return nil, fmt.Errorf("event %s data: %w", e.ID, err)
		}
		data = v
	}
	return &run.Event{
		ID: e.ID, Topic: e.Topic, Data: data, Source: e.Source,
		ShopifyTopic: e.ShopifyTopic, CreatedAt: e.CreatedAt,
	}, nil
}

// RenderTask implements pipeline.TaskRenderer.
func (t taskRenderer) RenderTask(ctx context.Context, in pipeline.TaskRunInput) (pipeline.TaskRunOutput, error) {
	ev, err := runEvent(in.Event)
	if err != nil {
		return pipeline.TaskRunOutput{}, err
	}
	cur := ev
	for _, p := range in.Parents {
		pe, err := runEvent(p)
		if err != nil {
			return pipeline.TaskRunOutput{}, err
		}
		cur.Parent = pe
		cur = pe
	}
	r := t.base
	r.Shop = shopIn(t.loc)
	if t.shop != nil {
		budget := objects.NewCallBudget(t.callLimit)
		r.GraphQL = runGraphQL{api: t.shop, version: in.Task.ShopifyAPIVersion, budget: budget}
		r.Objects = func(ctx context.Context, version string) run.LiveObjects {
			return objects.NewSession(ctx, objects.Config{
				Client: t.shop, APIVersion: version, Budget: budget,
				Shop: shopAttributes{api: t.shop, standIn: shopIn(t.loc)},
			})
		}
	}
	var selected *value.Map
	if t.vault != nil {
		globals, secrets, err := t.vault.variables(ctx)
		if err != nil {
			return pipeline.TaskRunOutput{}, pipeline.Transient(err)
		}
		r.Globals, r.Secrets = globals, secrets
		selected = selectedOptions(in.Task, globals, secrets)
	}
	res, err := r.Run(ctx, run.Input{
		Task: in.Task, TaskID: in.TaskID, TaskCreatedAt: in.TaskCreatedAt, Event: ev, Options: selected,
	})
	var out pipeline.TaskRunOutput
	if res != nil {
		out.Text = res.Text
		if res.Output != nil {
			out.Actions, out.Logs, out.Errors = res.Output.Actions, res.Output.Logs, res.Output.Errors
		}
	}
	if err != nil {
		return out, fmt.Errorf("render task: %w", err)
	}
	return out, nil
}

// runPreviewer previews tasks with package run.
type runPreviewer struct {
	base run.Renderer
	// vault and loc are set by the service that uses the previewer.
	vault *Vault
	loc   *time.Location
}

// NewPreviewer returns the previewer of POST /v1/tasks/preview (package
// run's preview: no Shopify API, no cache, no side effects). Used by a
// Service, previews also see the shop's globals, its secrets as references
// (never their values) and the shop in the service's time zone.
func NewPreviewer() Previewer {
	return &runPreviewer{base: run.Renderer{Engine: dialect.NewEngine(dialect.Options{})}}
}

// attach gives the previewer the service's globals, secrets and time zone.
func (p *runPreviewer) attach(v *Vault, loc *time.Location) {
	p.vault, p.loc = v, loc
}

// Preview implements Previewer.
func (p *runPreviewer) Preview(ctx context.Context, t *task.Task) (any, error) {
	r := p.base
	if p.loc != nil {
		r.Shop = shopIn(p.loc)
	}
	in := run.PreviewInput{Task: t}
	if p.vault != nil {
		globals, secrets, err := p.vault.variables(ctx)
		if err != nil {
			return nil, err
		}
		r.Globals, r.Secrets = globals, secrets
		in.Options = selectedOptions(t, globals, secrets)
	}
	pv, err := r.Preview(ctx, in)
	if err != nil {
		return nil, err
	}
	runs := make([]any, 0, len(pv.Runs))
	for _, r := range pv.Runs {
		runs = append(runs, previewRunOut(r))
	}
	return map[string]any{
		"subscriptions":   pv.Subscriptions,
		"sampled_options": pv.SampledOptions,
		"runs":            runs,
		"ok":              len(pv.Failed()) == 0,
	}, nil
}

// previewRunOut is the API form of one preview run.
func previewRunOut(r run.PreviewRun) *value.Map {
	m := value.NewMap(8)
	m.Set("description", r.Description)
	if r.Event != nil {
		ev := value.NewMap(2)
		ev.Set("topic", r.Event.Topic)
		ev.Set("data", r.Event.Data)
		m.Set("event", ev)
	}
	actions, logs, errs := []any{}, []any{}, []any{}
	permissions := []any{}
	if r.Result != nil {
		if o := r.Result.Output; o != nil {
			for _, a := range o.Actions {
				am := value.NewMap(3)
				am.Set("type", a.Type)
				am.Set("options", a.Options)
				if a.Meta != nil {
					am.Set("meta", a.Meta)
				}
				actions = append(actions, am)
			}
			logs = append(logs, o.Logs...)
			errs = append(errs, o.Errors...)
		}
		for _, p := range r.Result.Permissions {
			permissions = append(permissions, p)
		}
	}
	m.Set("actions", actions)
	m.Set("logs", logs)
	m.Set("errors", errs)
	m.Set("permissions", permissions)
	if r.Err != nil {
		m.Set("error", r.Err.Error())
	} else {
		m.Set("error", nil)
	}
	return m
}
