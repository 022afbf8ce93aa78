package connecthttp

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// maxEchoedName caps a field name taken from a body and repeated in a problem.
const maxEchoedName = 64

// checkJSONType answers 415 unless the request's Content-Type is application/json (with at
// most a charset of utf-8), so that a browser must preflight a cross-site request.
func checkJSONType(r *http.Request) *problem {
	ct := r.Header.Values("Content-Type")
	if len(ct) == 1 {
		mt, params, err := mime.ParseMediaType(ct[0])
		if err == nil && mt == "application/json" {
			cs, hasCS := params["charset"]
			if len(params) == 0 || len(params) == 1 && hasCS && strings.EqualFold(cs, "utf-8") {
				return nil
			}
		}
	}
	return newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", "the body must be application/json")
}

// decodeBody reads exactly one JSON value into v from a body capped at max bytes, refusing
// fields v does not have. The problem it returns never repeats a value of the body.
func decodeBody(w http.ResponseWriter, r *http.Request, max int64, v any) *problem {
	body := http.MaxBytesReader(w, r.Body, max)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Exactly one value: only white space may follow.
		if _, err = dec.Token(); err == io.EOF {
			return nil
		}
		if err == nil || !isMaxBytes(err) {
			return newProblem(http.StatusBadRequest, "invalid-body", "the body must be one JSON value, with nothing after it")
		}
	}
	return bodyProblem(err, max)
}

// bodyProblem describes a decoding error.
func bodyProblem(err error, max int64) *problem {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case isMaxBytes(err):
		return newProblem(http.StatusRequestEntityTooLarge, "body-too-large", "the body is larger than "+strconv.FormatInt(max, 10)+" bytes")
	case err == io.EOF:
		return newProblem(http.StatusBadRequest, "invalid-body", "the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return newProblem(http.StatusBadRequest, "invalid-body", "the body ends inside a JSON value")
	case errors.As(err, &syn):
		return newProblem(http.StatusBadRequest, "invalid-body", "the body is not valid JSON (at byte "+strconv.FormatInt(syn.Offset, 10)+")")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return newProblem(http.StatusBadRequest, "invalid-body", "the body must be a JSON object")
		}
		return invalidFields("invalid-body", []fieldProblem{{Field: echo(typ.Field), Message: "must be " + jsonKind(typ.Type)}})
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if n, uerr := strconv.Unquote(name); uerr == nil {
			name = n
		}
		return invalidFields("invalid-body", []fieldProblem{{Field: echo(name), Message: "is not a field of this request"}})
	}
	return newProblem(http.StatusBadRequest, "invalid-body", "the body is not valid for this request")
}

func isMaxBytes(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// echo caps a name taken from the body before it is repeated, and shows an empty one as "";
// the problem's JSON encoding escapes it.
func echo(name string) string {
	if name == "" {
		return `""`
	}
	if len(name) > maxEchoedName {
		name = strings.ToValidUTF8(name[:maxEchoedName], "") + "..."
	}
	return name
}

// jsonKind names the JSON kind that decodes into t.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		if t.String() == "time.Time" {
			return "an RFC 3339 time string"
		}
		return "an object"
	}
	return "of another JSON type"
}
