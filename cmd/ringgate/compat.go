package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/ringgate/ringgate/internal/compat"
	covonage "github.com/ringgate/ringgate/internal/compat/vonage"
	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
)

// withServer opens the configured database for an admin command that needs
// more than the verification service.
func withServer(ctx context.Context, cfg config.Config, fn func(*server.Server) error) error {
	s, err := server.New(ctx, cfg, server.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// printCompat shows an app's compat credentials as created or rotated.
func printCompat(tw *tabwriter.Writer, c compat.Credentials) {
	fmt.Fprintf(tw, "twilio account sid\t%s\ntwilio auth token\t%s\ntwilio api key\t%s\ntwilio api key secret\t%s\n",
		c.TwilioAccountSID, c.TwilioAuthToken, c.TwilioKeySID, c.TwilioKeySecret)
	fmt.Fprintf(tw, "vonage api key\t%s\nvonage api secret\t%s\nvonage application id\t%s\nvonage signature secret\t%s\n",
		c.VonageAPIKey, c.VonageAPISecret, c.VonageAppID, c.VonageSignatureSecret)
}

// appsCompat is `ringgate apps compat-credentials`: rotate an app's Twilio-
// and Vonage-style credentials (docs/compat.md), or install the public key
// its Vonage application JWTs are checked with.
func appsCompat(ctx context.Context, args []string, out io.Writer, env func(string) (string, bool)) error {
	var app, pubFile *string
	cfg, _, err := adminConfig("apps compat-credentials", args, config.ModeServe, env, func(fs *flag.FlagSet) {
		app = fs.String("app", "", "app `id`")
		pubFile = fs.String("vonage-public-key", "", "install this PEM `FILE` as the public key of the app's Vonage application JWTs, instead of rotating")
	})
	if err != nil {
		return err
	}
	if *app == "" {
		return usageError{errors.New("apps compat-credentials: --app is required")}
	}
	return withServer(ctx, cfg, func(s *server.Server) error {
		k := s.CompatKeeper()
		if k == nil {
			return errors.New("this database has no compat tables")
		}
		if _, err := s.Operator().App(ctx, *app); err != nil {
			return err
		}
		if *pubFile != "" {
			b, err := os.ReadFile(*pubFile)
			if err != nil {
				return err
			}
			if _, err := covonage.ParsePublicKey(string(b)); err != nil {
				return fmt.Errorf("%s: want a PEM RSA public key of 2048 bits or more: %w", *pubFile, err)
			}
			if err := k.SetVonagePublicKey(ctx, *app, string(b)); err != nil {
				return fmt.Errorf("install the Vonage public key (rotate once first if the app has no compat credentials): %w", err)
			}
			fmt.Fprintln(out, "Vonage public key installed")
			return nil
		}
		c, err := k.Rotate(ctx, *app, compat.Pins{})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		printCompat(tw, c)
		fmt.Fprintln(tw, "\nThe secrets are shown only now; ringgate keeps only their hashes. The old ones stopped working.")
		return tw.Flush()
	})
}
