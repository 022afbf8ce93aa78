package providers_test

import (
	"bufio"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/connectkit/connect/providers"
)

// record is one line of a tab-separated file under testdata, with its line number.
type record struct {
	line int
	cols []string
}

// readRows reads a tab-separated record, skipping blank lines and # comments, and reports
// each row that has not the wanted number of columns.
func readRows(t *testing.T, path string, want int, names string) []record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []record
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) != want {
			t.Errorf("%s:%d: %d columns, want %d: %s", path, line, len(cols), want, names)
			continue
		}
		rows = append(rows, record{line, cols})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// secondaryOnly reads testdata/sources.tsv and returns the entries it says rest on other
// catalogs only.
func secondaryOnly(t *testing.T, r *providers.Registry) map[string]bool {
	t.Helper()
	secondary, seen := map[string]bool{}, map[[3]string]int{}
	rows := readRows(t, "testdata/sources.tsv", 6, "provider, fact, ours, other, other source, settled by")
	if len(rows) == 0 {
		t.Fatal("sources.tsv: no rows")
	}
	for _, row := range rows {
		provider, fact, source, settled := row.cols[0], row.cols[1], row.cols[4], row.cols[5]
		if _, ok := r.Lookup(provider); !ok {
			t.Errorf("sources.tsv:%d: %s is not a provider of the catalog", row.line, provider)
		}
		if first, ok := seen[[3]string{provider, fact, source}]; ok {
			t.Errorf("sources.tsv:%d: %s's %s against %s is settled on line %d already", row.line, provider, fact, source, first)
		}
		seen[[3]string{provider, fact, source}] = row.line
		if fact == "" || settled == "" {
			t.Errorf("sources.tsv:%d: fact and settled by may not be empty", row.line)
		}
		if source != "nango" && source != "amp-labs" && source != "nango,amp-labs" {
			t.Errorf("sources.tsv:%d: other source %q, want nango, amp-labs or nango,amp-labs", row.line, source)
		}
		switch {
		case fact == "*" && settled != "secondary only":
			t.Errorf("sources.tsv:%d: a row for a whole entry says it rests on secondary sources only", row.line)
		case fact == "*":
			secondary[provider] = true
		}
	}
	return secondary
}

// TestSources holds testdata/sources.tsv, the record of where the catalog disagrees with other
// public catalogs and which entries rest on them alone, to its form: every row names a
// provider of the catalog, a source and how it was settled (the documentation that decided,
// or why it does not matter). TestConfirmed holds the share of entries resting on other
// sources.
func TestSources(t *testing.T) {
	secondaryOnly(t, providers.Default())
}

// The groups of facts testdata/confirmed.tsv records as read on a provider's documentation.
const (
	factOAuth      = "oauth"      // the authorize and token endpoints, and the rules of the flow
	factAPI        = "api"        // the API's base URL and how each credential is sent
	factVerify     = "verify"     // the verification request
	factRevocation = "revocation" // the revocation endpoint
)

// groups parses a comma list of groups of facts, reporting any not in the list above.
func groups(t *testing.T, file string, line int, list string) []string {
	t.Helper()
	var out []string
	for fact := range strings.SplitSeq(list, ",") {
		switch fact {
		case factOAuth, factAPI, factVerify, factRevocation:
			out = append(out, fact)
		default:
			t.Errorf("%s:%d: fact %q, want %s, %s, %s or %s", file, line, fact, factOAuth, factAPI, factVerify, factRevocation)
		}
	}
	return out
}

// needs lists the groups of facts an entry states, each of which a page must confirm.
func needs(p *providers.Provider) []string {
	var groups []string
	if p.AuthURL != "" || p.TokenURL != "" {
		groups = append(groups, factOAuth)
	}
	if p.API != nil {
		groups = append(groups, factAPI)
		if p.API.Verify != nil {
			groups = append(groups, factVerify)
		}
	}
	if p.RevocationURL != "" {
		groups = append(groups, factRevocation)
	}
	return groups
}

// codeHosts are where a provider's own OpenAPI descriptions, SDKs and documentation sources are
// published, besides its documentation site.
var codeHosts = []string{"github.com", "raw.githubusercontent.com", "www.npmjs.com", "pkg.go.dev"}

// docsHosts returns the hosts of an entry's documentation links.
func docsHosts(p *providers.Provider) []string {
	links := []string{p.Docs, p.RevocationDocs}
	if p.API != nil {
		links = append(links, p.API.Docs)
		if p.API.Verify != nil {
			links = append(links, p.API.Verify.Docs)
		}
	}
	var hosts []string
	for _, link := range links {
		if u, err := url.Parse(link); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
}

// TestConfirmed holds the catalog to testdata/confirmed.tsv, the record of the provider
// documentation each entry's facts were read on: every entry but those sources.tsv says rest
// on other catalogs only has each group of facts it states (its OAuth flow, its API and
// credential placement, its verification request, its revocation endpoint) confirmed by a
// page of the provider's own documentation. A page is the provider's own when it is on the
// host of one of the entry's documentation links, so a fact read elsewhere moves the entry's
// link to where it was read; or in the provider's own repository or package (an OpenAPI
// description, an official SDK, the source of its documentation site) on GitHub, npm or the
// Go module proxy. The groups no such page has confirmed yet are listed, each with what was
// tried, in testdata/unconfirmed.tsv, which may list nothing that is confirmed. Those
// entries and the ones resting on other catalogs only are fewer than 5% of the catalog.
func TestConfirmed(t *testing.T) {
	r := providers.Default()
	secondary := secondaryOnly(t, r)
	confirmed := map[string]map[string]bool{}
	rows := readRows(t, "testdata/confirmed.tsv", 3, "provider, facts, page")
	if len(rows) == 0 {
		t.Fatal("confirmed.tsv: no rows")
	}
	for _, row := range rows {
		name, facts, page := row.cols[0], row.cols[1], row.cols[2]
		p, ok := r.Lookup(name)
		if !ok {
			t.Errorf("confirmed.tsv:%d: %s is not a provider of the catalog", row.line, name)
			continue
		}
		u, err := url.Parse(page)
		switch {
		case err != nil || u.Scheme != "https" || u.Host == "":
			t.Errorf("confirmed.tsv:%d: page %q is not an https URL", row.line, page)
			continue
		case !slices.Contains(codeHosts, u.Host) && !slices.Contains(docsHosts(p), u.Host):
			t.Errorf("confirmed.tsv:%d: %s: page host %s is none of the entry's documentation hosts %v", row.line, name, u.Host, docsHosts(p))
		}
		if confirmed[name] == nil {
			confirmed[name] = map[string]bool{}
		}
		for _, fact := range groups(t, "confirmed.tsv", row.line, facts) {
			confirmed[name][fact] = true
		}
	}
	waiting := map[string]map[string]bool{}
	for _, row := range readRows(t, "testdata/unconfirmed.tsv", 3, "provider, facts, what was tried") {
		name, facts := row.cols[0], row.cols[1]
		p, ok := r.Lookup(name)
		if !ok {
			t.Errorf("unconfirmed.tsv:%d: %s is not a provider of the catalog", row.line, name)
			continue
		}
		switch {
		case secondary[name]:
			t.Errorf("unconfirmed.tsv:%d: sources.tsv says %s rests on secondary sources only", row.line, name)
		case waiting[name] != nil:
			t.Errorf("unconfirmed.tsv:%d: %s has a row already", row.line, name)
		}
		waiting[name] = map[string]bool{}
		for _, fact := range groups(t, "unconfirmed.tsv", row.line, facts) {
			switch {
			case !slices.Contains(needs(p), fact):
				t.Errorf("unconfirmed.tsv:%d: %s states no %q facts", row.line, name, fact)
			case confirmed[name][fact]:
				t.Errorf("unconfirmed.tsv:%d: %s's %s facts are confirmed: remove them here", row.line, name, fact)
			}
			waiting[name][fact] = true
		}
	}
	for _, name := range r.Names() {
		p, _ := r.Lookup(name)
		if secondary[name] {
			continue
		}
		for _, group := range needs(p) {
			if !confirmed[name][group] && !waiting[name][group] {
				t.Errorf("%s: its %s facts are confirmed on no page of its documentation, and unconfirmed.tsv does not say so", name, group)
			}
		}
	}
	if n, limit := len(waiting)+len(secondary), r.Len()/20; n >= limit {
		t.Errorf("%d entries have facts no page of their documentation confirms and %d rest on secondary sources only: "+
			"%d in all, want fewer than %d (5%% of %d)", len(waiting), len(secondary), n, limit, r.Len())
	}
}
