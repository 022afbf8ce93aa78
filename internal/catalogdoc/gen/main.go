// Command gen writes the catalog page, docs/providers.md, from the embedded catalog. It is run
// by `go generate ./providers`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/connectkit/connect/internal/catalogdoc"
	"github.com/connectkit/connect/providers"
)

func main() {
	out := flag.String("o", "docs/providers.md", "the file to write")
	flag.Parse()
	if err := os.WriteFile(*out, []byte(catalogdoc.Render(providers.Default())), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
