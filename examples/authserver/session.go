package authserver

import (
	"maps"
	"time"

	"github.com/ory/fosite"
)

// session is the fosite session of one grant: its subject (the username, or the client id for
// the client credentials grant) and the expiry of each of its tokens.
//
// fosite stamps expiry times with time.Now and checks them against time.Now. A session with a
// now function keeps them on that clock instead: SetExpiresAt moves a time from the wall clock
// to now, GetExpiresAt moves it back at the moment it is read, so fosite's "expired?" and
// "expires_in" answers follow Config.Now. A session with a nil now stores times as given.
type session struct {
	fosite.DefaultSession
	now func() time.Time
}

var _ fosite.Session = (*session)(nil)

func newSession(now func() time.Time, subject string) *session {
	return &session{
		DefaultSession: fosite.DefaultSession{Subject: subject, Username: subject},
		now:            now,
	}
}

// SetExpiresAt records when the token of type key expires; wall is on the wall clock.
func (s *session) SetExpiresAt(key fosite.TokenType, wall time.Time) {
	if s.now != nil {
		wall = s.now().Add(time.Until(wall))
	}
	if s.ExpiresAt == nil {
		s.ExpiresAt = make(map[fosite.TokenType]time.Time)
	}
	s.ExpiresAt[key] = wall
}

// GetExpiresAt returns when the token of type key expires, on the wall clock, or the zero
// time when it has no expiry. It never writes to the session.
func (s *session) GetExpiresAt(key fosite.TokenType) time.Time {
	t := s.ExpiresAt[key]
	if t.IsZero() || s.now == nil {
		return t
	}
	return time.Now().Add(t.Sub(s.now()))
}

// SetSubject sets the subject and the username, which are the same here.
func (s *session) SetSubject(subject string) {
	s.Subject = subject
	s.Username = subject
}

// Clone returns a deep copy that shares nothing mutable with s.
func (s *session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	c.ExpiresAt = maps.Clone(s.ExpiresAt)
	c.Extra = maps.Clone(s.Extra)
	return &c
}
