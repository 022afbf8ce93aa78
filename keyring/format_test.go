package keyring_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/connectkit/connect/keyring"
)

func TestPrintingShowsNoKeyBytes(t *testing.T) {
	keys := map[string][]byte{"k1": testKey("k1"), "k2": testKey("k2")}
	k, err := keyring.New("k2", keys)
	if err != nil {
		t.Fatal(err)
	}
	type holder struct {
		Exported   *keyring.Keyring
		unexported *keyring.Keyring
		Value      keyring.Keyring
	}
	var logText, logJSON bytes.Buffer
	slog.New(slog.NewTextHandler(&logText, nil)).Info("keys", "keyring", k)
	slog.New(slog.NewJSONHandler(&logJSON, nil)).Info("keys", "keyring", k)
	// A keyring inside a payload someone marshals, e.g. a config dump.
	jsonOut, err := json.Marshal(map[string]any{"keyring": k, "value": *k})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"slog text":  logText.String(),
		"slog JSON":  logJSON.String(),
		"JSON":       string(jsonOut),
		"holder %v":  fmt.Sprintf("%v", holder{k, k, *k}),
		"holder %+v": fmt.Sprintf("%+v", holder{k, k, *k}),
		"holder %#v": fmt.Sprintf("%#v", holder{k, k, *k}),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%10.3v", "%-+#v", "%40s", "%-40v", "%e", "%t"} {
		outputs["pointer "+verb] = fmt.Sprintf(verb, k)
		outputs["value "+verb] = fmt.Sprintf(verb, *k)
		outputs["slice "+verb] = fmt.Sprintf(verb, []any{k, *k})
	}
	outputs["Sprint"] = fmt.Sprint(k, *k)
	outputs["Sprintln"] = fmt.Sprintln(k, *k)
	for name, out := range outputs {
		if !strings.Contains(name, "JSON") && !strings.Contains(out, "k2") {
			t.Errorf("%s output %q does not name the primary key id", name, out)
		}
		for _, key := range keys {
			assertNoKey(t, out, key)
		}
	}

	// The readable verbs do show the ids.
	wants := map[string]string{
		"%v":    "keyring{primary=k2 ids=[k1 k2]}",
		"%+v":   "keyring{primary=k2 ids=[k1 k2]}",
		"%s":    "keyring{primary=k2 ids=[k1 k2]}",
		"%q":    `"keyring{primary=k2 ids=[k1 k2]}"`,
		"%#v":   `keyring.Keyring{primary: "k2", ids: []string{"k1", "k2"}}`,
		"%34v":  `   keyring{primary=k2 ids=[k1 k2]}`,
		"%-34s": `keyring{primary=k2 ids=[k1 k2]}   `,
		"%x":    "keyring{primary=k2 ids=[k1 k2]}",
	}
	for verb, want := range wants {
		if got := fmt.Sprintf(verb, k); got != want {
			t.Errorf("Sprintf(%q, k) = %q, want %q", verb, got, want)
		}
	}
}
