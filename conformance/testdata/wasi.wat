;; wasi.wat — a valid guest that reads the WASI clock and random source.
;;
;; handle_time answers the 8-byte little-endian realtime clock reading
;; (nanoseconds since the epoch); handle_random answers 16 bytes from
;; random_get. The suite checks the clock is the host's real time and the
;; bytes differ between instances: WASI behaves the same on every engine.
(module
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get"
    (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; A fixed scratch area for results; allocate hands out the page's upper half.
  (global $bump (mut i32) (i32.const 32768))

  (func (export "allocate") (param $size i32) (result i32)
    (local $ptr i32)
    (if (i32.gt_u (local.get $size) (i32.sub (i32.const 65536) (global.get $bump)))
      (then (return (i32.const 0))))
    (local.set $ptr (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $size)))
    (local.get $ptr))

  ;; clock id 0 is realtime; on an errno, answer status INTERNAL (5).
  (func (export "handle_time") (param i32 i32) (result i64)
    (global.set $bump (i32.const 32768))
    (if (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 1024))
      (then (return (i64.const 5))))
    (i64.const 0x0000040000000008)) ;; pack(1024, 8)

  (func (export "handle_random") (param i32 i32) (result i64)
    (global.set $bump (i32.const 32768))
    (if (call $random_get (i32.const 2048) (i32.const 16))
      (then (return (i64.const 5))))
    (i64.const 0x0000080000000010))) ;; pack(2048, 16)
