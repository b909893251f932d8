package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/httpapi"
	"github.com/ringgate/ringgate/internal/live"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/web"
)

// newWeb puts the widget, the demo page (dev mode) and the console in front
// of the API. The console's admin token is the config's, else in dev mode
// the one kept with the dev credentials; in serve mode without one the
// console stays off.
func newWeb(cfg config.Config, svc *verify.Service, op *operator.Service, api *httpapi.API, broker *live.Broker, dev DevInfo, log *slog.Logger) *web.Handler {
	token := cfg.Console.AdminToken
	if token == "" && cfg.Mode == config.ModeDev {
		token = dev.AdminToken
	}
	if token == "" {
		log.Info("the operator console is off: set console.admin_token (or RINGGATE_ADMIN_TOKEN) to turn it on")
	}
	prices := cfg.Prices
	return web.New(web.Config{
		Service: svc, Operator: op, API: api, Broker: broker, Dev: cfg.Mode == config.ModeDev, DemoAPIKey: dev.APIKey,
		AdminToken: token, Currency: prices.Currency, Logger: log,
		Price: func(ch verify.Channel, country string) float64 { return prices.Price(string(ch), country) },
	})
}

// AdminToken is the console's admin token ("" when the console is off).
func (s *Server) AdminToken() string {
	if s.cfg.Console.AdminToken != "" {
		return s.cfg.Console.AdminToken
	}
	if s.cfg.Mode == config.ModeDev {
		return s.dev.AdminToken
	}
	return ""
}

// newAdminToken makes a dev console token: 24 random bytes, hex.
func newAdminToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "rga_" + hex.EncodeToString(b)
}
