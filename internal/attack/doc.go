// Package attack runs bounded reliability checks against a live kspbench
// serve on loopback: slow request bodies, idle keep-alive connections and
// acknowledged-write accounting, each followed by a check that the server
// still answers GET /status. kspbench attack is its command line; a workflow
// job runs it against a server it started.
package attack
