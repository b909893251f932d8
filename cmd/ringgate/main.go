// Command ringgate is a self-hosted phone-number verification service.
//
//	ringgate dev                      zero-config: SQLite, simulator, demo app
//	ringgate serve --config FILE      production
//	ringgate apps create …            admin commands against the database
//	ringgate numbers add|list|remove …
//	ringgate migrate
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ringgate/ringgate/internal/verify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

const usage = `ringgate — phone-number verification by missed call, flash call, voice and SMS

Usage:
  ringgate dev [--data DIR] [--http ADDR]        run with embedded defaults (SQLite, simulator, demo app)
              [--sip ADDR] [--sip-trunk URI]     missed calls in over SIP on ADDR; flash/answered calls out to URI
              [--rtp-ports RANGE]                with --sip-trunk: voice OTP over RTP on those ports
  ringgate serve --config FILE [--http ADDR] [--db URL]
  ringgate apps create --name NAME [--callback-url URL] [--test-key]   (with --config FILE | --data DIR | --db URL)
  ringgate apps list
  ringgate apps update --app ID [--name NAME] [--callback-url URL|""] [--settings FILE.json]
  ringgate apps rotate-secret --app ID [--overlap 24h]   old and new webhook secrets both sign during the overlap
  ringgate apps new-key --app ID [--scope verify|admin] [--test-key]
  ringgate apps compat-credentials --app ID [--vonage-public-key FILE]   rotate the Twilio/Vonage-style credentials (docs/compat.md)
  ringgate numbers add --app ID [--country CC|*] NUMBER...   --country: the callers' country the number serves
  ringgate numbers list --app ID
  ringgate numbers remove --app ID NUMBER...
  ringgate phones erase --app ID NUMBER           delete everything the app holds about a number (audited)
  ringgate migrate                                apply database migrations
  ringgate backup --out FILE                      SQLite: a consistent copy, safe while ringgate runs
  ringgate check-config --config FILE             validate a config and say what serve would start
  ringgate version                                version, commit and build date (also --version)
  ringgate healthcheck [--url URL]                exit 0 when /healthz answers 200 (container HEALTHCHECK)

Every command takes --help. Admin commands take --config FILE, --data DIR or --db URL.

Environment: RINGGATE_HTTP, RINGGATE_SECRET, RINGGATE_DATABASE_URL, … override the config file.
`

// run is main without the process: tests call it with their own arguments,
// output and environment.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "dev":
		err = cmdDev(ctx, args[1:], stdout, env)
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, env)
	case "apps":
		err = cmdApps(ctx, args[1:], stdout, env)
	case "numbers":
		err = cmdNumbers(ctx, args[1:], stdout, env)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, env)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionLine())
	case "backup":
		err = cmdBackup(ctx, args[1:], stdout, env)
	case "check-config":
		err = cmdCheckConfig(ctx, args[1:], stdout, env)
	case "phones":
		err = cmdPhones(ctx, args[1:], stdout, env)
	case "healthcheck":
		err = cmdHealthcheck(ctx, args[1:], stdout, env)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "ringgate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var help helpError
	if errors.As(err, &help) {
		help.print(stdout)
		return 0
	}
	var verr *verify.Error
	if errors.As(err, &verr) && verr.Field != "" && !strings.Contains(err.Error(), verr.Field) {
		err = fmt.Errorf("%s: %w", verr.Field, err) // say which setting or flag is at fault
	}
	if err != nil {
		fmt.Fprintln(stderr, "ringgate:", err)
		if isUsage(err) {
			return 2
		}
		return 1
	}
	return 0
}
