package providers

//go:generate go run ../internal/catalogdoc/gen -o ../docs/providers.md
