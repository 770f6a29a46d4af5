// Package frontend embeds Curio's browser UI: a dependency-free single page
// (plain HTML, CSS and ES-module JavaScript) that searches the catalog through
// the JSON API served on the same origin. There is no build step; the files
// under static/ are shipped exactly as written.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the static web app files rooted at the app directory.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub only fails for an invalid path, and "static" is a constant.
		panic("frontend: " + err.Error())
	}
	return sub
}
