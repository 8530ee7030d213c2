;; reentry.wat — a guest whose allocate calls a host import that returns data.
;;
;; Such an import hands its result back through allocate, so allocate is
;; entered again from inside the import: allocate -> host_request_info ->
;; allocate -> ... The host bounds that nesting (abi.MaxReentryDepth) and ends
;; the call with a trap past it, instead of recursing until its stack
;; overflows. Build with: wat2wasm reentry.wat -o reentry.wasm
(module
  (import "env" "host_request_info" (func $request_info (result i64)))

  (memory (export "memory") 1)

  ;; $next is the bump allocator's next free address; every handler resets it.
  (global $next (mut i32) (i32.const 4096))
  ;; $budget is how many more times allocate calls host_request_info before
  ;; it allocates; -1 (or any negative count) means for ever.
  (global $budget (mut i32) (i32.const 0))

  (func (export "allocate") (param $size i32) (result i32)
    (local $p i32)
    (if (global.get $budget)
      (then
        (global.set $budget (i32.sub (global.get $budget) (i32.const 1)))
        (drop (call $request_info))))
    (local.set $p (global.get $next))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $size)) (i32.const 65536))
      (then (return (i32.const 0))))
    (global.set $next (i32.add (local.get $p) (local.get $size)))
    (local.get $p))

  ;; handle_runaway: host_request_info with an allocate that re-enters for
  ;; ever (the attack).
  (func (export "handle_runaway") (param $ptr i32) (param $len i32) (result i64)
    (global.set $next (i32.const 4096))
    (global.set $budget (i32.const -1))
    (call $request_info))

  ;; handle_nested: host_request_info with an allocate that re-enters N
  ;; times, N the body's first byte as a decimal digit ('0' to '9').
  (func (export "handle_nested") (param $ptr i32) (param $len i32) (result i64)
    (local $n i32)
    (local.set $n (i32.sub (i32.load8_u (local.get $ptr)) (i32.const 48)))
    (global.set $next (i32.const 4096))
    (global.set $budget (local.get $n))
    (call $request_info))
)
