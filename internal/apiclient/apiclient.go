// Package apiclient supports TestGeneratedClient (api/client_test.go): a
// Go client generated from /openapi.json by an independent generator,
// oapi-codegen (pinned by the tool directive in go.mod), calls the real
// server. The client is generated afresh by each run of the test, so it
// always matches the routes and fields on the branch; nothing generated is
// committed.
//
// The blank import keeps the generated client's runtime library in go.mod.
package apiclient

import _ "github.com/oapi-codegen/runtime" // used by the generated client
