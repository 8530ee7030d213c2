package runner

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Progress shows where a long run is: on a terminal, one line redrawn in
// place with a bar and an estimate of the time left; elsewhere, one line per
// step.
type Progress struct {
	w     io.Writer
	tty   bool
	total int
	n     int
	began time.Time
	width int
}

// NewProgress returns a progress display writing to w.
func NewProgress(w io.Writer) *Progress {
	p := &Progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *Progress) start(total int) { p.total, p.n, p.began = total, 0, time.Now() }

func (p *Progress) tick(label string) {
	p.n++
	if !p.tty {
		fmt.Fprintf(p.w, "[%d/%d] %s\n", p.n, p.total, label)
		return
	}
	frac := float64(p.n-1) / float64(max(p.total, 1))
	const barWidth = 24
	filled := int(frac * barWidth)
	eta := ""
	if p.n > 1 {
		left := time.Duration(float64(time.Since(p.began)) / frac * (1 - frac))
		eta = " · " + left.Round(time.Second).String() + " left"
	}
	line := fmt.Sprintf("[%s%s] %3.0f%% %s%s", strings.Repeat("█", filled), strings.Repeat("·", barWidth-filled), frac*100, label, eta)
	p.clear()
	fmt.Fprint(p.w, line)
	p.width = len([]rune(line))
}

func (p *Progress) clear() {
	if p.tty && p.width > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.width)+"\r")
		p.width = 0
	}
}

func (p *Progress) done() { p.clear() }

func (p *Progress) step(msg string) { p.logf("%s", msg) }

func (p *Progress) logf(format string, args ...any) {
	p.clear()
	fmt.Fprintf(p.w, format+"\n", args...)
}
