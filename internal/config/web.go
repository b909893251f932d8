package config

import (
	"errors"
	"fmt"
	"sort"
)

// Console configures the operator console at /console.
type Console struct {
	// AdminToken is the bearer token the console asks for. Empty in serve
	// mode: the console is off. Dev mode makes one up and prints it.
	AdminToken string `yaml:"admin_token"`
}

// Prices are what one attempt on each channel costs, for the console's
// "cost per verified user" chart. They are examples until the operator
// sets their carrier's real prices.
type Prices struct {
	Currency string `yaml:"currency"`
	// PerChannel is the cost of one attempt by channel (missed_call,
	// flash_call, answer_call, voice_otp, sms_otp).
	PerChannel map[string]float64 `yaml:"per_channel"`
	// Country overrides PerChannel for verifications of one ISO region.
	Country map[string]map[string]float64 `yaml:"country"`
}

// MinAdminToken is the shortest admin token accepted: it guards the console.
const MinAdminToken = 16

// DefaultPrices are example prices, in USD per attempt, of the order carriers
// charge: an inbound call rejected before answer is free to the user and
// usually to the operator (pool numbers cost a monthly rent, not counted
// here); a flash call is a short unanswered outbound call; an answered call
// and a voice OTP are billed minutes; an SMS is billed per message.
func DefaultPrices() Prices {
	return Prices{Currency: "USD", PerChannel: map[string]float64{
		"missed_call": 0, "flash_call": 0.003, "answer_call": 0.01, "voice_otp": 0.02, "sms_otp": 0.05,
	}}
}

var priceChannels = map[string]bool{"missed_call": true, "flash_call": true, "answer_call": true, "voice_otp": true, "sms_otp": true}

// Price is what one attempt on channel costs in country.
func (p Prices) Price(channel, country string) float64 {
	if c, ok := p.Country[country]; ok {
		if v, ok := c[channel]; ok {
			return v
		}
	}
	return p.PerChannel[channel]
}

func (c *Config) validateWeb() []error {
	var errs []error
	if t := c.Console.AdminToken; t != "" && len(t) < MinAdminToken {
		errs = append(errs, fmt.Errorf("console.admin_token: at least %d characters (for example `openssl rand -hex 24`)", MinAdminToken))
	}
	check := func(where string, m map[string]float64) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, ch := range keys {
			if !priceChannels[ch] {
				errs = append(errs, fmt.Errorf("%s: %q is not a channel (missed_call, flash_call, answer_call, voice_otp, sms_otp)", where, ch))
			} else if v := m[ch]; v < 0 || v != v {
				errs = append(errs, fmt.Errorf("%s.%s: a price cannot be negative", where, ch))
			}
		}
	}
	check("prices.per_channel", c.Prices.PerChannel)
	for cc, m := range c.Prices.Country {
		if len(cc) != 2 {
			errs = append(errs, fmt.Errorf("prices.country: %q is not an ISO region code such as GB", cc))
		}
		check("prices.country."+cc, m)
	}
	if c.Prices.Currency == "" {
		errs = append(errs, errors.New("prices.currency is required (for example USD)"))
	}
	return errs
}
