// Package attack runs bounded reliability checks against a live kspbench
// serve on loopback: slow request bodies, idle keep-alive connections and
// acknowledged-write accounting, each followed by a check that the server
// still answers GET /status; and, each with serve as a child process, kill -9
// durability (RunDurability) and misbehaving guests (RunHostile). kspbench
// attack is its command line; a workflow job runs it on each engine.
package attack
