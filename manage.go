package connect

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// maxPutAttempts bounds the retries of an update that lost a race; maxUpsertAttempts those
// of saving a connection that a flow or a request just made, which many callbacks of one
// consumer may race to save.
const (
	maxPutAttempts    = 5
	maxUpsertAttempts = 64
)

// newConnectionID returns a random UUID (version 4) from the Connector's random source.
func (c *Connector) newConnectionID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(c.rand, b[:]); err != nil {
		return "", fmt.Errorf("%w: %v", ErrRandom, err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	hex.Encode(out[9:13], b[4:6])
	hex.Encode(out[14:18], b[6:8])
	hex.Encode(out[19:23], b[8:10])
	hex.Encode(out[24:], b[10:])
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:]), nil
}

// upsert saves a connection made by a flow or from credentials: it updates the connection
// that the group and consumer already have with the provider and workspace, or creates one.
// conn carries the new fields; its ID, CreateTime and UpdateTime are set here.
func (c *Connector) upsert(ctx context.Context, conn *Connection, cr *credentials) (*Connection, error) {
	knownID := "" // the id of the existing connection, once one is known
	for range maxUpsertAttempts {
		sctx, cancel := c.storeContext(ctx)
		var existing *ConnectionRecord
		var err error
		if knownID != "" {
			// After a lost race the connection is known: read it again by its id.
			existing, err = c.connections.Get(sctx, conn.ProjectID, knownID)
			if errors.Is(err, ErrConnectionNotFound) {
				existing, err, knownID = nil, nil, "" // deleted meanwhile: create it again
			} else if err != nil {
				err = fmt.Errorf("%w: reading the connection: %w", ErrStoreUnavailable, err)
			}
		} else {
			existing, err = c.findConnection(sctx, conn)
		}
		if err != nil {
			cancel()
			return nil, err
		}
		now := c.now()
		rec := &ConnectionRecord{Connection: *conn}
		created := existing == nil
		if created {
			if rec.Connection.ID, err = c.newConnectionID(); err != nil {
				cancel()
				return nil, err
			}
			rec.Connection.CreateTime = now
		} else {
			knownID = existing.Connection.ID
			rec.Connection.ID = existing.Connection.ID
			rec.Connection.CreateTime = existing.Connection.CreateTime
			rec.Version = existing.Version
		}
		rec.Connection.UpdateTime = now
		if rec.Credentials, err = seal(c.keys, &rec.Connection, cr); err != nil {
			cancel()
			return nil, err
		}
		err = c.connections.Put(sctx, rec)
		cancel()
		switch {
		case errors.Is(err, ErrConflict):
			continue // another request saved the same connection meanwhile: read it again
		case err != nil:
			err = fmt.Errorf("%w: saving the connection: %w", ErrStoreUnavailable, err)
			c.emit(ctx, EventConnectionError, conn.ProjectID, conn.Provider, nil, err)
			return nil, err
		}
		t := EventConnectionUpdated
		if created {
			t = EventConnectionCreated
		}
		c.emit(ctx, t, conn.ProjectID, conn.Provider, &rec.Connection, nil)
		return &rec.Connection, nil // the store keeps a copy of its own
	}
	err := fmt.Errorf("%w: saving the connection kept losing to concurrent updates", ErrConflict)
	c.emit(ctx, EventConnectionError, conn.ProjectID, conn.Provider, nil, err)
	return nil, err
}

// findConnection returns the record of the connection with conn's project, provider, group,
// consumer and workspace, or nil.
func (c *Connector) findConnection(ctx context.Context, conn *Connection) (*ConnectionRecord, error) {
	recs, err := c.connections.List(ctx, conn.ProjectID, ConnectionFilter{
		Provider: conn.Provider, GroupRef: conn.Group.Ref, ConsumerRef: conn.Consumer.Ref,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: listing connections: %w", ErrStoreUnavailable, err)
	}
	for _, r := range recs {
		if r.Connection.ProviderWorkspaceRef == conn.ProviderWorkspaceRef {
			return r, nil
		}
	}
	return nil, nil
}

// checkIDs checks the project and connection ids of a call before any store sees them.
func checkIDs(projectID, id string) error {
	var fields []FieldError
	if projectID == "" {
		fields = append(fields, FieldError{Field: "projectId", Message: "required"})
	} else if len(projectID) > 255 || !ident(projectID) {
		fields = append(fields, FieldError{Field: "projectId", Message: "must be letters, digits and . _ : @ - (at most 255)"})
	}
	if err := checkConnectionID(id); err != nil {
		fields = append(fields, FieldError{Field: "id", Message: err.Error()})
	}
	if fields != nil {
		return &ValidationError{Fields: fields}
	}
	return nil
}

// checkConnectionID checks a connection id: 1 to 255 identifier characters.
func checkConnectionID(id string) error {
	if id == "" || len(id) > 255 || !ident(id) {
		return errors.New("must be 1 to 255 letters, digits and . _ : @ -")
	}
	return nil
}

// storeError keeps ErrConnectionNotFound and wraps any other store failure.
func storeError(err error) error {
	if errors.Is(err, ErrConnectionNotFound) {
		return ErrConnectionNotFound
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

// record reads the project's connection record with the id, after checking both ids.
func (c *Connector) record(ctx context.Context, projectID, id string) (*ConnectionRecord, error) {
	if err := checkIDs(projectID, id); err != nil {
		return nil, err
	}
	sctx, cancel := c.storeContext(ctx)
	defer cancel()
	rec, err := c.connections.Get(sctx, projectID, id)
	if err != nil {
		return nil, storeError(err)
	}
	return rec, nil
}

// Connection returns the project's connection with the id, or an error matching
// ErrConnectionNotFound.
func (c *Connector) Connection(ctx context.Context, projectID, id string) (*Connection, error) {
	rec, err := c.record(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	return &rec.Connection, nil
}

// Connections returns the project's connections that match f, oldest first.
func (c *Connector) Connections(ctx context.Context, projectID string, f ConnectionFilter) ([]*Connection, error) {
	if projectID == "" {
		return nil, invalid("projectId", "required", nil)
	}
	sctx, cancel := c.storeContext(ctx)
	defer cancel()
	recs, err := c.connections.List(sctx, projectID, f)
	if err != nil {
		return nil, storeError(err)
	}
	out := make([]*Connection, len(recs))
	for i, r := range recs {
		out[i] = &r.Connection
	}
	return out, nil
}

// DeleteConnection deletes the project's connection with the id.
func (c *Connector) DeleteConnection(ctx context.Context, projectID, id string) error {
	rec, err := c.record(ctx, projectID, id)
	if err != nil {
		return err
	}
	sctx, cancel := c.storeContext(ctx)
	defer cancel()
	if err := c.connections.Delete(sctx, projectID, id); err != nil {
		return storeError(err)
	}
	c.emit(ctx, EventConnectionDeleted, projectID, rec.Connection.Provider, &rec.Connection, nil)
	return nil
}

// Credentials are the secrets of a connection made from an API key, basic credentials or
// custom auth fields, for the backend's requests to the provider. OAuth connections give
// tokens through [Connector.TokenSource] instead.
type Credentials struct {
	AuthScheme AuthScheme
	APIKey     Secret
	Username   string
	Password   Secret
	Custom     map[string]Secret
}

// Credentials returns the credentials of the project's connection with the id.
func (c *Connector) Credentials(ctx context.Context, projectID, id string) (*Credentials, error) {
	rec, err := c.record(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	cr, err := open(c.keys, rec)
	if err != nil {
		return nil, err
	}
	out := &Credentials{AuthScheme: rec.Connection.AuthScheme, APIKey: Secret(cr.APIKey), Username: cr.Username, Password: Secret(cr.Password)}
	if cr.Custom != nil {
		out.Custom = make(map[string]Secret, len(cr.Custom))
		for k, v := range cr.Custom {
			out.Custom[k] = Secret(v)
		}
	}
	return out, nil
}

// ReencryptConnections seals again, with the keyring's primary key, the credentials of the
// project's connections that were sealed with another key, and returns how many it
// re-sealed. It can be stopped and run again at any time: a record is re-sealed at most once
// and never lost. Remove an old key from the keyring only once this has run for every
// project.
func (c *Connector) ReencryptConnections(ctx context.Context, projectID string) (int, error) {
	if c.keys == nil {
		return 0, errors.New("connect: no keyring is configured")
	}
	sctx, cancel := c.storeContext(ctx)
	recs, err := c.connections.List(sctx, projectID, ConnectionFilter{})
	cancel()
	if err != nil {
		return 0, storeError(err)
	}
	n := 0
	var errs []error
	for _, rec := range recs {
		resealed, err := c.reseal(ctx, projectID, rec)
		if err != nil {
			// Go on with the other records; the run can be repeated once this one is fixed.
			errs = append(errs, fmt.Errorf("connection %s: %w", rec.Connection.ID, err))
		}
		if resealed {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// reseal seals a record's credentials again with the primary key, if they need it.
func (c *Connector) reseal(ctx context.Context, projectID string, rec *ConnectionRecord) (bool, error) {
	for range maxPutAttempts {
		if !needsReseal(c.keys, rec.Credentials) {
			return false, nil
		}
		cr, err := open(c.keys, rec)
		if err != nil {
			return false, err
		}
		if rec.Credentials, err = seal(c.keys, &rec.Connection, cr); err != nil {
			return false, err
		}
		sctx, cancel := c.storeContext(ctx)
		err = c.connections.Put(sctx, rec)
		if errors.Is(err, ErrConflict) {
			rec, err = c.connections.Get(sctx, projectID, rec.Connection.ID)
			cancel()
			if errors.Is(err, ErrConnectionNotFound) {
				return false, nil
			}
			if err != nil {
				return false, storeError(err)
			}
			continue
		}
		cancel()
		if err != nil {
			return false, storeError(err)
		}
		return true, nil
	}
	return false, ErrConflict
}
