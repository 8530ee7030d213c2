package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/engines"
	"github.com/kspbench/kspbench/host/storage"
	"github.com/kspbench/kspbench/internal/bench"
	"github.com/kspbench/kspbench/internal/requests"
	"github.com/kspbench/kspbench/plugin"
	"github.com/kspbench/kspbench/plugindir"
)

// AnswerTimeout bounds one "answer" operation in the parent (loading the
// plugin, and the call, which the plugin's own call deadline ends sooner on
// an engine that can end it): a worker that takes longer is killed, the
// request fails on that configuration, and the next operation starts a new
// worker.
const AnswerTimeout = time.Minute

// RouteTimeout bounds one sample of the Route workload on one
// configuration; a worker that takes longer is killed and the sample of its
// routes left out.
const RouteTimeout = 5 * time.Minute

// AnswersFile is the table of the plugin's answers a run writes, with the
// differences between configurations; AnswersJSON holds the same as data.
const (
	AnswersFile = "answers.md"
	AnswersJSON = "answers.json"
)

// ErrAnswersDiffer is what Run returns, wrapped, when configurations answer
// a request differently and Options.AllowDifferences is false.
var ErrAnswersDiffer = errors.New("the plugin's answers differ between engine configurations")

// answerWorker is a Worker that answers requests to the plugin's routes;
// Client is one.
type answerWorker interface {
	Answer(ctx context.Context, a AnswerArgs) (Answer, error)
}

var quietLogger = slog.New(slog.DiscardHandler)

// answerOp is the worker's side of opAnswer: it loads the plugin with a new
// in-memory store, so that no answer depends on the requests made before,
// and makes the request through the pool with the plugin's call deadline.
// A call that fails is an Answer with its Error, not an error of the
// operation.
func answerOp(open func(engines.Config) (engines.Engine, error)) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a AnswerArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("answer: %w", err)
		}
		var forced *abi.Profile
		if a.ABI != "" && a.ABI != "auto" {
			var err error
			if forced, err = abi.ProfileByName(a.ABI); err != nil {
				return nil, fmt.Errorf("answer: %w", err)
			}
		}
		f, err := plugindir.ReadWith(a.PluginDir, forced)
		if err != nil {
			return Answer{Error: err.Error()}, nil
		}
		eng, err := open(engines.Config{CacheDir: filepath.Join(a.TempDir, "cache-"+f.Manifest.Metadata.Name)})
		if err != nil {
			return nil, fmt.Errorf("answer: %w", err)
		}
		defer eng.Close(ctx)
		o := plugindir.Options{Logger: quietLogger, Storage: storage.NewMemory()}
		svc, err := f.Services(o)
		if err != nil {
			return Answer{Error: err.Error()}, nil
		}
		imp, count := bench.CountImports(svc)
		p, err := plugin.Load(ctx, eng, f.Wasm, f.Spec(imp, o))
		if err != nil {
			return Answer{Error: err.Error()}, nil
		}
		defer p.Close(ctx)
		count.Store(0) // an entrypoint's or initialize's host calls are not the request's
		r := a.Request
		resp, err := p.Handle(ctx, &abi.Request{Method: r.Method, Path: r.Path, Headers: r.Headers, Body: r.Body})
		if err != nil {
			return Answer{Error: err.Error(), HostCalls: int(count.Load())}, nil
		}
		return Answer{Status: resp.Status, Body: resp.Body, HostCalls: int(count.Load())}, nil
	}
}

// pluginRequests returns the requests of a run: those of the requests file
// (Options.Requests, else requests.yml beside plugin.yml when there is one)
// and a default request for each method of each route it does not name.
// file is the requests file read, or "".
func pluginRequests(o Options) (reqs []requests.Request, file string, err error) {
	forced, err := profileOf(o.ABI)
	if err != nil {
		return nil, "", err
	}
	f, err := plugindir.ReadWith(o.PluginDir, forced)
	if err != nil {
		return nil, "", fmt.Errorf("--plugin %s: %w", o.PluginDir, err)
	}
	file = o.Requests
	if file == "" {
		if p := filepath.Join(o.PluginDir, "requests.yml"); fileExists(p) {
			file = p
		}
	}
	if file == "" {
		return requests.Defaults(f.Routes()), "", nil
	}
	reqs, err = requests.Load(file, f.Routes())
	return reqs, file, err
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// RouteAnswers are the answers of the configurations of a run to one
// request, in the order of the run's configurations.
type RouteAnswers struct {
	Request requests.Request `json:"request"`
	Engines []string         `json:"engines"`
	Answers []Answer         `json:"answers"`
	// Differs names the configurations whose answer differs from the
	// first configuration's.
	Differs []string `json:"differs,omitempty"`
	// Failing names the configurations on which the request failed: an
	// error, or a status other than the one expected.
	Failing []string `json:"failing,omitempty"`
}

// failure says why an answer fails its request, or "".
func failure(r requests.Request, a Answer) string {
	switch {
	case a.Error != "":
		return a.Error
	case !r.StatusOK(a.Status):
		want := "2xx"
		if r.Status != 0 {
			want = fmt.Sprint(r.Status)
		}
		return fmt.Sprintf("status %d, want %s", a.Status, want)
	}
	return ""
}

// sameAnswer reports whether two configurations answered a request alike:
// both failed with an error, or both answered the same status and body (as
// JSON when the bodies are, without the request's volatile paths).
func sameAnswer(r requests.Request, a, b Answer) bool {
	if a.Error != "" || b.Error != "" {
		return a.Error != "" && b.Error != ""
	}
	return a.Status == b.Status && requests.Equal(a.Body, b.Body, r.Volatile)
}

// compareAnswers fills in the differences and failures of ra.
func compareAnswers(ra *RouteAnswers) {
	ra.Differs, ra.Failing = nil, nil
	for i, a := range ra.Answers {
		if failure(ra.Request, a) != "" {
			ra.Failing = append(ra.Failing, ra.Engines[i])
		}
		if i > 0 && !sameAnswer(ra.Request, ra.Answers[0], a) {
			ra.Differs = append(ra.Differs, ra.Engines[i])
		}
	}
}

// collectAnswers makes every request on every configuration and compares
// the answers. A worker that does not answer within AnswerTimeout is killed
// and the request fails on it.
func collectAnswers(ctx context.Context, runs []*engineRun, o Options, reqs []requests.Request, prog *Progress) ([]RouteAnswers, error) {
	var out []RouteAnswers
	for _, r := range reqs {
		ra := RouteAnswers{Request: r}
		for _, run := range runs {
			w, ok := run.w.(answerWorker)
			if !ok {
				continue
			}
			prog.step(fmt.Sprintf("answers · %s · %s", run.name, r.Name()))
			began := time.Now()
			cctx, cancel := context.WithTimeout(ctx, AnswerTimeout)
			a, err := w.Answer(cctx, AnswerArgs{PluginDir: o.PluginDir, ABI: o.ABI, TempDir: run.tmp, Request: r})
			cancel()
			run.spend("answers", began)
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			if err != nil {
				if _, died := errDied(err); died && cctx.Err() != nil {
					err = fmt.Errorf("no answer within %s: worker killed (%w)", AnswerTimeout, err)
				}
				a = Answer{Error: err.Error()}
			}
			ra.Engines = append(ra.Engines, run.name)
			ra.Answers = append(ra.Answers, a)
		}
		if len(ra.Engines) == 0 {
			return nil, nil
		}
		compareAnswers(&ra)
		out = append(out, ra)
	}
	return out, nil
}

// writeAnswers writes AnswersFile and AnswersJSON into dir.
func writeAnswers(dir, file string, as []RouteAnswers) error {
	if err := writeJSON(filepath.Join(dir, AnswersJSON), as); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, AnswersFile), []byte(answersMarkdown(file, as)), 0o644)
}

// answersMarkdown is AnswersFile: a table of status, size and host calls
// per request and configuration, then each difference with both bodies and
// each failure with its error.
func answersMarkdown(file string, as []RouteAnswers) string {
	var b strings.Builder
	src := "a request per route and method with an empty body, expecting 2xx (no requests.yml)"
	if file != "" {
		src = "requests from " + file + "; routes it does not name get one per method with an empty body"
	}
	fmt.Fprintf(&b, "Each route of the plugin answered, on each configuration, a request made on a fresh instance and store: %s.\n\n", src)
	if len(as) == 0 {
		b.WriteString("No request was made.\n")
		return b.String()
	}
	b.WriteString("| request |")
	for _, e := range as[0].Engines {
		b.WriteString(" " + e + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(as[0].Engines)) + "\n")
	differ, failing := 0, 0
	for _, ra := range as {
		b.WriteString("| " + ra.Request.Name() + " |")
		for i, a := range ra.Answers {
			cell := fmt.Sprintf("%d, %d B, %d host calls", a.Status, len(a.Body), a.HostCalls)
			if a.Error != "" {
				cell = "error"
			}
			if failure(ra.Request, a) != "" {
				cell += " **failing**"
			}
			if i > 0 && containsStr(ra.Differs, ra.Engines[i]) {
				cell += " **differs**"
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
		if len(ra.Differs) > 0 {
			differ++
		}
		if len(ra.Failing) > 0 {
			failing++
		}
	}
	b.WriteString("\n")
	switch differ {
	case 0:
		b.WriteString("Every configuration gave the same answers")
		if len(as[0].Engines) == 1 {
			b.WriteString(" (only one configuration: nothing to compare)")
		}
		b.WriteString(".\n\n")
	default:
		fmt.Fprintf(&b, "### Differences\n\n%d of %d requests were answered differently:\n\n", differ, len(as))
		for _, ra := range as {
			for i := range ra.Answers {
				if i == 0 || !containsStr(ra.Differs, ra.Engines[i]) {
					continue
				}
				fmt.Fprintf(&b, "- %s: %s and %s differ", ra.Request.Name(), ra.Engines[0], ra.Engines[i])
				if len(ra.Request.Volatile) > 0 {
					fmt.Fprintf(&b, " (volatile fields ignored: %s)", strings.Join(ra.Request.Volatile, ", "))
				}
				b.WriteString(":\n")
				for _, j := range []int{0, i} {
					fmt.Fprintf(&b, "\n  %s: %s\n\n  ```\n  %s\n  ```\n", ra.Engines[j], answerHead(ra.Answers[j]), answerBody(ra.Answers[j]))
				}
				b.WriteString("\n")
			}
		}
	}
	if failing > 0 {
		b.WriteString("### Failing requests\n\n")
		for _, ra := range as {
			for i, a := range ra.Answers {
				if why := failure(ra.Request, a); why != "" {
					fmt.Fprintf(&b, "- %s on %s: %s\n", ra.Request.Name(), ra.Engines[i], oneLine(why))
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func answerHead(a Answer) string {
	if a.Error != "" {
		return "error: " + oneLine(a.Error)
	}
	return fmt.Sprintf("status %d, %d bytes", a.Status, len(a.Body))
}

// answerBody is a body as answers.md shows it: at most 2 KiB, indented
// under its list item.
func answerBody(a Answer) string {
	s := string(a.Body)
	if len(s) > 2048 {
		s = s[:2048] + "…"
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "```", "`\u200b``"), "\n", "\n  ")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func containsStr(xs []string, x string) bool { return slices.Contains(xs, x) }
