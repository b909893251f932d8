package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ringgate/ringgate/internal/compat"
	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/verify"
)

type usageError struct{ error }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u) || errors.Is(err, flag.ErrHelp)
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by run
	return fs
}

// parse parses flags anywhere among the arguments (`numbers add +44… --app
// ID` works as well as flags first); the positional ones are left in
// fs.Args(). "--" ends the flags. -h/--help is a helpError: run prints the
// command's flags and exits 0.
func parse(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return helpError{fs}
			}
			return usageError{fmt.Errorf("%s: %w", fs.Name(), err)}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...) // after "--": all positional
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

func cmdDev(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	fs := newFlags("dev")
	data := fs.String("data", "", "data directory (default ./ringgate-data)")
	addr := fs.String("http", "", "HTTP listen address (default 127.0.0.1:8080)")
	sipAddr := fs.String("sip", "", "listen for SIP calls on `ADDR` (UDP and TCP, e.g. 127.0.0.1:5060); callers on loopback are trusted")
	sipTrunk := fs.String("sip-trunk", "", "place flash and answered calls through the SIP trunk `URI` (sip:host:port) instead of the simulator")
	rtpPorts := fs.String("rtp-ports", "", "with --sip-trunk: voice OTP over RTP on the port `RANGE` (e.g. 30000-30099), and answer_call judged by machine detection")
	file := fs.String("config", "", "YAML `FILE` read over dev mode's defaults (carriers, abuse limits, …)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(config.ModeDev, *file, env)
	if err != nil {
		return err
	}
	if *data != "" {
		cfg.DataDir = *data
	}
	if *addr != "" {
		cfg.HTTP = *addr
	}
	cfg.AddDevSIP(*sipAddr, *sipTrunk)
	cfg.AddDevMedia(*rtpPorts)
	return server.Run(ctx, cfg, out, server.Options{Env: env})
}

func cmdServe(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	cfg, _, err := adminConfig("serve", args, config.ModeServe, env, func(fs *flag.FlagSet) {})
	if err != nil {
		return err
	}
	return server.Run(ctx, cfg, out, server.Options{Env: env})
}

// adminConfig parses the flags every database-using command shares:
// --config FILE (serve), --data DIR (a dev data dir), --db URL, --http ADDR.
// It returns the positional arguments left after the flags.
func adminConfig(name string, args []string, mode config.Mode, env func(string) (string, bool), more func(*flag.FlagSet)) (config.Config, []string, error) {
	fs := newFlags(name)
	file := fs.String("config", "", "config file (YAML)")
	data := fs.String("data", "", "use the database of a `ringgate dev` data directory")
	db := fs.String("db", "", "database URL (overrides the config)")
	addr := fs.String("http", "", "HTTP listen address (overrides the config)")
	more(fs)
	if err := parse(fs, args); err != nil {
		return config.Config{}, nil, err
	}
	if *data != "" && *file == "" {
		mode = config.ModeDev // the dev data dir holds its own secret
	}
	cfg, err := config.Load(mode, *file, env)
	if err != nil {
		return config.Config{}, nil, err
	}
	if *data != "" {
		cfg.DataDir = *data
	}
	if *db != "" {
		cfg.Database.URL = *db
	}
	if *addr != "" {
		cfg.HTTP = *addr
	}
	if mode == config.ModeServe && *file == "" && cfg.Database.URL == "" {
		return config.Config{}, nil, usageError{errors.New(name + ": give --config FILE (or --db URL with RINGGATE_SECRET)")}
	}
	return cfg, fs.Args(), nil
}

// withOperator opens the configured database for an admin command.
func withOperator(ctx context.Context, cfg config.Config, fn func(*operator.Service) error) error {
	s, err := server.New(ctx, cfg, server.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s.Operator())
}

func cmdMigrate(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	cfg, _, err := adminConfig("migrate", args, config.ModeServe, env, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	// Opening the store applies pending migrations.
	return withOperator(ctx, cfg, func(*operator.Service) error {
		fmt.Fprintln(out, "database is up to date")
		return nil
	})
}

func cmdApps(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	if len(args) > 0 && args[0] == "compat-credentials" {
		return appsCompat(ctx, args[1:], out, env)
	}
	if len(args) > 0 && args[0] != "create" {
		return appsLifecycle(ctx, args, out, env)
	}
	if len(args) == 0 {
		return usageError{errors.New("apps: want create, list, update, rotate-secret, new-key or compat-credentials (each takes --help)")}
	}
	var name, callback *string
	var test *bool
	cfg, _, err := adminConfig("apps create", args[1:], config.ModeServe, env, func(fs *flag.FlagSet) {
		name = fs.String("name", "", "app name")
		callback = fs.String("callback-url", "", "default callback URL for verification results")
		test = fs.Bool("test-key", false, "issue a sandbox (rg_test_) key instead of a live one")
	})
	if err != nil {
		return err
	}
	kind := verify.KeyLive
	if *test {
		kind = verify.KeyTest
	}
	return withServer(ctx, cfg, func(s *server.Server) error {
		cr, err := s.Operator().CreateApp(ctx, verify.NewApp{Name: *name, DefaultCallbackURL: *callback, APIKeys: []string{verify.NewAPIKey(kind)}})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "app\t%s\nname\t%s\napi key\t%s\nwebhook secret\t%s\n", cr.App.ID, cr.App.Name, cr.APIKeys[0], cr.App.WebhookSecret)
		// The compatible APIs' credentials are made with the app
		// (docs/compat.md).
		if k := s.CompatKeeper(); k != nil {
			cc, err := k.Rotate(ctx, cr.App.ID, compat.Pins{})
			if err != nil {
				return err
			}
			printCompat(tw, cc)
		}
		fmt.Fprintln(tw, "\nThe API key and secrets are shown only now; ringgate keeps only their hashes.")
		return tw.Flush()
	})
}

func cmdNumbers(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	if len(args) == 0 {
		return usageError{errors.New("numbers: want add, list or remove")}
	}
	sub := args[0]
	var app, country *string
	cfg, nums, err := adminConfig("numbers "+sub, args[1:], config.ModeServe, env, func(fs *flag.FlagSet) {
		app = fs.String("app", "", "app id")
		country = fs.String("country", "", "the callers' country the number `serves` (ISO alpha-2), or * for every country (add; default: the number's own country)")
	})
	if err != nil {
		return err
	}
	if *app == "" {
		return usageError{fmt.Errorf("numbers %s: --app is required", sub)}
	}
	return withOperator(ctx, cfg, func(op *operator.Service) error {
		return numbers(ctx, op, sub, *app, *country, nums, out)
	})
}

func numbers(ctx context.Context, op *operator.Service, sub, app, country string, nums []string, out io.Writer) error {
	switch sub {
	case "add", "remove":
		if len(nums) == 0 {
			return usageError{fmt.Errorf("numbers %s: give one or more numbers in E.164 (+…)", sub)}
		}
		for _, n := range nums {
			if sub == "add" {
				num, err := op.AddNumber(ctx, app, n, country)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "added %s (serves %s) to %s\n", num.Number, num.Country, app)
				continue
			}
			if err := op.RemoveNumber(ctx, app, n); err != nil {
				return err
			}
			fmt.Fprintf(out, "removed %s from %s\n", n, app)
		}
		return nil
	case "list":
		ns, err := op.Numbers(ctx, app)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NUMBER\tCOUNTRY\tADDED")
		for _, n := range ns {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", n.Number, n.Country, n.CreatedAt.Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	}
	return usageError{fmt.Errorf("numbers: unknown subcommand %q (add, list, remove)", sub)}
}
