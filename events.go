package connect

import (
	"context"
	"time"
)

// EventType names what happened to a connection.
type EventType string

// The event types.
const (
	EventConnectionCreated   EventType = "connection.created"
	EventConnectionUpdated   EventType = "connection.updated"
	EventConnectionRefreshed EventType = "connection.refreshed"
	EventConnectionDeleted   EventType = "connection.deleted"
	EventConnectionError     EventType = "connection.error"
)

// Event tells [Config].OnEvent what happened. It never carries a secret: Connection has none,
// and Err is one of connect's own errors, which name fields and codes, never values.
type Event struct {
	Type      EventType
	Time      time.Time
	ProjectID string
	Provider  string
	// Connection is the connection as it is now (as it was, for a deletion); nil for an
	// error before a connection existed.
	Connection *Connection
	// Revocation is, for EventConnectionDeleted, what became of the grant at the
	// provider's revocation endpoint; Err then says why revocation failed.
	Revocation Revocation
	// Err is set for EventConnectionError, and for EventConnectionDeleted when revocation
	// failed.
	Err error
}

// Revocation is what became of a deleted connection's grant at the provider.
type Revocation string

// The outcomes of revocation.
const (
	// RevocationNone: nothing was revoked; the provider has no revocation endpoint, or the
	// connection holds no OAuth token.
	RevocationNone Revocation = "none"
	// RevocationSucceeded: the provider revoked the grant.
	RevocationSucceeded Revocation = "succeeded"
	// RevocationFailed: the provider could not be reached or refused; the connection was
	// deleted all the same, and the grant may still be valid at the provider.
	RevocationFailed Revocation = "failed"
)

// emit calls the event hook, if any, with a copy of the connection.
func (c *Connector) emit(ctx context.Context, t EventType, projectID, provider string, conn *Connection, err error) {
	c.emitEvent(ctx, Event{Type: t, ProjectID: projectID, Provider: provider, Connection: conn, Err: err})
}

// emitEvent calls the event hook, if any, with e at the Connector's time and a copy of its
// connection.
func (c *Connector) emitEvent(ctx context.Context, e Event) {
	if c.onEvent == nil {
		return
	}
	e.Time = c.now()
	if e.Connection != nil {
		e.Connection = e.Connection.clone()
	}
	c.onEvent(ctx, e)
}
