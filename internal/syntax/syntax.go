// Package syntax is the one home of the character classes and the URL and host checks that
// every package of connect uses, so that two packages never disagree about a character, a host
// name or a URL.
//
// # Host names
//
// A host name is one or more labels joined by dots, at most 253 octets; each label is 1 to 63
// lowercase ASCII letters, digits and inner hyphens (RFC 1035 §2.3.1, RFC 1123 §2.1). The last
// label is not all digits, so that no host name is read as an IPv4 address by a resolver
// (127.1, 2130706433). Callers that take any case lowercase the ASCII letters first, so that
// ACME and acme are one identity and a non-ASCII letter never folds into an ASCII one.
//
// Punycode labels (A-labels, starting with "xn--") are refused everywhere a host is checked:
// in tenant values rendered into a provider's host, in the catalog's endpoints and allowed
// hosts, and in the redirect, return and origin URLs of an app. A browser shows an A-label as
// Unicode, so such a label can be a homograph of another tenant or host (see the template
// values of docs/security.md); no provider's tenant ids and no catalog host use one, and a
// single rule keeps a host refused by one package from being accepted by another.
//
// # Loopback
//
// A loopback host is an IPv4 address of 127.0.0.0/8 in dotted-decimal form, or the IPv6
// address ::1 (written [::1] in a URL). The name "localhost" is not one: it is resolved, and may
// resolve elsewhere (RFC 8252 §8.3). Only loopback hosts may be reached over plain http, and
// they are the only IP literals a URL may carry.
package syntax
