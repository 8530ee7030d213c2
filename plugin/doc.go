// Package plugin runs one plugin on any engine by the rules of package abi:
// it checks a compiled module's exports, instantiates and initialises
// instances, moves requests and responses across the boundary, and serves
// concurrent requests from a bounded pool with one instance per in-flight
// call, discarding any instance that trapped, overran its deadline or answered
// out of bounds.
package plugin
