package connect_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/connectkit/connect"
)

func TestConnectionEvents(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)

	r := connectionRequest("keyed")
	r.APIKey = sentinelAPIKey
	keyed := f.connect(t, r)
	f.clock.Advance(time.Second)
	f.connect(t, r)
	refreshed := f.connect(t, importRequest(sentinelAccessToken, sentinelRefreshToken, f.clock.Now().Add(-time.Minute)))
	if tok, err := getToken(t, f.c, refreshed.ID); err != nil || tok.AccessToken != sentinelAccessToken2 {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	bad := importRequest(sentinelAccessToken, sentinelRefreshToken+"-revoked", f.clock.Now().Add(-time.Minute))
	bad.ConsumerRef = "user-2"
	failing := f.connect(t, bad)
	if _, err := getToken(t, f.c, failing.ID); !errors.Is(err, connect.ErrBadCredentials) {
		t.Fatalf("Token with a revoked refresh token = %v, want ErrBadCredentials", err)
	}
	f.clock.Advance(time.Second)
	if err := f.c.DeleteConnection(ctx, "proj", keyed.ID); err != nil {
		t.Fatal(err)
	}

	want := []struct {
		typ      connect.EventType
		provider string
		id       string
	}{
		{connect.EventConnectionCreated, "keyed", keyed.ID},
		{connect.EventConnectionUpdated, "keyed", keyed.ID},
		{connect.EventConnectionCreated, "oauth", refreshed.ID},
		{connect.EventConnectionRefreshed, "oauth", refreshed.ID},
		{connect.EventConnectionCreated, "oauth", failing.ID},
		{connect.EventConnectionError, "oauth", failing.ID},
		{connect.EventConnectionDeleted, "keyed", keyed.ID},
	}
	got := f.events.all()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		e := got[i]
		if e.Type != w.typ || e.ProjectID != "proj" || e.Provider != w.provider || e.Connection == nil || e.Connection.ID != w.id {
			t.Errorf("event %d = %s %s/%s connection %v; want %s proj/%s connection %s",
				i, e.Type, e.ProjectID, e.Provider, e.Connection, w.typ, w.provider, w.id)
		}
		if (e.Type == connect.EventConnectionError) != (e.Err != nil) {
			t.Errorf("event %d (%s) has Err %v", i, e.Type, e.Err)
		}
		if e.Time.IsZero() || e.Time.After(f.clock.Now()) {
			t.Errorf("event %d at %v, want a time on the Connector's clock", i, e.Time)
		}
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			assertNoSecrets(t, fmt.Sprintf("event %d %s", i, verb), fmt.Sprintf(verb, e))
		}
		if e.Err != nil {
			assertNoSecrets(t, "the error", e.Err)
		}
		j, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecrets(t, fmt.Sprintf("event %d JSON", i), string(j))
	}
	if s := got[3].Connection.Status; s != connect.StatusWorking {
		t.Errorf("refreshed event's connection status %q, want working", s)
	}
	if s := got[5].Connection.Status; s != connect.StatusBadCredentials {
		t.Errorf("error event's connection status %q, want bad_credentials", s)
	}
	// The event's connection is a copy: changing it changes nothing stored.
	got[3].Connection.Status = "tampered"
	if c, err := f.c.Connection(ctx, "proj", refreshed.ID); err != nil || c.Status != connect.StatusWorking {
		t.Errorf("changing an event's connection changed the store: %v, %v", c, err)
	}
}
