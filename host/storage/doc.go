// Package storage is the durable key-value store behind host_storage_get and
// host_storage_set: one namespace per plugin, so a plugin sees only its own keys.
//
// Bolt keeps the data in a bbolt file that survives host restarts; Memory is an
// explicitly non-durable store for callers that ask for no persistence.
package storage
