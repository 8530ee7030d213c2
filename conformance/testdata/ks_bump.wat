;; ks_bump.wat — profile kubestellar-ui (abi/ABI.md §12): a guest whose
;; allocator wears an instance out, as the published TinyGo plugins' does.
;;
;; allocate(size) is a bump pointer from 0x1000 that never resets and never
;; checks its end; handle_status answers "ok" and, like a TinyGo handler
;; building its JSON, bumps the pointer by 64 bytes that it never frees. The
;; host calls allocate(0) before each call of an empty body (the reference
;; host's contract), so one instance serves (0x20000 - 0x1000) / 64 + 1 =
;; 1985 calls; then allocate(0) answers a pointer past the 2 pages of memory
;; and the call fails ("allocate(0): ... range outside guest memory"), as
;; cluster-monitor's did before the Call workload recycled its instance. A
;; host that recycles instances at the profile's budget (1000 calls) never
;; gets there. handle_once answers "ok" on an instance's first call of it
;; and traps on every later one: a route that passes a first check and
;; fails once timed, whatever the host recycles.
(module
  (memory (export "memory") 2)

  (data (i32.const 256) "ok")

  (global $next (mut i32) (i32.const 0x1000))
  (global $once (mut i32) (i32.const 0))

  (func $allocate (export "allocate") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (local.get $p) (local.get $size)))
    (local.get $p))

  (func (export "handle_status") (param i64 i64) (result i64)
    (drop (call $allocate (i32.const 64)))
    (i64.or (i64.shl (i64.const 256) (i64.const 32)) (i64.const 2)))

  (func (export "handle_once") (param i64 i64) (result i64)
    (if (global.get $once) (then unreachable))
    (global.set $once (i32.const 1))
    (i64.or (i64.shl (i64.const 256) (i64.const 32)) (i64.const 2))))
