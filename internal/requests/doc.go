// Package requests reads requests.yml, the requests `kspbench run --plugin`
// makes to each route of the plugin under test, and compares the answers
// engines give to them.
//
// The file lists requests; each names a route of the manifest and may set
// the method, body, headers, the status expected and the JSON paths of the
// answer that differ from call to call (volatile):
//
//	requests:
//	  - route: /data
//	    method: POST
//	    body: {"name": "x"}      # a string is sent as is; YAML is sent as JSON
//	    headers: {Content-Type: application/json}
//	    status: 201              # default: any 2xx
//	    volatile: [timestamp, items.*.id]
//
// A route the file does not name gets one request per method, with an empty
// body, expecting 2xx.
package requests
