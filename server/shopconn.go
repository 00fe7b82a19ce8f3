package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sprocketrun/sprocket/internal/seal"
	"github.com/sprocketrun/sprocket/shopify"
	"github.com/sprocketrun/sprocket/store"
)

// ShopifyConfig connects the service to a shop from its environment
// (SPROCKET_SHOPIFY_*). A connection configured here cannot be changed
// through the API; without Shop, the connection is managed through
// /v1/shop/connection and the OAuth install.
type ShopifyConfig struct {
	// Shop is the shop's domain, name.myshopify.com (SPROCKET_SHOPIFY_SHOP).
	Shop string
	// AccessToken is an Admin API access token (SPROCKET_SHOPIFY_ACCESS_TOKEN).
	AccessToken string
	// ClientID and ClientSecret are the app's credentials
	// (SPROCKET_SHOPIFY_CLIENT_ID, SPROCKET_SHOPIFY_API_SECRET): without an
	// access token they are exchanged for one with the client-credentials
	// grant, refreshed before it expires.
	ClientID string
	// APISecret is the app's client secret, the key of Shopify's webhook
	// and OAuth HMAC signatures (SPROCKET_SHOPIFY_API_SECRET).
	APISecret string
	// BaseURL is where the Admin API is served (SPROCKET_SHOPIFY_BASE_URL;
	// default https://<shop>, http://127.0.0.1:PORT for the sandbox).
	BaseURL string
	// APIVersion is the default Admin API version (SPROCKET_SHOPIFY_API_VERSION).
	APIVersion string
	// PublicURL is the service's public base URL, for OAuth redirects
	// (SPROCKET_PUBLIC_URL; default the listen address over http).
	PublicURL string
	// CallLimit bounds the Shopify API calls of one task run (the shopify
	// filter and REST-backed Liquid objects); zero means DefaultShopifyCallLimit.
	CallLimit int
}

// DefaultShopifyCallLimit bounds the Shopify API calls one task run may make.
const DefaultShopifyCallLimit = 500

// Settings kinds and keys of the stored Shopify connection.
const (
	settingShopify        store.SettingKind = "shopify"
	settingShopifyOAuth   store.SettingKind = "shopify_oauth_state"
	shopifyConnectionKey                    = "connection"
	shopCacheTTL                            = time.Minute
	oauthStateTTL                           = 15 * time.Minute
	connectionSourceEnv                     = "environment"
	connectionSourceAPI                     = "api"
	authAccessToken                         = "access_token"
	authClientCredentials                   = "client_credentials"
	authOAuth                               = "oauth"
)

// storedConnection is the stored form of a connection; credentials are
// sealed with the installation's key.
type storedConnection struct {
	Shop         string    `json:"shop"`
	BaseURL      string    `json:"base_url,omitempty"`
	APIVersion   string    `json:"api_version,omitempty"`
	Auth         string    `json:"auth"`
	ClientID     string    `json:"client_id,omitempty"`
	Token        string    `json:"sealed_access_token,omitempty"`
	ClientSecret string    `json:"sealed_client_secret,omitempty"`
	Scopes       []string  `json:"scopes,omitempty"`
	ConnectedAt  time.Time `json:"connected_at"`
}

// connection is a live connection to one shop.
type connection struct {
	shop, baseURL, apiVersion, auth, source, clientID string
	apiSecret                                         string
	scopes                                            []string
	connectedAt                                       time.Time
	client                                            *shopify.Client
}

// shopConn holds the service's current shop connection. Every consumer
// (the shopify action, filter and Liquid objects, the throttle) asks it
// for the current client per call, so a connection made or removed
// through the API takes effect at once. It is safe for concurrent use.
type shopConn struct {
	st  store.Settings
	box *seal.Box
	env ShopifyConfig
	log *slog.Logger
	// newClient builds clients (tests may shorten timeouts).
	newClient func(shopify.Config) (*shopify.Client, error)

	mu    sync.RWMutex
	cur   *connection
	shopV struct {
		at    time.Time
		attrs json.RawMessage
	}
}

func newShopConn(st store.Settings, box *seal.Box, env ShopifyConfig, log *slog.Logger) *shopConn {
	return &shopConn{st: st, box: box, env: env, log: log, newClient: shopify.New}
}

// load connects from the environment when it names a shop, else from the
// stored connection, if any.
func (c *shopConn) load(ctx context.Context) error {
	if c.env.Shop != "" {
		conn, err := c.connect(ctx, connectRequest{
			Shop: c.env.Shop, AccessToken: c.env.AccessToken, ClientID: c.env.ClientID,
			ClientSecret: c.env.APISecret, BaseURL: c.env.BaseURL, APIVersion: c.env.APIVersion,
		})
		if err != nil {
			return fmt.Errorf("shopify connection from the environment: %w", err)
		}
		conn.source = connectionSourceEnv
		conn.apiSecret = c.env.APISecret
		c.set(conn)
		return nil
	}
	s, err := c.st.GetSetting(ctx, settingShopify, shopifyConnectionKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the shopify connection: %w", err)
	}
	var sc storedConnection
	if err := json.Unmarshal(s.Value, &sc); err != nil {
		return fmt.Errorf("read the shopify connection: %w", err)
	}
	req := connectRequest{Shop: sc.Shop, ClientID: sc.ClientID, BaseURL: sc.BaseURL, APIVersion: sc.APIVersion}
	if sc.Token != "" {
		b, err := c.box.Open(sc.Token, "shopify/connection/token")
		if err != nil {
			return fmt.Errorf("read the shopify connection: %w", err)
		}
		req.AccessToken = string(b)
	}
	if sc.ClientSecret != "" {
		b, err := c.box.Open(sc.ClientSecret, "shopify/connection/client_secret")
		if err != nil {
			return fmt.Errorf("read the shopify connection: %w", err)
		}
		req.ClientSecret = string(b)
	}
	conn, err := c.connect(ctx, req)
	if err != nil {
		return fmt.Errorf("shopify connection: %w", err)
	}
	conn.auth, conn.scopes, conn.connectedAt = sc.Auth, sc.Scopes, sc.ConnectedAt
	conn.source = connectionSourceAPI
	conn.apiSecret = req.ClientSecret
	c.set(conn)
	return nil
}

// connectRequest is what a connection is made from.
type connectRequest struct {
	Shop         string `json:"shop"`
	AccessToken  string `json:"access_token"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	BaseURL      string `json:"base_url"`
	APIVersion   string `json:"api_version"`
}

// connect builds a client for req without verifying it against the shop.
func (c *shopConn) connect(ctx context.Context, req connectRequest) (*connection, error) {
	req.Shop = strings.ToLower(strings.TrimSpace(req.Shop))
	if !shopify.ValidShopDomain(req.Shop) {
		return nil, errorf(422, "shop", "shop %q is not a shop domain of the form name.myshopify.com", req.Shop)
	}
	conn := &connection{shop: req.Shop, baseURL: req.BaseURL, apiVersion: req.APIVersion, clientID: req.ClientID, connectedAt: time.Now().UTC()}
	var tok shopify.TokenSource
	switch {
	case req.AccessToken != "":
		tok = shopify.StaticToken(req.AccessToken)
		conn.auth = authAccessToken
	case req.ClientID != "" && req.ClientSecret != "":
		base := req.BaseURL
		if base == "" {
			base = "https://" + req.Shop
		}
		cc, err := shopify.NewClientCredentials(shopify.ClientCredentialsConfig{
			BaseURL: base, ClientID: req.ClientID, ClientSecret: req.ClientSecret,
		})
		if err != nil {
			return nil, errorf(422, "client_id", "%v", err)
		}
		tok = cc
		conn.auth = authClientCredentials
	default:
		return nil, errorf(422, "access_token", "give an access_token, or a client_id and client_secret for the client-credentials grant")
	}
	cl, err := c.newClient(shopify.Config{Shop: req.Shop, BaseURL: req.BaseURL, APIVersion: req.APIVersion, Token: tok, Logger: c.log})
	if err != nil {
		return nil, errorf(422, "shop", "%v", err)
	}
	conn.client = cl
	conn.baseURL, conn.apiVersion = cl.BaseURL(), cl.APIVersion()
	return conn, nil
}

// verify asks the shop for its name and the scopes granted to the token.
func (c *shopConn) verify(ctx context.Context, conn *connection) error {
	resp, err := conn.client.GraphQL(ctx, shopify.GraphQLRequest{
		Query: `query SprocketConnection { shop { name myshopifyDomain } currentAppInstallation { accessScopes { handle } } }`,
	})
	if err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("shopify: %s", resp.Errors[0].Message)
	}
	var d struct {
		App *struct {
			AccessScopes []struct {
				Handle string `json:"handle"`
			} `json:"accessScopes"`
		} `json:"currentAppInstallation"`
	}
	if err := json.Unmarshal(resp.Data, &d); err != nil {
		return fmt.Errorf("shopify: connection check: %w", err)
	}
	if d.App != nil {
		conn.scopes = conn.scopes[:0]
		for _, s := range d.App.AccessScopes {
			conn.scopes = append(conn.scopes, s.Handle)
		}
	}
	return nil
}

// save stores conn (credentials sealed) and makes it current.
func (c *shopConn) save(ctx context.Context, conn *connection, req connectRequest) error {
	sc := storedConnection{
		Shop: conn.shop, BaseURL: req.BaseURL, APIVersion: req.APIVersion, Auth: conn.auth,
		ClientID: req.ClientID, Scopes: conn.scopes, ConnectedAt: conn.connectedAt,
	}
	if req.AccessToken != "" {
		sc.Token = c.box.Seal([]byte(req.AccessToken), "shopify/connection/token")
	}
	if req.ClientSecret != "" {
		sc.ClientSecret = c.box.Seal([]byte(req.ClientSecret), "shopify/connection/client_secret")
	}
	raw, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	if _, err := c.st.PutSetting(ctx, settingShopify, shopifyConnectionKey, raw); err != nil {
		return fmt.Errorf("store the shopify connection: %w", err)
	}
	conn.source = connectionSourceAPI
	conn.apiSecret = req.ClientSecret
	c.set(conn)
	return nil
}

// remove forgets the stored connection.
func (c *shopConn) remove(ctx context.Context) error {
	err := c.st.DeleteSetting(ctx, settingShopify, shopifyConnectionKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete the shopify connection: %w", err)
	}
	c.set(nil)
	return nil
}

func (c *shopConn) set(conn *connection) {
	c.mu.Lock()
	c.cur = conn
	c.shopV.attrs, c.shopV.at = nil, time.Time{}
	c.mu.Unlock()
}

// current returns the live connection, or nil.
func (c *shopConn) current() *connection {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cur
}

// Client returns the current shop's client, or shopify.ErrNotConnected.
func (c *shopConn) Client() (*shopify.Client, error) {
	if conn := c.current(); conn != nil {
		return conn.client, nil
	}
	return nil, shopify.ErrNotConnected
}

// GraphQL calls the current shop's GraphQL API.
func (c *shopConn) GraphQL(ctx context.Context, req shopify.GraphQLRequest) (*shopify.GraphQLResponse, error) {
	cl, err := c.Client()
	if err != nil {
		return nil, err
	}
	return cl.GraphQL(ctx, req)
}

// REST calls the current shop's REST API.
func (c *shopConn) REST(ctx context.Context, req shopify.RESTRequest) (*shopify.RESTResponse, error) {
	cl, err := c.Client()
	if err != nil {
		return nil, err
	}
	return cl.REST(ctx, req)
}

// Hold reports whether runs that call Shopify should wait for the rate
// limit to recover.
func (c *shopConn) Hold() bool {
	if conn := c.current(); conn != nil {
		return conn.client.Hold()
	}
	return false
}

// APISecret returns the app secret that signs webhooks and OAuth
// callbacks for shop ("" when unknown).
func (c *shopConn) APISecret(shop string) string {
	if conn := c.current(); conn != nil && strings.EqualFold(conn.shop, shop) {
		return conn.apiSecret
	}
	return ""
}

// ShopJSON returns the REST shop resource ({"shop": {...}}'s member), cached
// for a minute.
func (c *shopConn) ShopJSON(ctx context.Context) (json.RawMessage, error) {
	c.mu.RLock()
	attrs, at, conn := c.shopV.attrs, c.shopV.at, c.cur
	c.mu.RUnlock()
	if conn == nil {
		return nil, shopify.ErrNotConnected
	}
	if attrs != nil && time.Since(at) < shopCacheTTL {
		return attrs, nil
	}
	resp, err := conn.client.REST(ctx, shopify.RESTRequest{Method: "GET", Path: "shop.json"})
	if err != nil {
		return nil, err
	}
	var body struct {
		Shop json.RawMessage `json:"shop"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil || len(body.Shop) == 0 {
		return nil, fmt.Errorf("shopify: shop.json: unexpected answer %.200s", resp.Body)
	}
	c.mu.Lock()
	if c.cur == conn {
		c.shopV.attrs, c.shopV.at = body.Shop, time.Now()
	}
	c.mu.Unlock()
	return body.Shop, nil
}

// describe is the API form of the connection (never a credential).
func (c *shopConn) describe() map[string]any {
	conn := c.current()
	if conn == nil {
		return map[string]any{"connected": false}
	}
	scopes := conn.scopes
	if scopes == nil {
		scopes = []string{}
	}
	return map[string]any{
		"connected":      true,
		"shop":           conn.shop,
		"base_url":       conn.baseURL,
		"api_version":    conn.apiVersion,
		"auth":           conn.auth,
		"source":         conn.source,
		"client_id":      conn.clientID,
		"scopes":         scopes,
		"has_api_secret": conn.apiSecret != "",
		"connected_at":   conn.connectedAt.Format(time.RFC3339),
	}
}
