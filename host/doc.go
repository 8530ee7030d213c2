// Package host holds the engine-neutral services behind a plugin's host
// imports: Services implements abi.Imports for one plugin, with its logging,
// configuration, storage namespace, Kubernetes access and permissions.
//
// Engine adapters bind abi.HostFuncs to a Services; the storage and kube
// subpackages supply the backends it calls.
package host
