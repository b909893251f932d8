// Command rgbench prints ringgate's load figures for `make bench`: starts
// per second and their latency on SQLite, a start followed by its verifying
// call, and webhook deliveries per second, each next to a bare net/http
// JSON handler measured by the same load generator in the same run. The
// load generator shares the machine's cores with the server, as noted in
// the output; the ratio is the figure to compare across machines.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/ringgate/ringgate/internal/bench"
	"github.com/ringgate/ringgate/internal/config"
	"github.com/ringgate/ringgate/internal/server"
	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
	"github.com/ringgate/ringgate/internal/verify"
	"github.com/ringgate/ringgate/internal/webhook"
)

const key = "rg_live_bench0000000000000000000000"

func main() {
	n := flag.Int("n", 3000, "requests per run")
	workers := flag.Int("c", 16, "concurrent clients")
	hooks := flag.Int("hooks", 2000, "webhook deliveries to time")
	pgURL := flag.String("pg", pgtest.BaseURL(), "PostgreSQL server for the 1- and 3-node runs (a schema of their own is made and dropped); \"\" to skip")
	pgN := flag.Int("pg-n", 1500, "start+call pairs per PostgreSQL run")
	pgLimit := flag.Duration("pg-time", 15*time.Second, "longest each PostgreSQL run lasts (requests cut off by it count as errors)")
	hookProfile := flag.String("hooks-cpuprofile", "", "write a CPU profile of the webhook dispatcher's run to this file")
	flag.Parse()
	ctx := context.Background()
	limit := 60 * time.Second

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers}}
	base := bareServer()
	srv := ringgate(ctx)
	defer srv.Close()
	receiver, received := countingReceiver()

	fmt.Printf("rgbench: %d requests per run, %d clients, GOMAXPROCS=%d on %d CPUs; load generator and server share them\n\n",
		*n, *workers, runtime.GOMAXPROCS(0), runtime.NumCPU())

	baseline := bench.Load(ctx, "baseline: bare net/http JSON handler", *n, *workers, limit, func(ctx context.Context, i int) error {
		return post(ctx, client, base+"/echo", startBody(i, receiver), http.StatusCreated)
	})
	fmt.Println(baseline)

	starts := bench.Load(ctx, "ringgate: POST /v1/verifications", *n, *workers, limit, func(ctx context.Context, i int) error {
		return post(ctx, client, srv.URL()+"/v1/verifications", startBody(i, receiver), http.StatusCreated)
	})
	fmt.Println(starts)

	verified := bench.Load(ctx, "ringgate: start + verifying call", *n, *workers, limit, func(ctx context.Context, i int) error {
		var v struct {
			DialNumber string `json:"dial_number"`
		}
		i += *n // new phones
		if err := postDecode(ctx, client, srv.URL()+"/v1/verifications", startBody(i, receiver), http.StatusCreated, &v); err != nil {
			return err
		}
		call := fmt.Sprintf(`{"from":%q,"to":%q}`, phoneOf(i), v.DialNumber)
		return post(ctx, client, srv.URL()+"/sim/calls", []byte(call), http.StatusOK)
	})
	fmt.Println(verified)

	// An SMS OTP end to end: start, the job runner sends the text through
	// the router to the simulated phone, the "user" reads it and the check
	// verifies. Its latency is what a user waits between asking for a code
	// and being verified, less their typing.
	otp := bench.Load(ctx, "ringgate: SMS OTP start + text + check", *n, *workers, limit, func(ctx context.Context, i int) error {
		i += 2 * *n
		return smsRoundTrip(ctx, client, srv.URL(), phoneOf(i), receiver)
	})
	fmt.Println(otp)

	fmt.Printf("\nratio to baseline (throughput): starts %.2f, start+call %.2f (the pair is two requests), SMS OTP %.2f (three requests and a job)\n",
		starts.PerSecond()/baseline.PerSecond(), verified.PerSecond()/baseline.PerSecond(), otp.PerSecond()/baseline.PerSecond())
	fmt.Printf("ratio to baseline (p99 latency): starts %.1fx, start+call %.1fx, SMS OTP %.1fx\n\n",
		float64(starts.P99)/float64(baseline.P99), float64(verified.P99)/float64(baseline.P99), float64(otp.P99)/float64(baseline.P99))

	if *pgURL != "" {
		postgresRuns(ctx, *pgURL, *pgN, *workers, *pgLimit, client, receiver, baseline, verified)
	}

	srv.Close()
	received.Store(0)
	if *hookProfile != "" {
		f, err := os.Create(*hookProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	rate, took := dispatch(ctx, *hooks, receiver, received)
	if *hookProfile != "" {
		pprof.StopCPUProfile()
	}
	raw := bench.Load(ctx, "baseline: bare POSTs to the same receiver", *hooks, 8, limit, func(ctx context.Context, i int) error {
		return post(ctx, client, receiver, []byte(`{"type":"x"}`), http.StatusNoContent)
	})
	fmt.Printf("webhook dispatcher (SQLite outbox, 8 workers): %d deliveries in %v = %.0f/s\n", *hooks, took.Round(time.Millisecond), rate)
	fmt.Println(raw)
	fmt.Printf("ratio to bare POSTs: %.2f\n", rate/raw.PerSecond())
}

var codeRE = regexp.MustCompile(`\d{6}`)

// smsRoundTrip starts an SMS OTP for phone, waits for the text on the
// simulated phone (polling, bounded to 10 s) and checks its code.
func smsRoundTrip(ctx context.Context, c *http.Client, base, phone, callback string) error {
	body, _ := json.Marshal(map[string]any{"phone": phone, "channel": "sms_otp", "callback_url": callback})
	var v struct {
		ID string `json:"id"`
	}
	if err := postDecode(ctx, c, base+"/v1/verifications", body, http.StatusCreated, &v); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/sim/phones/"+phone, nil)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		var p struct {
			Messages []struct {
				Text string `json:"text"`
			} `json:"messages"`
		}
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if len(p.Messages) > 0 {
			check := fmt.Sprintf(`{"code":%q}`, codeRE.FindString(p.Messages[0].Text))
			return post(ctx, c, base+"/v1/verifications/"+v.ID+"/check", []byte(check), http.StatusOK)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no text for %s", phone)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// phoneOf returns distinct valid numbers: +1 212 XXX XXXX.
func phoneOf(i int) string { return fmt.Sprintf("+1212%03d%04d", 200+i/10000, i%10000) }

func startBody(i int, callback string) []byte {
	b, _ := json.Marshal(map[string]any{"phone": phoneOf(i), "channel": "missed_call", "callback_url": callback})
	return b
}

// bareServer answers like a start would, with no work behind it: decode,
// encode a response of similar size.
func bareServer() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{
			"id": verify.NewID("vf_"), "status": "pending", "channel": in["channel"], "phone": in["phone"],
			"country": "US", "dial_number": "+12025550100", "expires_at": time.Now(), "created_at": time.Now(),
			"updated_at": time.Now(), "completed_at": nil, "client_token": "ct_0123456789abcdef0123456789abcdef",
			"metadata": map[string]string{}, "result_code": nil, "reason": nil, "sandbox": false,
		})
	}))
	return "http://" + ln.Addr().String()
}

func ringgate(ctx context.Context) *server.Server {
	dir, err := os.MkdirTemp("", "rgbench")
	if err != nil {
		log.Fatal(err)
	}
	cfg := config.Defaults(config.ModeDev)
	cfg.HTTP, cfg.DataDir, cfg.Log.Level = "127.0.0.1:0", dir, "error"
	cfg.Abuse.RateLimits = benchLimits(cfg.Abuse.RateLimits)
	env := func(k string) (string, bool) {
		if k == server.EnvDevAPIKey {
			return key, true
		}
		return "", false
	}
	srv, err := server.New(ctx, cfg, server.Options{Env: env})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	return srv
}

func countingReceiver() (string, *atomic.Int64) {
	var n atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	return "http://" + ln.Addr().String() + "/hook", &n
}

// dispatch queues n deliveries in a fresh SQLite outbox and times a
// dispatcher delivering all of them.
func dispatch(ctx context.Context, n int, url string, received *atomic.Int64) (float64, time.Duration) {
	dir, _ := os.MkdirTemp("", "rgbench-hooks")
	st, err := server.OpenStore(ctx, "sqlite:"+dir+"/hooks.db")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	err = st.Tx(ctx, func(tx verify.Tx) error {
		if err := tx.InsertApp(ctx, verify.App{ID: "app_b", Name: "b", WebhookSecret: verify.NewWebhookSecret(), CreatedAt: now}); err != nil {
			return err
		}
		for i := range n {
			d := verify.Delivery{ID: verify.NewID("msg_"), AppID: "app_b", VerificationID: fmt.Sprintf("vf_%d", i), Type: verify.EventVerified,
				URL: url, Payload: []byte(`{"type":"verification.verified"}`), Status: verify.DeliveryPending, NextAttemptAt: now, CreatedAt: now}
			if err := tx.InsertDelivery(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	policy := webhook.Policy{AllowLoopback: true}
	d := webhook.NewDispatcher(webhook.DispatcherConfig{Outbox: st, Client: policy.Client(10 * time.Second), Workers: 8})
	runCtx, stop := context.WithTimeout(ctx, 60*time.Second)
	defer stop()
	start := time.Now()
	go d.Run(runCtx)
	for received.Load() < int64(n) && runCtx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	took := time.Since(start)
	return float64(received.Load()) / took.Seconds(), took
}

func post(ctx context.Context, c *http.Client, url string, body []byte, want int) error {
	return postDecode(ctx, c, url, body, want, nil)
}

func postDecode(ctx context.Context, c *http.Client, url string, body []byte, want int, out any) error {
	req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, b)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// postgresRuns measures start + verifying call on PostgreSQL with one node
// and with three (in-process servers on their own ports sharing one
// schema, each client's start on one node and its call on the next), and
// prints them next to SQLite's run and the baseline from the same process.
func postgresRuns(ctx context.Context, base string, n, workers int, limit time.Duration, client *http.Client, receiver string, baseline, sqlite bench.Result) {
	results := []bench.Result{sqlite}
	for _, nodes := range []int{1, 3} {
		url, drop, err := pgtest.NewSchema(ctx, base)
		if err != nil {
			fmt.Printf("PostgreSQL runs skipped: %v\n", err)
			return
		}
		srvs := pgNodes(ctx, url, nodes, receiver)
		name := fmt.Sprintf("ringgate PostgreSQL, %d node(s): start + verifying call", nodes)
		r := bench.Load(ctx, name, n, workers, limit, func(ctx context.Context, i int) error {
			a, b := srvs[i%nodes], srvs[(i+1)%nodes]
			var v struct {
				DialNumber string `json:"dial_number"`
			}
			if err := postDecode(ctx, client, a.URL()+"/v1/verifications", startBody(i, receiver), http.StatusCreated, &v); err != nil {
				return err
			}
			call := fmt.Sprintf(`{"from":%q,"to":%q}`, phoneOf(i), v.DialNumber)
			return post(ctx, client, b.URL()+"/sim/calls", []byte(call), http.StatusOK)
		})
		fmt.Println(r)
		results = append(results, r)
		for _, s := range srvs {
			s.Close()
		}
		if err := drop(); err != nil {
			log.Print(err)
		}
	}
	fmt.Printf("\nstart + verifying call, ratio to baseline (throughput; p99):\n")
	for i, label := range []string{"SQLite, 1 node", "PostgreSQL, 1 node", "PostgreSQL, 3 nodes"} {
		r := results[i]
		fmt.Printf("  %-20s %8.0f pairs/s  p50 %-8v p99 %-8v  %.3f; %.1fx\n", label, r.PerSecond(),
			r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond),
			r.PerSecond()/baseline.PerSecond(), float64(r.P99)/float64(baseline.P99))
	}
	fmt.Println()
}

// pgNodes starts k servers in serve mode on one PostgreSQL schema, with an
// app that has the bench key and a pool number.
func pgNodes(ctx context.Context, url string, k int, receiver string) []*server.Server {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i * 7)
	}
	var srvs []*server.Server
	for range k {
		cfg := config.Defaults(config.ModeServe)
		cfg.HTTP, cfg.Log.Level, cfg.Database.URL = "127.0.0.1:0", "error", url
		cfg.Secret = fmt.Sprintf("%x", secret)
		cfg.Simulator.Enabled = true
		cfg.Webhooks.AllowNetworks = []string{"127.0.0.0/8"}
		cfg.Abuse.RateLimits = benchLimits(cfg.Abuse.RateLimits)
		srv, err := server.New(ctx, cfg, server.Options{Logger: server.NewLogger(cfg.Log, io.Discard)})
		if err != nil {
			log.Fatal(err)
		}
		if err := srv.Start(ctx); err != nil {
			log.Fatal(err)
		}
		srvs = append(srvs, srv)
	}
	op := srvs[0].Operator()
	cr, err := op.CreateApp(ctx, verify.NewApp{Name: "bench", DefaultCallbackURL: receiver, APIKeys: []string{key}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := op.AddNumber(ctx, cr.App.ID, "+12025550100", "*"); err != nil {
		log.Fatal(err)
	}
	return srvs
}

// benchLimits keeps every rate limit (so each start still pays for its
// counters, as in production) but raises it out of reach: the bench starts
// thousands of verifications to one prefix from one address.
func benchLimits(ls []config.RateLimit) []config.RateLimit {
	out := make([]config.RateLimit, len(ls))
	for i, l := range ls {
		l.Max = 1 << 30
		out[i] = l
	}
	return out
}
