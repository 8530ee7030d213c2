// Package plugindir loads a plugin folder — a plugin.yml and the wasm file it
// names, as `make package` lays them out — onto an engine, bound to host
// services: the manifest's routes, permissions, configuration and memory
// limit become a plugin.Plugin.
package plugindir
