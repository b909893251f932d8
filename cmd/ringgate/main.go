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
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
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
  ringgate serve --config FILE [--http ADDR] [--db URL]
  ringgate apps create --name NAME [--callback-url URL] [--test-key]   (with --config FILE | --data DIR | --db URL)
  ringgate numbers add --app ID [--country CC|*] NUMBER...
  ringgate numbers list --app ID
  ringgate numbers remove --app ID NUMBER...
  ringgate migrate                                apply database migrations
  ringgate version

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
	case "version":
		fmt.Fprintln(stdout, "ringgate", version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "ringgate: unknown command %q\n\n%s", args[0], usage)
		return 2
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
