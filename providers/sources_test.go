package providers_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/connectkit/connect/providers"
)

// TestSources holds testdata/sources.tsv, the record of where the catalog disagrees with other
// public catalogs and which entries rest on them alone, to its form: every row names a
// provider of the catalog, a source and how it was settled (the documentation that decided,
// or why it does not matter), and fewer than 5% of the catalog's entries rest on secondary
// sources only.
func TestSources(t *testing.T) {
	f, err := os.Open("testdata/sources.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := providers.Default()
	secondary, rows := map[string]bool{}, 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		rows++
		cols := strings.Split(text, "\t")
		if len(cols) != 6 {
			t.Errorf("line %d: %d columns, want 6: provider, fact, ours, other, other source, settled by", line, len(cols))
			continue
		}
		provider, fact, source, settled := cols[0], cols[1], cols[4], cols[5]
		if _, ok := r.Lookup(provider); !ok {
			t.Errorf("line %d: %s is not a provider of the catalog", line, provider)
		}
		if fact == "" || settled == "" {
			t.Errorf("line %d: fact and settled by may not be empty", line)
		}
		if source != "nango" && source != "amp-labs" && source != "nango,amp-labs" {
			t.Errorf("line %d: other source %q, want nango, amp-labs or nango,amp-labs", line, source)
		}
		switch {
		case fact == "*" && settled != "secondary only":
			t.Errorf("line %d: a row for a whole entry says it rests on secondary sources only", line)
		case fact == "*":
			secondary[provider] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows == 0 {
		t.Fatal("no rows")
	}
	if limit := r.Len() / 20; len(secondary) >= limit {
		t.Errorf("%d entries rest on secondary sources only, want fewer than %d (5%% of %d)", len(secondary), limit, r.Len())
	}
}
