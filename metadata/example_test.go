package metadata_test

import (
	"errors"
	"fmt"

	"github.com/connectkit/connect/metadata"
)

func ExampleParseTemplate() {
	inputs := []metadata.Input{{Name: "workspace", Kind: metadata.DNSLabel}}
	tmpl, err := metadata.ParseTemplate(
		"https://{{workspace}}.zendesk.com/oauth/authorizations/new",
		inputs,
		metadata.Hosts{"*.zendesk.com"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tmpl.Placeholders())

	// A value is checked and put in canonical form before it reaches the URL.
	u, err := tmpl.Render(metadata.Values{"workspace": "ACME"})
	fmt.Println(u, err)

	// A value that would move the URL to another host is refused, and the error names
	// the input, never the value.
	_, err = tmpl.Render(metadata.Values{"workspace": "evil.com#"})
	var ve *metadata.ValueError
	fmt.Println(errors.As(err, &ve), ve.Input, errors.Is(err, metadata.ErrInvalidValue))

	// Output:
	// [workspace]
	// https://acme.zendesk.com/oauth/authorizations/new <nil>
	// true workspace true
}

func ExampleInput_Normalize() {
	in := metadata.Input{Name: "accountId", UnderscoreToHyphen: true}
	if err := in.Compile(); err != nil {
		fmt.Println(err)
		return
	}
	v, err := in.Normalize("1234567_SB1")
	fmt.Println(v, err)
	_, err = in.Normalize("")
	fmt.Println(errors.Is(err, metadata.ErrMissing))

	// Output:
	// 1234567-sb1 <nil>
	// true
}
