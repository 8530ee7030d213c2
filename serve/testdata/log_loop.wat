;; log_loop.wat — a guest that logs in a loop, for serve's per-plugin log
;; rate limit (lograte_test.go). Build: wat2wasm with the flags of
;; conformance/testdata/build.sh (plain WebAssembly 1.0):
;;   wat2wasm --disable-bulk-memory --disable-reference-types --disable-sign-extension \
;;     --disable-saturating-float-to-int --disable-multi-value --disable-simd log_loop.wat -o log_loop.wasm
;; handle_log_many calls host_log 1000 times and answers "ok";
;; handle_log_forever calls host_log until the host ends the call.
(module
  (import "env" "host_log" (func $host_log (param i32 i32)))

  (memory (export "memory") 1)

  (data (i32.const 1024) "ok")
  (data (i32.const 1040) "a log line from a guest that logs in a loop")

  ;; allocate: a bump allocator over the first page past 4096, reset by
  ;; every call; 0 when the page is full.
  (global $bump (mut i32) (i32.const 4096))
  (func (export "allocate") (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $bump))
    (if (i32.gt_u (local.get $size) (i32.sub (i32.const 65536) (local.get $ptr)))
      (then (return (i32.const 0))))
    (global.set $bump (i32.add (local.get $ptr) (local.get $size)))
    (local.get $ptr))
  (func (export "deallocate") (param $ptr i32) (param $size i32))

  ;; handle_log_many: host_log 1000 times, then "ok".
  (func (export "handle_log_many") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32)
    (global.set $bump (i32.const 4096))
    (loop $again
      (call $host_log (i32.const 1040) (i32.const 43))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 1000))))
    (i64.const 0x0000040000000002))  ;; pack(1024, 2): "ok"

  ;; handle_log_forever: host_log until the host ends the call.
  (func (export "handle_log_forever") (param $ptr i32) (param $len i32) (result i64)
    (global.set $bump (i32.const 4096))
    (loop $again
      (call $host_log (i32.const 1040) (i32.const 43))
      (br $again))
    (i64.const 0))
)
