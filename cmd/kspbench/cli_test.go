package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// help runs kspbench with args and returns what it printed on stdout.
func help(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := kspbench(context.Background(), nil, &stdout, &stderr, args); err != nil {
		t.Fatalf("kspbench %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// TestHelpOfEveryCommand checks that every command's --help shows an example
// and each of its flags with two dashes.
func TestHelpOfEveryCommand(t *testing.T) {
	root := newRoot(nil, &bytes.Buffer{}, &bytes.Buffer{}, []string{})
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			out := help(t, c.name, "--help")
			if !strings.Contains(out, "Usage:\n  kspbench "+c.name) || !strings.Contains(out, "Examples:\n  ") {
				t.Errorf("kspbench %s --help: no usage line or no Examples section:\n%s", c.name, out)
			}
			cmd, _, err := root.Find([]string{c.name})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range flagNames(cmd.Flags()) {
				if !strings.Contains(out, "--"+name+" ") {
					t.Errorf("kspbench %s --help does not show --%s:\n%s", c.name, name, out)
				}
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.Count(line, "(default") > 1 {
					t.Errorf("kspbench %s --help gives a flag two defaults: %s", c.name, strings.TrimSpace(line))
				}
			}
		})
	}
	if out := help(t, "--help"); !strings.Contains(out, "completion") || !strings.Contains(out, "run ") || strings.Contains(out, "\n  worker ") {
		t.Errorf("kspbench --help: want the commands and completion, not the hidden worker:\n%s", out)
	}
}

func TestHelpRun(t *testing.T) {
	out := help(t, "help", "run")
	for _, want := range []string{"kspbench run [flags]", "--engines string", "--quick", "--bench string", "kspbench run --quick"} {
		if !strings.Contains(out, want) {
			t.Errorf("kspbench help run: no %q:\n%s", want, out)
		}
	}
	if short := help(t, "run", "-h"); short != out {
		t.Errorf("kspbench run -h differs from kspbench help run")
	}
}

func TestVersionFlag(t *testing.T) {
	want := help(t, "version")
	if !strings.HasPrefix(want, "kspbench ") || !strings.HasSuffix(want, ")\n") || strings.Count(want, "\n") != 1 {
		t.Errorf("kspbench version = %q", want)
	}
	if got := help(t, "--version"); got != want {
		t.Errorf("kspbench --version = %q, want %q (kspbench version)", got, want)
	}
}

func TestCompletionBash(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if out := help(t, "completion", shell); !strings.Contains(out, "kspbench") {
			t.Errorf("kspbench completion %s: %d bytes without kspbench", shell, len(out))
		}
	}
	// Flags complete: cobra's __complete lists run's flags.
	if out := help(t, "__complete", "run", "--eng"); !strings.Contains(out, "--engines") {
		t.Errorf("completion of run --eng: %q", out)
	}
}

// TestFlagErrors checks that an error is one line naming the command, with no
// usage dump, and that a single-dash long flag says to use two dashes.
func TestBadFlagsAndArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--no-such-flag"}, "run: unknown flag: --no-such-flag"},
		{[]string{"run", "-engines", "wazero"}, "long flags take two dashes: --engines"},
		{[]string{"engines", "extra"}, `engines: unexpected argument "extra"`},
		{[]string{"no-such-command"}, `unknown command "no-such-command"`},
		{[]string{}, "no command"},
		{[]string{"run", "--plugin", "/no/such/folder"}, "/no/such/folder"},
	} {
		var stdout, stderr bytes.Buffer
		err := kspbench(context.Background(), nil, &stdout, &stderr, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("kspbench %v: error %v, want %q", tc.args, err, tc.want)
		}
		if len(tc.args) > 0 && (stdout.Len() != 0 || stderr.Len() != 0) {
			t.Errorf("kspbench %v printed a usage: %q %q", tc.args, stdout.String(), stderr.String())
		}
	}
}

// TestRunFlagsFailBeforeAnyReportFolder checks that a bad run leaves no
// report folder behind.
func TestRunFlagsFailBeforeAnyReportFolder(t *testing.T) {
	out := t.TempDir() + "/reports"
	for _, bad := range [][]string{{"--plugin", "/no/such/folder"}, {"--bench", "NoSuchWorkload"}} {
		err := kspbench(context.Background(), nil, &bytes.Buffer{}, &bytes.Buffer{}, append([]string{"run", "--out", out}, bad...))
		if err == nil {
			t.Errorf("run %v: no error", bad)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("run %v: %s exists (%v)", bad, out, err)
		}
	}
}

func flagNames(fs interface {
	VisitAll(func(*pflag.Flag))
}) []string {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}
