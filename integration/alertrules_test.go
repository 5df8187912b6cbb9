package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The alerting rules shipped for syncwatch itself and their promtool unit
// tests (docs/prometheus/README.md).
var (
	alertRulesFile = filepath.Join("docs", "prometheus", "syncwatch-rules.yaml")
	alertTestsFile = filepath.Join("docs", "prometheus", "syncwatch-rules.test.yaml")
	alertDocFile   = filepath.Join("docs", "prometheus", "README.md")
)

// promtoolBinary finds promtool, which Debian ships in the prometheus
// package: requireTool's skip would name the wrong package.
func promtoolBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err == nil || os.Getenv("CI") != "" {
		return requireTool(t, "promtool") // fails in CI when missing
	}
	t.Skip("promtool is not installed (apt-get install prometheus); skipping")
	return ""
}

// TestAlertRules: the rules load (promtool check rules), their unit tests
// pass (promtool test rules), every alert has a test where it fires and
// one where it does not, and every syncwatch_* metric and label the rules
// name is one cmd/ingest exports.
func TestAlertRules(t *testing.T) {
	root := repoRoot()
	rules := readAlertRules(t, filepath.Join(root, alertRulesFile))
	require.NotEmpty(t, rules)

	t.Run("promtool", func(t *testing.T) {
		promtool := promtoolBinary(t)
		cmd := exec.Command(promtool, "check", "rules", alertRulesFile)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool check rules:\n%s", out)
		require.Contains(t, string(out), fmt.Sprintf("SUCCESS: %d rules found", len(rules)), "promtool check rules:\n%s", out)

		cmd = exec.Command(promtool, "test", "rules", alertTestsFile)
		cmd.Dir = root
		out, err = cmd.CombinedOutput()
		require.NoError(t, err, "promtool test rules:\n%s", out)
		require.Regexp(t, `(?m)^\s*SUCCESS\s*$`, string(out), "promtool test rules:\n%s", out)
		require.NotContains(t, string(out), "FAILED", "promtool test rules:\n%s", out)
		t.Logf("promtool check rules: %d rules; promtool test rules: SUCCESS", len(rules))
	})

	t.Run("each alert tested firing and silent", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(root, alertTestsFile))
		require.NoError(t, err)
		var tf struct {
			RuleFiles []string `yaml:"rule_files"`
			Tests     []struct {
				AlertRuleTest []struct {
					Alertname string           `yaml:"alertname"`
					ExpAlerts []map[string]any `yaml:"exp_alerts"`
				} `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		require.NoError(t, yaml.Unmarshal(b, &tf))
		require.Equal(t, []string{filepath.Base(alertRulesFile)}, tf.RuleFiles, "the tests load the shipped rules")
		firing, silent := map[string]int{}, map[string]int{}
		for _, tc := range tf.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname]++
				} else {
					silent[a.Alertname]++
				}
			}
		}
		for _, r := range rules {
			require.Positive(t, firing[r.Alert], "%s: no test case where it fires", r.Alert)
			require.Positive(t, silent[r.Alert], "%s: no test case where it stays silent (exp_alerts: [])", r.Alert)
		}
	})

	t.Run("labels and annotations", func(t *testing.T) {
		doc, err := os.ReadFile(filepath.Join(root, alertDocFile))
		require.NoError(t, err)
		for _, r := range rules {
			require.NotEmpty(t, r.For, "%s: a for: duration, so one bad scrape does not page", r.Alert)
			require.Contains(t, []string{"critical", "warning"}, r.Labels["severity"], "%s: severity", r.Alert)
			require.NotEmpty(t, r.Annotations["summary"], "%s: summary", r.Alert)
			require.Contains(t, r.Annotations["description"], "docs/prometheus/README.md#"+strings.ToLower(r.Alert),
				"%s: the description links its section of the docs", r.Alert)
			require.Regexp(t, `(?m)^#+ `+regexp.QuoteMeta(r.Alert)+`$`, string(doc), "%s has a section in %s", r.Alert, alertDocFile)
		}
	})

	t.Run("metrics exported by ingest", func(t *testing.T) {
		exported := ingestMetricLabels(t, filepath.Join(root, "cmd", "ingest"))
		for _, name := range []string{"syncwatch_source_ready", "syncwatch_records_in_total", "syncwatch_dead_letters_total"} {
			require.Contains(t, exported, name, "reading the metric names out of cmd/ingest")
		}
		var exprs []string
		for _, r := range rules {
			exprs = append(exprs, r.Expr)
		}
		require.Empty(t, unexportedInRules(exprs, exported), "the rules name metrics or labels cmd/ingest does not export")
		used := map[string]bool{}
		for _, e := range exprs {
			for _, m := range metricNameRe.FindAllString(e, -1) {
				used[m] = true
			}
		}
		t.Logf("the rules use %d of the %d syncwatch_* metrics cmd/ingest exports", len(used), len(exported))

		// The check itself catches a misspelt metric and a label no
		// metric has.
		bad := unexportedInRules([]string{
			`rate(syncwatch_record_in_total[5m]) > 0`,
			`sum by (job, producer) (rate(syncwatch_dead_letters_total{producer="x"}[5m]))`,
		}, exported)
		require.Len(t, bad, 3, "problems found in wrong rules: %v", bad)
	})
}

// alertRule is the part of a Prometheus alerting rule the test reads.
type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readAlertRules(t *testing.T, path string) []alertRule {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &f))
	var out []alertRule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "only alerting rules: %q", r.Expr)
			out = append(out, r)
		}
	}
	return out
}

var (
	metricNameRe = regexp.MustCompile(`syncwatch_[a-z_]+`)
	// prometheus.NewDesc("name", "help", []string{"label", ...} or nil, ...)
	newDescRe = regexp.MustCompile(`prometheus\.NewDesc\(\s*"(syncwatch_[a-z_]+)",\s*"(?:[^"\\]|\\.)*",\s*(?:\[\]string\{([^}]*)\}|nil)`)
	// a selector's matchers: name{label="v", label2=~"w"}
	selectorRe = regexp.MustCompile(`(syncwatch_[a-z_]+)\{([^}]*)\}`)
	matcherRe  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"`)
	// by (...), without (...), on (...), ignoring (...), group_left (...)
	groupingRe = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
)

// ingestMetricLabels reads the syncwatch_* metrics cmd/ingest declares
// (its non-test Go sources' prometheus.NewDesc calls) with their labels.
func ingestMetricLabels(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	out := map[string][]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range newDescRe.FindAllStringSubmatch(string(b), -1) {
			var labels []string
			for _, l := range strings.Split(m[2], ",") {
				if l = strings.Trim(strings.TrimSpace(l), `"`); l != "" {
					labels = append(labels, l)
				}
			}
			out[m[1]] = labels
		}
	}
	return out
}

// unexportedInRules lists what the expressions name that ingest does not
// export: a syncwatch_* metric, a label in a syncwatch_* selector that the
// metric lacks, or a label in a grouping clause that none of the
// expression's metrics has (job and instance come from the scrape).
func unexportedInRules(exprs []string, exported map[string][]string) []string {
	var problems []string
	for _, e := range exprs {
		allowed := map[string]bool{"job": true, "instance": true}
		for _, name := range metricNameRe.FindAllString(e, -1) {
			labels, ok := exported[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: not exported by cmd/ingest (in %q)", name, e))
			}
			for _, l := range labels {
				allowed[l] = true
			}
		}
		for _, s := range selectorRe.FindAllStringSubmatch(e, -1) {
			labels, ok := exported[s[1]]
			if !ok {
				continue // reported above
			}
			for _, m := range matcherRe.FindAllStringSubmatch(s[2], -1) {
				if !slices.Contains(labels, m[1]) && m[1] != "job" && m[1] != "instance" {
					problems = append(problems, fmt.Sprintf("%s has no label %q (in %q)", s[1], m[1], e))
				}
			}
		}
		for _, g := range groupingRe.FindAllStringSubmatch(e, -1) {
			for _, l := range strings.Split(g[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !allowed[l] {
					problems = append(problems, fmt.Sprintf("label %q: no metric of %q has it", l, e))
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}
