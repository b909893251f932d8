package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/operator"
	"github.com/ringgate/ringgate/internal/store/sqlite"
	"github.com/ringgate/ringgate/internal/verify"
)

// Set by the release build: go build -ldflags "-X main.buildVersion=v1.2.3
// -X main.buildCommit=… -X main.buildDate=…". Empty, they come from Go's
// build info (module version, vcs.revision, vcs.time), which `go install`
// and `go build` in a git checkout fill in too.
var buildVersion, buildCommit, buildDate string

// versionInfo is the version, commit and build date, "unknown" where
// neither -ldflags nor the build info says.
func versionInfo() (version, commit, date string) {
	version, commit, date = buildVersion, buildCommit, buildDate
	if bi, ok := debug.ReadBuildInfo(); ok {
		if version == "" && bi.Main.Version != "" {
			version = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if commit == "" {
					commit = s.Value
				}
			case "vcs.time":
				if date == "" {
					date = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && buildCommit == "" && commit != "" {
			commit += "-dirty"
		}
	}
	if version == "" {
		version = "(devel)"
	}
	if commit == "" {
		commit = "unknown"
	}
	if date == "" {
		date = "unknown"
	}
	return version, commit, date
}

func versionLine() string {
	v, c, d := versionInfo()
	return fmt.Sprintf("ringgate %s (commit %s, built %s, %s %s/%s)", v, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// helpError is -h/--help on a command: run prints the flags and exits 0.
type helpError struct{ fs *flag.FlagSet }

func (h helpError) Error() string { return h.fs.Name() + ": help requested" }

func (h helpError) print(w io.Writer) {
	fmt.Fprintf(w, "Usage: ringgate %s [flags]\n\nFlags:\n", h.fs.Name())
	h.fs.SetOutput(w)
	h.fs.PrintDefaults()
	h.fs.SetOutput(io.Discard)
}

// appsLifecycle is `apps list|update|rotate-secret|new-key`.
func appsLifecycle(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	sub := args[0]
	var app, name, callback, scope, settings *string
	var overlap *time.Duration
	var test *bool
	var set map[string]bool
	fs := func(fs *flag.FlagSet) {
		if sub != "list" {
			app = fs.String("app", "", "app `id`")
		}
		switch sub {
		case "update":
			name = fs.String("name", "", "new app `name`")
			callback = fs.String("callback-url", "", "new default callback `URL` (\"\" removes it: the app then polls)")
			settings = fs.String("settings", "", "JSON `FILE` of settings to change, as PATCH /v1/app takes them (sms_templates, dialplan_xml, …)")
		case "rotate-secret":
			overlap = fs.Duration("overlap", 24*time.Hour, "how long the old webhook secret keeps signing too (0: stop at once; at most 720h)")
		case "new-key":
			scope = fs.String("scope", "admin", "key scope: verify (start and check) or admin (everything)")
			test = fs.Bool("test-key", false, "issue a sandbox (rg_test_) key instead of a live one")
		}
	}
	switch sub {
	case "list", "update", "rotate-secret", "new-key":
	default:
		return usageError{fmt.Errorf("apps: unknown subcommand %q (create, list, update, rotate-secret, new-key)", sub)}
	}
	cfg, _, err := adminConfigSeen("apps "+sub, args[1:], config.ModeServe, env, fs, &set)
	if err != nil {
		return err
	}
	if sub != "list" && *app == "" {
		return usageError{fmt.Errorf("apps %s: --app is required", sub)}
	}
	// Admin commands act as the operator: audited under this actor.
	ctx = verify.WithActor(ctx, "cli")
	return withOperator(ctx, cfg, func(op *operator.Service) error {
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		defer tw.Flush()
		switch sub {
		case "list":
			apps, err := op.Apps(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintln(tw, "ID\tNAME\tCALLBACK URL\tCREATED")
			for _, a := range apps {
				cb := a.DefaultCallbackURL
				if cb == "" {
					cb = "(none: polls)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.ID, a.Name, cb, a.CreatedAt.Format("2006-01-02 15:04"))
			}
		case "update":
			var p verify.AppPatch
			if set["name"] {
				p.Name = name
			}
			if set["callback-url"] {
				p.DefaultCallbackURL = callback
			}
			if p.Name == nil && p.DefaultCallbackURL == nil && *settings == "" {
				return usageError{errors.New("apps update: give --name, --callback-url and/or --settings FILE")}
			}
			var a verify.App
			var err error
			if *settings != "" {
				b, err := os.ReadFile(*settings)
				if err != nil {
					return err
				}
				var sp verify.SettingsPatch
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&sp); err != nil {
					return fmt.Errorf("apps update: %s: %w", *settings, err)
				}
				if a, err = op.UpdateSettings(ctx, verify.LiveTenant(*app), sp); err != nil {
					return err
				}
			}
			if p.Name != nil || p.DefaultCallbackURL != nil {
				if a, err = op.UpdateApp(ctx, verify.LiveTenant(*app), p); err != nil {
					return err
				}
			}
			fmt.Fprintf(tw, "app\t%s\nname\t%s\ncallback url\t%s\n", a.ID, a.Name, a.DefaultCallbackURL)
		case "rotate-secret":
			r, err := op.RotateWebhookSecret(ctx, verify.LiveTenant(*app), *overlap)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "app\t%s\nwebhook secret\t%s\n", *app, r.Secret)
			if !r.PreviousUntil.IsZero() {
				fmt.Fprintf(tw, "old secret signs until\t%s\n", r.PreviousUntil.Format(time.RFC3339))
			}
		case "new-key":
			kind := verify.KeyLive
			if *test {
				kind = verify.KeyTest
			}
			if _, err := op.App(ctx, *app); err != nil {
				return err
			}
			k, secret, err := op.CreateKey(ctx, verify.LiveTenant(*app), verify.NewKeyRequest{Scope: verify.Scope(*scope), Kind: kind})
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "app\t%s\nkey id\t%s\nscope\t%s\napi key\t%s\n", *app, k.ID, k.Scope, secret)
			fmt.Fprintln(tw, "\nThe API key is shown only now; ringgate keeps only its hash.")
		}
		return nil
	})
}

// adminConfigSeen is adminConfig that also reports which flags were given,
// so that `--callback-url ""` (remove it) differs from leaving it out.
func adminConfigSeen(name string, args []string, mode config.Mode, env func(string) (string, bool), more func(*flag.FlagSet), set *map[string]bool) (config.Config, []string, error) {
	var fset *flag.FlagSet
	cfg, rest, err := adminConfig(name, args, mode, env, func(fs *flag.FlagSet) {
		fset = fs
		more(fs)
	})
	if err != nil {
		return cfg, rest, err
	}
	*set = map[string]bool{}
	fset.Visit(func(f *flag.Flag) { (*set)[f.Name] = true })
	return cfg, rest, nil
}

// cmdPhones is `phones erase --app ID NUMBER`.
func cmdPhones(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	if len(args) == 0 || args[0] != "erase" {
		return usageError{errors.New("phones: want `phones erase --app ID NUMBER`")}
	}
	var app *string
	cfg, nums, err := adminConfig("phones erase", args[1:], config.ModeServe, env, func(fs *flag.FlagSet) {
		app = fs.String("app", "", "app `id`")
	})
	if err != nil {
		return err
	}
	if *app == "" || len(nums) != 1 {
		return usageError{errors.New("phones erase: give --app ID and one number in E.164 (+…)")}
	}
	ctx = verify.WithActor(ctx, "cli")
	return withOperator(ctx, cfg, func(op *operator.Service) error {
		if _, err := op.App(ctx, *app); err != nil {
			return err
		}
		p, err := op.ErasePhone(ctx, verify.LiveTenant(*app), nums[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "erased %d verifications, %d events, %d jobs, %d webhook deliveries, %d calls\n",
			p.Verifications, p.Events, p.Jobs, p.Deliveries, p.Calls)
		return nil
	})
}

// cmdBackup writes a consistent copy of a SQLite database with VACUUM
// INTO, which reads one snapshot and so is safe while ringgate runs.
// PostgreSQL is backed up with pg_dump (docs/operating.md).
func cmdBackup(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	var dst *string
	cfg, _, err := adminConfig("backup", args, config.ModeServe, env, func(fs *flag.FlagSet) {
		dst = fs.String("out", "", "write the copy to `FILE` (must not exist)")
	})
	if err != nil {
		return err
	}
	if *dst == "" {
		return usageError{errors.New("backup: --out FILE is required")}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if strings.HasPrefix(cfg.Database.URL, "postgres") {
		return errors.New("backup: this is a PostgreSQL database; back it up with pg_dump (see docs/operating.md)")
	}
	src := strings.TrimPrefix(strings.TrimPrefix(cfg.Database.URL, "sqlite://"), "sqlite:")
	if err := sqlite.Backup(ctx, src, *dst); err != nil {
		return err
	}
	fi, err := os.Stat(*dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "backed up %s to %s (%d bytes)\n", src, *dst, fi.Size())
	return nil
}

// cmdCheckConfig loads and validates a config as serve would, opens
// nothing, and says what serve would start.
func cmdCheckConfig(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	cfg, _, err := adminConfig("check-config", args, config.ModeServe, env, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "config\tOK\n")
	fmt.Fprintf(tw, "http\tlistens on %s", cfg.HTTP)
	if cfg.PublicURL != "" {
		fmt.Fprintf(tw, ", public URL %s", cfg.PublicURL)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "database\t%s\n", redact(cfg.Database.URL))
	for _, c := range cfg.Carriers {
		fmt.Fprintf(tw, "carrier\t%s (%s)\n", c.Name, c.Type)
	}
	for _, r := range cfg.Routes {
		fmt.Fprintf(tw, "route\t%v\n", r.Carriers)
	}
	if cfg.Simulator.Enabled {
		fmt.Fprintf(tw, "simulator\ton\n")
	}
	if cfg.Retention.Period() > 0 {
		fmt.Fprintf(tw, "retention\tended verifications deleted after %s (%d days)\n", cfg.Retention.Period(), int(cfg.Retention.Period().Hours()/24))
	} else {
		fmt.Fprintf(tw, "retention\toff: data is kept forever\n")
	}
	fmt.Fprintf(tw, "logs\t%s, level %s\n", cfg.Log.Format, cfg.Log.Level)
	return tw.Flush()
}

func redact(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}

// cmdHealthcheck asks the running server's /healthz, for a container
// HEALTHCHECK in an image without a shell or curl. The address is
// RINGGATE_HTTP's (or the config's), a wildcard host asked on loopback.
func cmdHealthcheck(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	fs := newFlags("healthcheck")
	u := fs.String("url", "", "base `URL` to check (default: from RINGGATE_HTTP, else 127.0.0.1:8080)")
	if err := parse(fs, args); err != nil {
		return err
	}
	base := *u
	if base == "" {
		addr := config.Defaults(config.ModeServe).HTTP
		if v, ok := env("RINGGATE_HTTP"); ok && v != "" {
			addr = v
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("healthcheck: RINGGATE_HTTP %q is not host:port", addr)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s/healthz answered %s", base, resp.Status)
	}
	fmt.Fprintln(out, "ok")
	return nil
}
