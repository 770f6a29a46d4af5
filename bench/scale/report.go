package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The tables are markdown, ready for bench/README.md.

func mib(b int64) string {
	if b <= 0 {
		return "–"
	}
	if b >= 10<<30 {
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func human(b int64) string {
	switch {
	case b <= 0:
		return "–"
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
}

func dur(d time.Duration) string {
	switch {
	case d < 0:
		return "n/a"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

func perItem(b int64, n int) string {
	if b <= 0 || n <= 0 {
		return "–"
	}
	v := float64(b) / float64(n)
	if v >= 1024 {
		return fmt.Sprintf("%.1f KiB/item", v/1024)
	}
	return fmt.Sprintf("%.0f B/item", v)
}

func itemsPerSec(r stageResult) string {
	if !r.OK || r.Wall <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", float64(r.Items)/r.Wall.Seconds())
}

// procNames lists the processes of a result: workers, api, bench.
func procNames(r stageResult) []string {
	var names []string
	for n := range r.PeakRSS {
		if n != "api" && n != "bench" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return append(names, "api", "bench")
}

func maxWorkerRSS(r stageResult) int64 {
	var m int64
	for n, v := range r.PeakRSS {
		if n != "api" && n != "bench" {
			m = max(m, v)
		}
	}
	return m
}

func sizeTables(n int, res []stageResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### %s items (%s movies, %s artworks)\n\n", num(n), num(n/2), num(n-n/2))
	if len(res) == 0 {
		b.WriteString("no stage measured\n")
		return b.String()
	}
	b.WriteString("| stage | wall time | items/s | failed attempts | max attempt | publish | API reload | warehouse | MySQL |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res {
		status := ""
		if !r.OK {
			status = " **FAILED**"
		}
		reload := dur(r.Reload)
		if r.Load > 0 {
			reload += fmt.Sprintf(" (load %s)", dur(r.Load))
		}
		fmt.Fprintf(&b, "| %s%s | %s | %s | %d | %d | %s | %s | %s | %s |\n", r.Stage, status, dur(r.Wall), itemsPerSec(r),
			r.FailedAttempts, r.MaxAttempt, dur(r.Publish), reload, human(r.WarehouseBytes), human(r.MySQLBytes))
	}

	names := procNames(res[0])
	fmt.Fprintf(&b, "\nPeak RSS during the stage (and per item):\n\n| stage | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for _, r := range res {
		cells := make([]string, len(names))
		for i, name := range names {
			cells[i] = fmt.Sprintf("%s (%s)", mib(r.PeakRSS[name]), perItem(r.PeakRSS[name], r.Items))
		}
		fmt.Fprintf(&b, "| %s | %s |\n", r.Stage, strings.Join(cells, " | "))
	}

	b.WriteString("\nActivities (final attempts; total is the sum of their run times, so it exceeds the wall time when they run in parallel):\n\n| stage | activity | runs | total | longest |\n|---|---|---|---|---|\n")
	for _, r := range res {
		for _, a := range r.Activities {
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", r.Stage, a.Name, a.Count, dur(a.Total), dur(a.Max))
		}
	}

	b.WriteString("\nLargest tables after the stage:\n\n| stage | warehouse (PostgreSQL) | serving (MySQL) |\n|---|---|---|\n")
	for _, r := range res {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.Stage, tables(r.PGTables), tables(r.MyTables))
	}

	var fails []string
	for _, r := range res {
		keys := make([]string, 0, len(r.Failures))
		for k := range r.Failures {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fails = append(fails, fmt.Sprintf("- %s: %d× %s", r.Stage, r.Failures[k], k))
		}
		if r.WorkflowTaskFail > 0 {
			fails = append(fails, fmt.Sprintf("- %s: %d workflow task failures or timeouts", r.Stage, r.WorkflowTaskFail))
		}
		if r.Error != "" {
			fails = append(fails, fmt.Sprintf("- %s: **workflow failed**: %s", r.Stage, r.Error))
		}
	}
	if len(fails) > 0 {
		b.WriteString("\nFailed attempts:\n\n" + strings.Join(fails, "\n") + "\n")
	} else {
		b.WriteString("\nNo failed activity attempts.\n")
	}
	b.WriteString("\nResults:\n\n")
	for _, r := range res {
		fmt.Fprintf(&b, "- %s: %s\n", r.Stage, r.Detail)
	}
	return b.String()
}

func tables(ts []tableSize) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s %s", t.Name, human(t.Bytes))
	}
	return strings.Join(parts, ", ")
}

func num(n int) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func growth(cur, prev float64) string {
	if cur <= 0 || prev <= 0 {
		return "–"
	}
	return fmt.Sprintf("×%.1f", cur/prev)
}

// overallTable has one row per (size, stage) with growth factors against the previous
// measured size of the same stage.
func overallTable(all []stageResult) string {
	if len(all) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n### All sizes (× is the growth against the previous size; near-linear is the size ratio)\n\n")
	b.WriteString("| items | stage | wall time | × | items/s | failed attempts | max worker RSS | × | API RSS | bench+Temporal RSS | warehouse | × | MySQL | × |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	prev := map[string]stageResult{}
	for _, r := range all {
		p, ok := prev[r.Stage]
		g := func(cur, old float64) string {
			if !ok {
				return "–"
			}
			return growth(cur, old)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			num(r.Items), r.Stage, dur(r.Wall), g(r.Wall.Seconds(), p.Wall.Seconds()), itemsPerSec(r), r.FailedAttempts,
			mib(maxWorkerRSS(r)), g(float64(maxWorkerRSS(r)), float64(maxWorkerRSS(p))),
			mib(r.PeakRSS["api"]), mib(r.PeakRSS["bench"]),
			human(r.WarehouseBytes), g(float64(r.WarehouseBytes), float64(p.WarehouseBytes)),
			human(r.MySQLBytes), g(float64(r.MySQLBytes), float64(p.MySQLBytes)))
		prev[r.Stage] = r
	}
	return b.String()
}
