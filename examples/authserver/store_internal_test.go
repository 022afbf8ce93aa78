package authserver

import (
	"context"
	"errors"
	"testing"

	"github.com/ory/fosite"
)

// TestStoreUsesEachOnce pins what makes a code or refresh token single-use even when two
// requests both read it before either uses it: the second use fails and changes nothing.
func TestStoreUsesEachOnce(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		create   func(s *memoryStore, req fosite.Requester) error
		use      func(s *memoryStore) error
		get      func(s *memoryStore) error
		inactive error
	}{
		{
			name:     "authorization code",
			create:   func(s *memoryStore, req fosite.Requester) error { return s.CreateAuthorizeCodeSession(ctx, "c", req) },
			use:      func(s *memoryStore) error { return s.InvalidateAuthorizeCodeSession(ctx, "c") },
			get:      func(s *memoryStore) error { _, err := s.GetAuthorizeCodeSession(ctx, "c", nil); return err },
			inactive: fosite.ErrInvalidatedAuthorizeCode,
		},
		{
			name: "refresh token",
			create: func(s *memoryStore, req fosite.Requester) error {
				return s.CreateRefreshTokenSession(ctx, "r", "a", req)
			},
			use:      func(s *memoryStore) error { return s.RotateRefreshToken(ctx, "req-1", "r") },
			get:      func(s *memoryStore) error { _, err := s.GetRefreshTokenSession(ctx, "r", nil); return err },
			inactive: fosite.ErrInactiveToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemoryStore(nil, nil)
			if err := tt.use(s); !errors.Is(err, fosite.ErrNotFound) {
				t.Errorf("use of an unknown one = %v, want ErrNotFound", err)
			}
			req := &fosite.Request{ID: "req-1"}
			if err := s.CreateAccessTokenSession(ctx, "a", req); err != nil {
				t.Fatal(err)
			}
			if err := tt.create(s, req); err != nil {
				t.Fatal(err)
			}
			if err := tt.get(s); err != nil {
				t.Fatalf("get before use = %v, want nil", err)
			}
			if err := tt.use(s); err != nil {
				t.Fatalf("first use = %v, want nil", err)
			}
			if err := tt.use(s); !errors.Is(err, tt.inactive) {
				t.Errorf("second use = %v, want %v", err, tt.inactive)
			}
			if err := tt.get(s); !errors.Is(err, tt.inactive) {
				t.Errorf("get after use = %v, want %v", err, tt.inactive)
			}
		})
	}
	t.Run("rotation deletes the access token issued with the refresh token", func(t *testing.T) {
		s := newMemoryStore(nil, nil)
		req := &fosite.Request{ID: "req-1"}
		if err := s.CreateAccessTokenSession(ctx, "a", req); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateRefreshTokenSession(ctx, "r", "a", req); err != nil {
			t.Fatal(err)
		}
		if err := s.RotateRefreshToken(ctx, "req-1", "r"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetAccessTokenSession(ctx, "a", nil); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("access token after rotation: %v, want ErrNotFound", err)
		}
	})
}
