;; wasi_sleep.wat — a valid guest that sleeps with WASI poll_oneoff.
;;
;; handle_sleep polls one subscription: a relative monotonic clock of 20 ms,
;; userdata 0x6b73702d736c6565 ("eels-psk" little-endian). handle_poll polls
;; the subscriptions the request body holds (1 to 16 records of 48 bytes, as
;; WASI preview1 lays them out; BAD_ARGUMENT otherwise). handle_monotonic
;; answers the 8-byte little-endian monotonic clock reading, so a host can
;; build absolute deadlines on the guest's own clock.
;;
;; handle_sleep and handle_poll answer pack(12288, 8 + 32*N): the errno
;; poll_oneoff returned (u32), the number of events it reported (u32), then
;; the N event records (32 bytes each, N the number of subscriptions, zeroed
;; before the call), exactly as the host wrote them.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Layout: nevents at 1024, a clock reading at 2048, subscriptions at 4096
  ;; (16 x 48 bytes at most), the response at 12288: errno, nevents, then the
  ;; events at 12296 (8-aligned, as WASI requires). allocate hands out the
  ;; page's upper half.
  (global $bump (mut i32) (i32.const 32768))

  (func (export "allocate") (param $size i32) (result i32)
    (local $ptr i32)
    (if (i32.gt_u (local.get $size) (i32.sub (i32.const 65536) (global.get $bump)))
      (then (return (i32.const 0))))
    (local.set $ptr (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $size)))
    (local.get $ptr))

  ;; fill writes n bytes of value v from dst; copy moves n bytes from src to dst.
  (func $fill (param $dst i32) (param $v i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store8 (local.get $dst) (local.get $v))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  (func $copy (param $dst i32) (param $src i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  ;; poll calls poll_oneoff on the n subscriptions at 4096 and answers the
  ;; response described above.
  (func $poll (param $n i32) (result i64)
    (call $fill (i32.const 12288) (i32.const 0) (i32.add (i32.const 8) (i32.mul (local.get $n) (i32.const 32))))
    (i32.store (i32.const 1024) (i32.const 0xffffffff))
    (i32.store (i32.const 12288)
      (call $poll_oneoff (i32.const 4096) (i32.const 12296) (local.get $n) (i32.const 1024)))
    (i32.store (i32.const 12292) (i32.load (i32.const 1024)))
    (i64.or
      (i64.const 0x0000300000000000) ;; 12288 << 32
      (i64.extend_i32_u (i32.add (i32.const 8) (i32.mul (local.get $n) (i32.const 32))))))

  (func (export "handle_sleep") (param i32 i32) (result i64)
    (global.set $bump (i32.const 32768))
    (call $fill (i32.const 4096) (i32.const 0) (i32.const 48))
    (i64.store (i32.const 4096) (i64.const 0x6b73702d736c6565)) ;; userdata
    (i32.store8 (i32.const 4104) (i32.const 0))                 ;; tag: clock
    (i32.store (i32.const 4112) (i32.const 1))                  ;; id: monotonic
    (i64.store (i32.const 4120) (i64.const 20000000))           ;; timeout: 20 ms
    (i64.store (i32.const 4128) (i64.const 1000))               ;; precision: 1 us
    (i32.store16 (i32.const 4136) (i32.const 0))                ;; flags: relative
    (call $poll (i32.const 1)))

  (func (export "handle_poll") (param $ptr i32) (param $len i32) (result i64)
    (local $n i32)
    (global.set $bump (i32.const 32768))
    (local.set $n (i32.div_u (local.get $len) (i32.const 48)))
    (if (i32.or
          (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 16)))
          (i32.ne (i32.mul (local.get $n) (i32.const 48)) (local.get $len)))
      (then (return (i64.const 2)))) ;; BAD_ARGUMENT
    (call $copy (i32.const 4096) (local.get $ptr) (local.get $len))
    (call $poll (local.get $n)))

  ;; clock id 1 is monotonic; on an errno, answer status INTERNAL (5).
  (func (export "handle_monotonic") (param i32 i32) (result i64)
    (global.set $bump (i32.const 32768))
    (if (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 2048))
      (then (return (i64.const 5))))
    (i64.const 0x0000080000000008))) ;; pack(2048, 8)
