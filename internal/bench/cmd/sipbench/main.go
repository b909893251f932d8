// Command sipbench is `make bench-sip`: ringgate's SIP adapter against
// Kamailio, with sipp as the caller, all on 127.0.0.1 in one run.
//
//  1. Kamailio (bench/sip/kamailio.cfg) as a stateless rejector answering
//     every INVITE with 486: the floor of what a SIP server can do per call.
//  2. The anchors (issue 21): Kamailio answering 486 and writing one row per
//     call through sqlops, to SQLite (bench/sip/kamailio-sqlite.cfg) and to
//     PostgreSQL (kamailio-pg.cfg, a database of the run's own): how a
//     missed-call service is built without ringgate. A step is clean only
//     if every call wrote its row; on PostgreSQL the CPU of the database's
//     backends is counted as the server's.
//  3. ringgate (`ringgate dev --sip ADDR`, built from ./cmd/ringgate) on
//     SQLite and on PostgreSQL (its backends' CPU counted likewise), every
//     INVITE matching a pending missed-call verification, which it
//     completes (database write, webhook queued) and rejects with 603.
//     Every webhook of a step is waited for before the next step and the
//     traced run. A build without --sip is reported and skipped.
//
// Each server gets the same sipp steps at rising rates (bench/sip/uac.xml,
// -buff_size 4194304, UDP, a bounded number of calls per step). Per step it
// reads sipp's statistics CSV (failed calls, retransmissions) and response
// times, the server's CPU time (all processes of its process group, every
// thread, from /proc/PID/task/TID/schedstat in nanoseconds, falling back to
// utime+stime from /proc/PID/stat) and sipp's own CPU (its rusage). It
// reports the highest rate with 0 failed calls and 0 retransmissions that
// sipp actually reached, CPU microseconds per call, and INVITE→final
// response p50/p99 at 1,000 calls/s from a separate run with sipp's message
// trace (microsecond timestamps; the steps' own response times are whole
// milliseconds). For ringgate the same traced run gives INVITE→webhook
// received: each INVITE's send time from the trace, keyed by its caller
// number, against the arrival of that verification's verification.verified
// webhook at a receiver in this process (the verification's callback_url).
//
// sipp, the server and this process share the machine's cores; both
// processes' CPU is read, and the figure to compare across machines is
// ringgate's CPU per call as a multiple of Kamailio's.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ringgate/ringgate/internal/store/postgres/pgtest"
)

const key = "rg_live_sipbench00000000000000000000"

type options struct {
	rates        []int
	secs         float64
	minCalls     int
	maxCalls     int
	latencyRate  int
	latencyCalls int
	sipDir       string
	kamailio     string
	sipp         string
	ringgate     string
	stepTimeout  time.Duration
	keep         bool
	anchors      []string // Kamailio variants: stateless, sqlite, postgres
	stores       []string // ringgate's: sqlite, postgres
	pgURL        string
	matched      string // the app's matched_call_events; "" leaves the default
	profile      string // prefix of CPU profiles of ringgate over each traced run; "" takes none
}

func main() {
	var o options
	rates := flag.String("rates", "200,500,1000,2000,4000,8000,12000,16000,24000", "call rates to step through, calls/s")
	flag.Float64Var(&o.secs, "secs", 3, "seconds of calls per step (calls = rate × secs, within -min-calls and -max-calls)")
	flag.IntVar(&o.minCalls, "min-calls", 1000, "fewest calls in a step")
	flag.IntVar(&o.maxCalls, "max-calls", 24000, "most calls in a step")
	flag.IntVar(&o.latencyRate, "latency-rate", 1000, "rate of the traced run that times INVITE→final and INVITE→webhook")
	flag.IntVar(&o.latencyCalls, "latency-calls", 3000, "calls in the traced run")
	flag.StringVar(&o.sipDir, "sip-dir", "bench/sip", "directory with kamailio.cfg and uac.xml")
	flag.StringVar(&o.kamailio, "kamailio", "/usr/sbin/kamailio", "kamailio binary (\"\" skips its half)")
	flag.StringVar(&o.sipp, "sipp", "sipp", "sipp binary")
	flag.StringVar(&o.ringgate, "ringgate", "./cmd/ringgate", "ringgate package to build, or a built binary (\"\" skips its half)")
	flag.DurationVar(&o.stepTimeout, "step-timeout", 90*time.Second, "longest one sipp run may take")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (sipp's CSV, traces, server logs)")
	flag.StringVar(&o.matched, "matched-events", "", "ringgate app's matched_call_events setting: \"\" (the default: verification.verified alone, one webhook per call) or both (call.received too)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of ringgate over each traced run to PREFIX-STORE.pprof and its allocations to PREFIX-STORE.allocs.pprof (through debug.pprof_addr)")
	anchors := flag.String("anchors", "stateless,sqlite,postgres", "Kamailio variants: stateless (486, no database), sqlite and postgres (486 and one row per call through sqlops)")
	stores := flag.String("stores", "sqlite,postgres", "ringgate's stores to measure")
	flag.StringVar(&o.pgURL, "pg", pgtest.BaseURL(), "PostgreSQL server for the postgres anchor and store (a database of the run's own is made and dropped); \"\" skips both")
	flag.Parse()
	o.anchors, o.stores = list(*anchors), list(*stores)
	if o.pgURL == "" {
		o.anchors = slices.DeleteFunc(o.anchors, func(s string) bool { return s == "postgres" })
		o.stores = slices.DeleteFunc(o.stores, func(s string) bool { return s == "postgres" })
	}
	for _, f := range strings.Split(*rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r <= 0 {
			log.Fatalf("bad -rates entry %q", f)
		}
		o.rates = append(o.rates, r)
	}
	if err := run(o); err != nil {
		log.Fatal("sipbench: ", err)
	}
}

func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute) // the whole run, whatever happens
	defer cancel()

	for _, f := range []string{"kamailio.cfg", "kamailio-sqlite.cfg", "kamailio-pg.cfg", "anchor-sqlite.sql", "anchor-pg.sql", "uac.xml"} {
		if _, err := os.Stat(filepath.Join(o.sipDir, f)); err != nil {
			return fmt.Errorf("%v (run from the repository root, or set -sip-dir)", err)
		}
	}
	scenario, _ := filepath.Abs(filepath.Join(o.sipDir, "uac.xml"))
	if _, err := exec.LookPath(o.sipp); err != nil {
		return fmt.Errorf("no sipp: %v (scripts/install-bench-deps.sh installs it)", err)
	}
	work, err := os.MkdirTemp("", "sipbench")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Printf("work directory: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	var procs procSet
	defer procs.killAll()

	fmt.Printf("sipbench: sipp %s, UDP on 127.0.0.1, -buff_size 4194304; steps of rate × %.0f s calls (%d to %d); %d CPUs shared by sipp, the server and this process\n\n",
		sippVersion(o.sipp), o.secs, o.minCalls, o.maxCalls, numCPU())

	var results []serverResult
	for _, a := range o.anchors {
		if o.kamailio == "" {
			break
		}
		r, err := kamailioHalf(ctx, o, work, scenario, &procs, a)
		if err != nil {
			return fmt.Errorf("kamailio (%s): %w", a, err)
		}
		results = append(results, r)
	}
	for _, st := range o.stores {
		if o.ringgate == "" {
			break
		}
		r, ok, err := ringgateHalf(ctx, o, work, scenario, &procs, st)
		if err != nil {
			return fmt.Errorf("ringgate (%s): %w", st, err)
		}
		if !ok {
			break
		}
		results = append(results, r)
	}
	summary(os.Stdout, o, results)
	return nil
}

// ---- the two halves ----

type serverResult struct {
	name     string
	kind     string // "kamailio" or "ringgate"
	store    string // "", "sqlite" or "postgres"
	steps    []step
	latency  step // the traced run at -latency-rate
	hookP50  time.Duration
	hookP99  time.Duration
	hookN    int
	hookMiss int
}

// kamailioHalf runs one Kamailio variant: stateless (486, nothing
// written), or sqlite / postgres (486 and one row per call through sqlops:
// the anchor, how a missed-call service is built without ringgate). For the
// row variants every step must have written one row per call to be clean,
// and on PostgreSQL the CPU of the database's backends counts as the
// server's.
func kamailioHalf(ctx context.Context, o options, work, scenario string, procs *procSet, variant string) (serverResult, error) {
	res := serverResult{name: "Kamailio 486 (stateless)", kind: "kamailio"}
	cfgName := "kamailio.cfg"
	dir := filepath.Join(work, "kamailio-"+variant)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	var rdb *rowDB
	var err error
	switch variant {
	case "stateless":
	case "sqlite":
		res.name, res.store, cfgName = "Kamailio 486 + SQLite row", "sqlite", "kamailio-sqlite.cfg"
		rdb, err = newSQLiteRows(dir, filepath.Join(o.sipDir, "anchor-sqlite.sql"))
	case "postgres":
		res.name, res.store, cfgName = "Kamailio 486 + PostgreSQL row", "postgres", "kamailio-pg.cfg"
		rdb, err = newPostgresRows(ctx, o.pgURL, filepath.Join(o.sipDir, "anchor-pg.sql"))
	default:
		return res, fmt.Errorf("unknown anchor %q (stateless, sqlite, postgres)", variant)
	}
	if err != nil {
		return res, err
	}
	if rdb != nil {
		defer rdb.close()
	}
	port, err := freeUDPPort()
	if err != nil {
		return res, err
	}
	cfg, _ := filepath.Abs(filepath.Join(o.sipDir, cfgName))
	logf, err := os.Create(filepath.Join(dir, "kamailio.log"))
	if err != nil {
		return res, err
	}
	defer logf.Close()
	args := []string{"-DD", "-E", "-f", cfg, "-Y", dir, "-A", fmt.Sprintf("SIP_PORT=%d", port), "-m", "64", "-M", "8"}
	if rdb != nil {
		args = append(args, "-A", fmt.Sprintf("DB_CON=%q", rdb.con))
	}
	cmd := exec.Command(o.kamailio, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := procs.start(cmd)
	if err != nil {
		return res, err
	}
	defer p.stop()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitUDPBound(ctx, port, p, 10*time.Second); err != nil {
		return res, fmt.Errorf("%v (log: %s)", err, tail(filepath.Join(dir, "kamailio.log")))
	}
	fmt.Printf("== %s on udp:%s, 2 children (pid %d); idle: %s\n", res.name, addr, p.pid(), idle(p))
	fmt.Println(stepHeader)
	// step runs sipp, then adds the database backends' CPU and checks the
	// rows.
	step := func(name string, rate int, calls [][2]string, trace bool) (step, error) {
		var rows0 int
		var be0 map[int]time.Duration
		if rdb != nil {
			if rows0, err = rdb.rows(ctx); err != nil {
				return step{}, err
			}
			if rdb.pg != nil {
				be0 = rdb.pg.backendCPU(ctx)
			}
		}
		s, err := sippStep(ctx, o, scenario, filepath.Join(dir, name), addr, rate, calls, p, trace)
		if err != nil || rdb == nil {
			return s, err
		}
		if rdb.pg != nil {
			s.serverCPU += backendDelta(be0, rdb.pg.backendCPU(ctx))
		}
		n, err := rdb.rows(ctx)
		if err != nil {
			return s, err
		}
		s.rows, s.hasRows = n-rows0, true
		return s, nil
	}
	n := 0
	calls := func(count int) [][2]string {
		c := make([][2]string, count)
		for i := range c {
			c[i] = [2]string{phoneOf(n), "+12025550100"}
			n++
		}
		return c
	}
	dirty := 0
	for _, rate := range o.rates {
		count := callsFor(o, rate)
		s, err := step(fmt.Sprintf("step-%d", rate), rate, calls(count), false)
		if err != nil {
			return res, err
		}
		s.serverCPUAll = s.serverCPU
		res.steps = append(res.steps, s)
		fmt.Println(s.row())
		if !p.alive() {
			return res, errors.New("kamailio exited during the run")
		}
		if dirty = dirtyCount(s, dirty); dirty >= 2 {
			fmt.Println("   (two steps in a row not clean: no higher rates)")
			break
		}
	}
	lat, err := step("latency", o.latencyRate, calls(o.latencyCalls), true)
	if err != nil {
		return res, err
	}
	res.latency = lat
	fmt.Printf("   traced run at %d/s: %s\n\n", o.latencyRate, lat.traceSummary())
	return res, nil
}

// ringgateHalf runs ringgate on one store: sqlite (its dev default) or
// postgres (a database of the run's own, its backends' CPU counted as
// ringgate's).
func ringgateHalf(ctx context.Context, o options, work, scenario string, procs *procSet, store string) (serverResult, bool, error) {
	res := serverResult{name: "ringgate 603 verified, SQLite", kind: "ringgate", store: store}
	var pg *pgDB
	switch store {
	case "sqlite":
	case "postgres":
		res.name = "ringgate 603 verified, PostgreSQL"
		var err error
		if pg, err = newPGDB(ctx, o.pgURL, "sipbench_ringgate"); err != nil {
			return res, false, err
		}
		defer pg.close()
	default:
		return res, false, fmt.Errorf("unknown store %q (sqlite, postgres)", store)
	}
	dir := filepath.Join(work, "ringgate-"+store)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return res, false, err
	}
	bin := o.ringgate
	if fi, err := os.Stat(bin); err == nil && fi.IsDir() {
		bin = filepath.Join(work, "ringgate")
	}
	if _, err := os.Stat(bin); err != nil && bin == filepath.Join(work, "ringgate") {
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, o.ringgate)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return res, false, fmt.Errorf("go build %s: %w", o.ringgate, err)
		}
	}
	sipPort, err := freeUDPPort()
	if err != nil {
		return res, false, err
	}
	httpAddr, err := freeTCPAddr()
	if err != nil {
		return res, false, err
	}
	sipAddr := fmt.Sprintf("127.0.0.1:%d", sipPort)
	hooks, err := startReceiver()
	if err != nil {
		return res, false, err
	}
	defer hooks.close()

	logPath := filepath.Join(dir, "ringgate.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return res, false, err
	}
	defer logf.Close()
	// Every limit out of reach: the benchmark starts thousands of
	// verifications from one address for one app. The counters are still
	// kept, so their cost is in the figures.
	cfgPath := filepath.Join(dir, "ringgate.yaml")
	limits := "abuse:\n  rate_limits:\n"
	for _, sc := range []string{"phone", "prefix", "country", "ip", "app", "api_key"} {
		limits += "    - {scope: " + sc + ", max: 1000000000, window: 1h}\n"
	}
	limits += "  pumping: {min_starts: 1000000000}\n"
	pprofAddr := ""
	if o.profile != "" {
		if pprofAddr, err = freeTCPAddr(); err != nil {
			return res, false, err
		}
		limits += "debug:\n  pprof_addr: " + pprofAddr + "\n"
	}
	if err := os.WriteFile(cfgPath, []byte(limits), 0o600); err != nil {
		return res, false, err
	}
	cmd := exec.Command(bin, "dev", "--config", cfgPath, "--data", filepath.Join(dir, "data"), "--http", httpAddr, "--sip", sipAddr)
	cmd.Env = append(os.Environ(), "RINGGATE_DEV_API_KEY="+key, "RINGGATE_LOG_LEVEL=error")
	if pg != nil {
		cmd.Env = append(cmd.Env, "RINGGATE_DATABASE_URL="+pg.url)
	}
	backends := func() map[int]time.Duration {
		if pg == nil {
			return nil
		}
		return pg.backendCPU(ctx)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := procs.start(cmd)
	if err != nil {
		return res, false, err
	}
	defer p.stop()
	base := "http://" + httpAddr
	if err := waitHTTP(ctx, base, p, 30*time.Second); err != nil {
		out := tail(logPath)
		if strings.Contains(out, "not defined") && strings.Contains(out, "sip") {
			fmt.Printf("== ringgate has no SIP listener in this build; skipping its half (`ringgate dev --sip` says: %s)\n\n", strings.TrimSpace(out))
			return res, false, nil
		}
		return res, false, fmt.Errorf("%v (log: %s)", err, out)
	}
	if err := waitUDPBound(ctx, sipPort, p, 10*time.Second); err != nil {
		return res, false, fmt.Errorf("SIP listener: %v (log: %s)", err, tail(logPath))
	}
	if o.matched != "" {
		res.name += ", matched_call_events " + o.matched
		if err := patchApp(ctx, base, map[string]any{"matched_call_events": o.matched}); err != nil {
			return res, true, err
		}
	}
	fmt.Printf("== %s on udp:%s, HTTP %s (pid %d); idle: %s\n", res.name, sipAddr, base, p.pid(), idle(p))
	fmt.Println(stepHeader)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 30 * time.Second}
	n := 0
	// pending creates count missed-call verifications for new phones (not
	// timed) and returns the calls that complete them and their ids.
	pending := func(count int) ([][2]string, []string, error) {
		calls := make([][2]string, count)
		ids := make([]string, count)
		var next atomic.Int64
		var firstErr error
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= count || ctx.Err() != nil {
						return
					}
					phone := phoneOf(n + i)
					id, dial, err := startVerification(ctx, client, base, phone, hooks.url)
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						return
					}
					calls[i], ids[i] = [2]string{phone, dial}, id
				}
			})
		}
		wg.Wait()
		n += count
		return calls, ids, firstErr
	}
	dirty := 0
	for _, rate := range o.rates {
		count := callsFor(o, rate)
		calls, ids, err := pending(count)
		if err != nil {
			return res, true, err
		}
		time.Sleep(300 * time.Millisecond) // let the starts' own background work settle before the CPU window
		cpu0, be0 := p.cpu(), backends()
		s, err := sippStep(ctx, o, scenario, filepath.Join(dir, fmt.Sprintf("step-%d", rate)), sipAddr, rate, calls, p, false)
		if err != nil {
			return res, true, err
		}
		be1 := backends()
		s.serverCPU += backendDelta(be0, be1)
		// Every webhook of the step is in before the next step (and the
		// traced run) begins, so no backlog carries over.
		got := hooks.wait(ctx, ids, 2*time.Minute)
		s.serverCPUAll = p.cpu() - cpu0 + backendDelta(be0, backends())
		if got < len(ids) {
			fmt.Printf("   (%d of the step's %d webhooks still missing after 2 minutes)\n", len(ids)-got, len(ids))
		}
		s.hooks, s.hasHooks = got, true
		res.steps = append(res.steps, s)
		fmt.Println(s.row())
		if !p.alive() {
			return res, true, fmt.Errorf("ringgate exited during the run (log: %s)", tail(logPath))
		}
		if dirty = dirtyCount(s, dirty); dirty >= 2 {
			fmt.Println("   (two steps in a row not clean: no higher rates)")
			break
		}
	}
	calls, ids, err := pending(o.latencyCalls)
	if err != nil {
		return res, true, err
	}
	time.Sleep(300 * time.Millisecond)
	var profiled chan error
	if pprofAddr != "" {
		profiled = make(chan error, 2)
		secs := o.latencyCalls/o.latencyRate + 2
		go func() {
			profiled <- fetchProfile(ctx, pprofAddr, "profile", secs, o.profile+"-"+store+".pprof")
		}()
		go func() {
			profiled <- fetchProfile(ctx, pprofAddr, "allocs", secs, o.profile+"-"+store+".allocs.pprof")
		}()
	}
	lat, err := sippStep(ctx, o, scenario, filepath.Join(dir, "latency"), sipAddr, o.latencyRate, calls, p, true)
	if err != nil {
		return res, true, err
	}
	hooks.wait(ctx, ids, 2*time.Minute)
	if profiled != nil {
		for range 2 {
			if err := <-profiled; err != nil {
				fmt.Println("   (profile:", err, ")")
			}
		}
	}
	res.latency = lat
	var d []time.Duration
	for i, id := range ids {
		sent, ok1 := lat.inviteAt[calls[i][0]]
		got, ok2 := hooks.arrival(id)
		if !ok1 || !ok2 {
			res.hookMiss++
			continue
		}
		d = append(d, got.Sub(sent))
	}
	res.hookN = len(d)
	res.hookP50, res.hookP99 = pct(d, 50), pct(d, 99)
	fmt.Printf("   traced run at %d/s: %s; INVITE→webhook p50 %v p99 %v (%d matched, %d without a webhook or INVITE)\n\n",
		o.latencyRate, lat.traceSummary(), round(res.hookP50), round(res.hookP99), res.hookN, res.hookMiss)
	return res, true, nil
}

// fetchProfile saves a profile of secs seconds from ringgate's pprof
// listener: kind "profile" is CPU, "allocs" the allocations in those
// seconds (a delta).
func fetchProfile(ctx context.Context, addr, kind string, secs int, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", addr, kind, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ---- one sipp run ----

type step struct {
	rate, calls           int
	achieved              float64 // calls/s over sipp's elapsed time
	ok, failed, retrans   int
	exit                  int
	elapsed               time.Duration
	serverCPU             time.Duration // during the sipp run
	serverCPUAll          time.Duration // for ringgate: until the step's webhooks were in
	sippCPU               time.Duration
	rttP50, rttP99        float64 // ms, sipp's whole-millisecond response times
	hooks                 int
	hasHooks              bool // a ringgate step: hooks and serverCPUAll are its own
	traced                bool
	finalP50, finalP99    time.Duration // from the message trace
	inviteAt              map[string]time.Time
	unexpected, deadCalls int
	rows                  int  // rows the anchor wrote in the step
	hasRows               bool // an anchor that writes rows
}

const stepHeader = "   rate/s  calls  reached/s   ok  failed  retrans  clean  server µs/call  sipp µs/call  rtt p50/p99 ms  webhooks/rows  server µs/call incl. webhooks"

func (s step) clean() bool {
	return s.exit == 0 && s.failed == 0 && s.retrans == 0 && s.ok == s.calls && s.achieved >= 0.95*float64(s.rate) &&
		(!s.hasRows || s.rows == s.calls)
}

func (s step) row() string {
	c := "no"
	if s.clean() {
		c = "yes"
	}
	hooks, all := "-", "-"
	if s.hasRows {
		hooks = fmt.Sprintf("%d rows", s.rows)
	}
	if s.hasHooks {
		hooks = strconv.Itoa(s.hooks)
		all = fmt.Sprintf("%.1f", perCall(s.serverCPUAll, s.calls))
	}
	return fmt.Sprintf("   %6d %6d %10.0f %5d %7d %8d  %5s  %14.1f %13.1f  %6.0f/%-6.0f %9s  %s",
		s.rate, s.calls, s.achieved, s.ok, s.failed, s.retrans, c, perCall(s.serverCPU, s.calls), perCall(s.sippCPU, s.calls),
		s.rttP50, s.rttP99, hooks, all)
}

func (s step) traceSummary() string {
	return fmt.Sprintf("%d calls, %d ok, %d failed, %d retransmissions, reached %.0f/s, INVITE→final p50 %v p99 %v",
		s.calls, s.ok, s.failed, s.retrans, s.achieved, round(s.finalP50), round(s.finalP99))
}

// sippStep writes the injection CSV and runs sipp once at rate for every
// call, reading the server's CPU before and after.
func sippStep(ctx context.Context, o options, scenario, dir, addr string, rate int, calls [][2]string, server *proc, trace bool) (step, error) {
	s := step{rate: rate, calls: len(calls), traced: trace}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s, err
	}
	var b bytes.Buffer
	b.WriteString("SEQUENTIAL\n")
	for _, c := range calls {
		fmt.Fprintf(&b, "%s;%s;\n", c[0], c[1])
	}
	if err := os.WriteFile(filepath.Join(dir, "calls.csv"), b.Bytes(), 0o644); err != nil {
		return s, err
	}
	localPort, err := freeUDPPort()
	if err != nil {
		return s, err
	}
	args := []string{"-sf", scenario, "-inf", "calls.csv", "-r", strconv.Itoa(rate), "-m", strconv.Itoa(len(calls)),
		"-buff_size", "4194304", "-t", "u1", "-i", "127.0.0.1", "-p", strconv.Itoa(localPort), addr,
		"-trace_stat", "-stf", "stat.csv", "-fd", "1", "-trace_rtt", "-rtt_freq", "1", "-trace_screen", "-trace_err",
		"-nostdin", "-timeout", fmt.Sprintf("%ds", int(o.stepTimeout.Seconds())), "-timeout_error",
		"-l", strconv.Itoa(max(rate*4, 1000))}
	if trace {
		args = append(args, "-trace_msg", "-message_file", "msg.log")
	}
	sctx, cancel := context.WithTimeout(ctx, o.stepTimeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(sctx, o.sipp, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := os.Create(filepath.Join(dir, "sipp.out"))
	if err != nil {
		return s, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cpu0 := server.cpu()
	start := time.Now()
	err = cmd.Run()
	s.elapsed = time.Since(start)
	s.serverCPU = server.cpu() - cpu0
	if cmd.ProcessState != nil {
		s.sippCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		s.exit = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		return s, fmt.Errorf("sipp at %d/s: %w", rate, context.Cause(ctx))
	}
	if sctx.Err() != nil {
		return s, fmt.Errorf("sipp at %d/s did not finish within %v", rate, o.stepTimeout)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return s, fmt.Errorf("sipp: %w", err)
	}
	if err := readStats(dir, &s); err != nil {
		return s, fmt.Errorf("sipp at %d/s (exit %d): %w; output: %s", rate, s.exit, err, tail(filepath.Join(dir, "sipp.out")))
	}
	if trace {
		if err := readTrace(filepath.Join(dir, "msg.log"), &s); err != nil {
			return s, err
		}
	}
	return s, nil
}

// readStats takes the last line of sipp's statistics CSV (cumulative
// counts) and the per-call response times of its _rtt.csv.
func readStats(dir string, s *step) error {
	f, err := os.Open(filepath.Join(dir, "stat.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.FieldsPerRecord = ';', -1
	rows, err := r.ReadAll()
	if err != nil {
		return err
	}
	if len(rows) < 2 {
		return errors.New("statistics file has no data")
	}
	head, last := rows[0], rows[len(rows)-1]
	get := func(name string) int {
		for i, h := range head {
			if h == name && i < len(last) {
				v, _ := strconv.Atoi(strings.TrimSpace(last[i]))
				return v
			}
		}
		return -1
	}
	s.ok, s.failed, s.retrans = get("SuccessfulCall(C)"), get("FailedCall(C)"), get("Retransmissions(C)")
	s.unexpected, s.deadCalls = get("OutOfCallMsgs(C)"), get("DeadCallMsgs(C)")
	if s.ok < 0 || s.failed < 0 || s.retrans < 0 {
		return errors.New("statistics file lacks SuccessfulCall/FailedCall/Retransmissions")
	}
	// The rate sipp reached: calls over the span of their final responses
	// (_rtt.csv's Date_ms, milliseconds since sipp started), or over sipp's
	// wall time, start-up and tail included, when that is not there.
	rtts, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	var ms []float64
	firstMs, lastMs := -1.0, -1.0
	for _, p := range rtts {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			parts := strings.Split(line, ";")
			if len(parts) >= 2 {
				if v, err := strconv.ParseFloat(parts[1], 64); err == nil {
					ms = append(ms, v)
				}
				if t, err := strconv.ParseFloat(parts[0], 64); err == nil {
					if firstMs < 0 || t < firstMs {
						firstMs = t
					}
					lastMs = max(lastMs, t)
				}
			}
		}
	}
	switch {
	case len(ms) > 1 && lastMs > firstMs:
		s.achieved = float64(len(ms)-1) / (lastMs - firstMs) * 1000
	case s.elapsed > 0:
		s.achieved = float64(s.ok+s.failed) / s.elapsed.Seconds()
	}
	slices.Sort(ms)
	if len(ms) > 0 {
		s.rttP50, s.rttP99 = ms[(len(ms)-1)*50/100], ms[(len(ms)-1)*99/100]
	}
	return nil
}

// parseClock reads sipp's HH:MM:SS (optionally :micro) elapsed time.
func parseClock(v string) time.Duration {
	parts := strings.Split(strings.TrimSpace(v), ":")
	if len(parts) < 3 {
		return 0
	}
	h, _ := strconv.Atoi(parts[0])
	m, _ := strconv.Atoi(parts[1])
	sec, _ := strconv.Atoi(parts[2])
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	if len(parts) > 3 {
		us, _ := strconv.Atoi(parts[3])
		d += time.Duration(us) * time.Microsecond
	}
	return d
}

// readTrace reads sipp's message log: each message is preceded by a line
// of dashes and a local timestamp with microseconds. It records each
// INVITE's first send by Call-ID and caller, and each call's final
// response, for INVITE→final and (by caller) INVITE→webhook.
func readTrace(path string, s *step) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sentAt := map[string]time.Time{}
	finalAt := map[string]time.Time{}
	s.inviteAt = map[string]time.Time{}
	var at time.Time
	var kind, first, callID, from string
	flush := func() {
		if callID == "" {
			return
		}
		switch {
		case kind == "sent" && strings.HasPrefix(first, "INVITE "):
			if _, ok := sentAt[callID]; !ok {
				sentAt[callID] = at
				if from != "" {
					s.inviteAt[from] = at
				}
			}
		case kind == "recv" && (strings.HasPrefix(first, "SIP/2.0 486") || strings.HasPrefix(first, "SIP/2.0 603")):
			if _, ok := finalAt[callID]; !ok {
				finalAt[callID] = at
			}
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	state := 0 // 0: expect header, 1: expect "sent/received" line, 2: blank, 3: first line, 4: headers
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, "-----------------------------------------------") {
			flush()
			kind, first, callID, from = "", "", "", ""
			ts := strings.TrimSpace(strings.TrimLeft(line, "-"))
			t, err := time.ParseInLocation("2006-01-02 15:04:05.000000", ts, time.Local)
			if err != nil {
				state = 0
				continue
			}
			at, state = t, 1
			continue
		}
		switch state {
		case 1:
			switch {
			case strings.Contains(line, "message sent"):
				kind = "sent"
			case strings.Contains(line, "message received"):
				kind = "recv"
			}
			state = 2
		case 2:
			if line != "" {
				first, state = line, 4
			} else {
				state = 3
			}
		case 3:
			if line != "" {
				first, state = line, 4
			}
		case 4:
			lower := strings.ToLower(line)
			switch {
			case strings.HasPrefix(lower, "call-id:"):
				callID = strings.TrimSpace(line[len("call-id:"):])
			case strings.HasPrefix(lower, "from:"):
				if i := strings.Index(line, "sip:"); i >= 0 {
					u := line[i+4:]
					if j := strings.IndexAny(u, "@;>"); j >= 0 {
						u = u[:j]
					}
					from = u
				}
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return err
	}
	var d []time.Duration
	for id, t0 := range sentAt {
		if t1, ok := finalAt[id]; ok {
			d = append(d, t1.Sub(t0))
		}
	}
	if len(d) == 0 {
		return fmt.Errorf("no INVITE/final pairs in %s", path)
	}
	s.finalP50, s.finalP99 = pct(d, 50), pct(d, 99)
	return nil
}

// ---- summary ----

func summary(w io.Writer, o options, results []serverResult) {
	fmt.Fprintf(w, "== summary (server CPU per call: all its processes and threads; ringgate's includes delivering the step's webhooks)\n")
	fmt.Fprintf(w, "%-36s %10s %18s %18s %18s %26s\n", "server", "max clean", "µs/call at max", fmt.Sprintf("µs/call at %d/s", o.latencyRate),
		fmt.Sprintf("sipp µs/call %d/s", o.latencyRate), fmt.Sprintf("INVITE→final p50/p99 %d/s", o.latencyRate))
	for _, r := range results {
		best := r.maxClean()
		rate, cpu, at, sipp := "none", "-", "-", "-"
		if best >= 0 {
			rate = fmt.Sprintf("%d/s", best)
			cpu = fmt.Sprintf("%.1f", perCall(r.at(best).serverCPUAll, r.at(best).calls))
		}
		if s := r.at(o.latencyRate); s != nil {
			at = fmt.Sprintf("%.1f", perCall(s.serverCPUAll, s.calls))
			sipp = fmt.Sprintf("%.1f", perCall(s.sippCPU, s.calls))
		}
		fmt.Fprintf(w, "%-36s %10s %18s %18s %18s %26s\n", r.name, rate, cpu, at, sipp,
			fmt.Sprintf("%v / %v", round(r.latency.finalP50), round(r.latency.finalP99)))
	}
	// Each ringgate store against its anchor (Kamailio writing one row to
	// the same database), and against the stateless floor.
	find := func(kind, store string) *serverResult {
		for i := range results {
			if results[i].kind == kind && results[i].store == store {
				return &results[i]
			}
		}
		return nil
	}
	ratio := func(g, k *serverResult, rate int) {
		ks, gs := k.at(rate), g.at(rate)
		if ks == nil || gs == nil || ks.serverCPUAll <= 0 || ks.serverCPU <= 0 {
			return
		}
		fmt.Fprintf(w, "  at %d/s: %.1f× %s (%.1f× without webhook delivery)\n", rate,
			float64(gs.serverCPUAll)/float64(ks.serverCPUAll)*float64(ks.calls)/float64(gs.calls), k.name,
			float64(gs.serverCPU)/float64(ks.serverCPU)*float64(ks.calls)/float64(gs.calls))
	}
	measured := false
	for _, st := range []string{"sqlite", "postgres"} {
		g := find("ringgate", st)
		if g == nil {
			continue
		}
		measured = true
		fmt.Fprintf(w, "%s: CPU per call (aim: 2× its anchor or less)\n", g.name)
		for _, k := range []*serverResult{find("kamailio", st), find("kamailio", "")} {
			if k == nil {
				continue
			}
			ratio(g, k, o.latencyRate)
			if both := min(k.maxClean(), g.maxClean()); both > 0 && both != o.latencyRate {
				ratio(g, k, both)
			}
		}
		fmt.Fprintf(w, "  INVITE→webhook received at %d/s: p50 %v p99 %v (%d calls)\n", o.latencyRate, round(g.hookP50), round(g.hookP99), g.hookN)
	}
	if !measured {
		fmt.Fprintln(w, "ringgate: not measured (no SIP listener in this build, or skipped)")
	}
}

// maxClean is the highest clean step's rate, or -1.
func (r serverResult) maxClean() int {
	best := -1
	for _, s := range r.steps {
		if s.clean() && s.rate > best {
			best = s.rate
		}
	}
	return best
}

// at is the clean step at rate, or nil.
func (r serverResult) at(rate int) *step {
	for i, s := range r.steps {
		if s.rate == rate && s.clean() {
			return &r.steps[i]
		}
	}
	return nil
}

// ---- helpers ----

// idle reports the server's CPU use over 2 s with no calls: its timers
// and housekeeping, which every step's CPU per call includes.
func idle(p *proc) string {
	c0 := p.cpu()
	time.Sleep(2 * time.Second)
	return fmt.Sprintf("%.2f ms CPU per second", float64((p.cpu()-c0).Microseconds())/2000)
}

func callsFor(o options, rate int) int {
	return min(max(int(float64(rate)*o.secs), o.minCalls), o.maxCalls)
}

func dirtyCount(s step, prev int) int {
	if s.clean() {
		return 0
	}
	return prev + 1
}

func perCall(d time.Duration, calls int) float64 {
	if calls == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(calls)
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[(len(d)-1)*p/100]
}

func round(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(10 * time.Microsecond)
}

// phoneOf returns distinct valid numbers: +1 212 XXX XXXX.
func phoneOf(i int) string { return fmt.Sprintf("+1212%03d%04d", 200+i/10000, i%10000) }

func numCPU() int { return runtime.NumCPU() }

func sippVersion(sipp string) string {
	out, _ := exec.Command(sipp, "-v").CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "SIPp v") {
			return strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "SIPp")), ".")
		}
	}
	return "?"
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return string(b)
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func freeTCPAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitUDPBound waits until something listens on 127.0.0.1:port (binding it
// fails), bounded by limit and by p staying alive.
func waitUDPBound(ctx context.Context, port int, p *proc, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if !p.alive() {
			return errors.New("exited before listening")
		}
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			time.Sleep(200 * time.Millisecond) // give the workers time to start too
			return nil
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listening on udp 127.0.0.1:%d after %v", port, limit)
}

func waitHTTP(ctx context.Context, base string, p *proc, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if !p.alive() {
			return errors.New("exited before serving HTTP")
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/verifications/vf_none", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no HTTP on %s after %v", base, limit)
}

func startVerification(ctx context.Context, c *http.Client, base, phone, callback string) (id, dial string, err error) {
	body, _ := json.Marshal(map[string]any{"phone": phone, "channel": "missed_call", "callback_url": callback})
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/verifications", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return "", "", fmt.Errorf("POST /v1/verifications: %d %s", resp.StatusCode, b)
	}
	var v struct {
		ID         string `json:"id"`
		DialNumber string `json:"dial_number"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return "", "", err
	}
	if v.ID == "" || v.DialNumber == "" {
		return "", "", fmt.Errorf("start for %s has no id or dial_number", phone)
	}
	return v.ID, v.DialNumber, nil
}

// patchApp changes the dev app's settings.
func patchApp(ctx context.Context, base string, settings map[string]any) error {
	body, _ := json.Marshal(settings)
	req, _ := http.NewRequestWithContext(ctx, "PATCH", base+"/v1/app", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("PATCH /v1/app: %d %s", resp.StatusCode, b)
	}
	return nil
}

// receiver is the app's callback_url: it records when each verification's
// verification.verified webhook first arrived.
type receiver struct {
	url  string
	srv  *http.Server
	mu   sync.Mutex
	seen map[string]time.Time
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String() + "/hook", seen: map[string]time.Time{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		now := time.Now()
		var ev struct {
			Type string `json:"type"`
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		err := json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(&ev)
		w.WriteHeader(http.StatusNoContent)
		if err != nil || ev.Type != "verification.verified" || ev.Data.ID == "" {
			return
		}
		r.mu.Lock()
		if _, ok := r.seen[ev.Data.ID]; !ok {
			r.seen[ev.Data.ID] = now
		}
		r.mu.Unlock()
	})}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) arrival(id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.seen[id]
	return t, ok
}

// wait returns how many of ids have had their webhook, waiting up to limit
// for all of them.
func (r *receiver) wait(ctx context.Context, ids []string, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for {
		got := 0
		r.mu.Lock()
		for _, id := range ids {
			if _, ok := r.seen[id]; ok {
				got++
			}
		}
		r.mu.Unlock()
		if got == len(ids) || time.Now().After(deadline) || ctx.Err() != nil {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *receiver) close() { r.srv.Close() }

// ---- processes ----

// proc is a server started in a process group of its own, so that its CPU
// (every process and thread in the group) can be read and all of it killed.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

type procSet struct {
	mu    sync.Mutex
	procs []*proc
}

func (s *procSet) start(cmd *exec.Cmd) (*proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

func (s *procSet) killAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		p.stop()
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the group, then SIGKILL after 5 s.
func (p *proc) stop() {
	p.once.Do(func() {
		pg := p.pid()
		syscall.Kill(-pg, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
		syscall.Kill(-pg, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
	})
}

// cpu is the CPU time so far of every thread of every process in p's
// process group: the sum of /proc/PID/task/TID/schedstat's first field
// (nanoseconds on CPU), or utime+stime from /proc/PID/stat in clock ticks
// where schedstat is not there.
func (p *proc) cpu() time.Duration {
	pg := p.pid()
	ents, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:])) // f[0] is field 3 (state)
		if len(f) < 13 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g != pg {
			continue
		}
		if ns, ok := schedstat(pid); ok {
			total += ns
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+st) * (time.Second / 100) // USER_HZ is 100 on Linux
	}
	return total
}

func schedstat(pid int) (time.Duration, bool) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, false
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, false
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		total += time.Duration(ns)
	}
	return total, true
}
