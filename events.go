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
	// Err is set for EventConnectionError.
	Err error
}

// emit calls the event hook, if any, with a copy of the connection.
func (c *Connector) emit(ctx context.Context, t EventType, projectID, provider string, conn *Connection, err error) {
	if c.onEvent == nil {
		return
	}
	e := Event{Type: t, Time: c.now(), ProjectID: projectID, Provider: provider, Err: err}
	if conn != nil {
		e.Connection = conn.clone()
	}
	c.onEvent(ctx, e)
}
