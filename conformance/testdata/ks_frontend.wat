;; ks_frontend.wat — a frontend-only plugin as published for the KubeStellar
;; UI (ks-monitoring): a TinyGo command that exports memory and _start and
;; nothing else; its manifest enables the backend but lists no routes. It
;; loads under the kubestellar-ui profile with no handlers, and _start never
;; runs (it calls proc_exit).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  (func (export "_start") (call $proc_exit (i32.const 0))))
