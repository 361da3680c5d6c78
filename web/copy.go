package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"
)

//go:embed templates/copy.html
var templatesFS embed.FS

var copyTemplate = template.Must(template.ParseFS(templatesFS, "templates/copy.html"))

// CopyField is one face field of a certificate on its annotated copy: the
// catalogue's label and the value as disclosed.
type CopyField struct {
	Label, Value string
}

// CopyPage is what the printable page of an annotated copy (加注件) shows.
// The server fills it (package disclosure decides the face fields); the
// template escapes every value.
type CopyPage struct {
	// Valid is false for a copy that no longer verifies: the page then
	// shows Why and nothing of the certificate.
	Valid bool
	Why   string

	TypeName      string
	HolderName    string
	HolderIDLabel string
	HolderID      string
	Fields        []CopyField
	Number        string
	Validity      string
	CertificateID string
	Department    string // the issuing department's name

	Annotation    string // 仅供…使用
	RecipientOrg  string
	RecipientUSCC string
	Purpose       string
	ExpiresAt     string
	// QR is the copy code's QR symbol as a data: URL (image/png).
	QR template.URL
}

// RenderCopy writes the page of an annotated copy with the site's security
// headers and no caching (the page is reached through a capability URL and
// carries a holder's data). status is 200 for a valid copy, 410 for one
// that no longer verifies.
func (s *Site) RenderCopy(w http.ResponseWriter, r *http.Request, status int, p CopyPage) error {
	data := struct {
		CopyPage
		CSS            string
		WatermarkLines []int
	}{CopyPage: p, CSS: s.AssetURL("copy.css"), WatermarkLines: make([]int, 9)}
	var b bytes.Buffer
	if err := copyTemplate.Execute(&b, data); err != nil {
		return err
	}
	SecurityHeaders(w.Header(), DefaultCSP, DefaultPermissions)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, err := w.Write(b.Bytes())
		return err
	}
	return nil
}
