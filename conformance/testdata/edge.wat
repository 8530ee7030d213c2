;; edge.wat — a guest that loads and links but misbehaves on purpose.
;;
;; Each handler breaks one rule of ABI v1 (or tests one corner of it), so the
;; conformance suite can check that every engine reports the fault as an error
;; and never crashes or reads outside the guest's memory. Memory: 1 page to
;; start, no maximum; the allocator is the reference guest's arena, reset by
;; every handler that returns.
(module
  (import "env" "host_log" (func $host_log (param i32 i32)))
  (import "env" "host_get_config" (func $host_get_config (param i32 i32) (result i64)))

  (memory (export "memory") 1)

  (data (i32.const 1024) "ok")                     ;; 2 bytes
  (data (i32.const 1040) "grown")                  ;; 5 bytes
  (data (i32.const 1056) "unreachable-after-log")  ;; 21 bytes
  (data (i32.const 1088) "greeting")               ;; 8 bytes

  ;; ---- allocator: as in reference.wat ----

  (global $heap_base i32 (i32.const 4096))
  (global $bump (mut i32) (i32.const 4096))

  (func $allocate (export "allocate") (param $size i32) (result i32)
    (local $ptr i64)
    (local $end i64)
    (local $have i64)
    (local.set $ptr (i64.and (i64.add (i64.extend_i32_u (global.get $bump)) (i64.const 7))
                             (i64.const -8)))
    (local.set $end (i64.add (local.get $ptr) (i64.extend_i32_u (local.get $size))))
    (if (i64.ge_u (local.get $end) (i64.const 0x100000000))
      (then (return (i32.const 0))))
    (local.set $have (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
    (if (i64.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq (memory.grow (i32.wrap_i64
                      (i64.shr_u (i64.add (i64.sub (local.get $end) (local.get $have)) (i64.const 0xffff))
                                 (i64.const 16))))
                    (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $bump (i32.wrap_i64 (local.get $end)))
    (i32.wrap_i64 (local.get $ptr)))

  (func (export "deallocate") (param $ptr i32) (param $size i32))

  (func $end_call (param $result i64) (result i64)
    (global.set $bump (global.get $heap_base))
    (local.get $result))

  (func $parse_u32 (param $ptr i32) (param $len i32) (result i64)
    (local $i i32)
    (local $digit i32)
    (local $value i64)
    (if (i32.or (i32.eqz (local.get $len)) (i32.gt_u (local.get $len) (i32.const 10)))
      (then (return (i64.const -1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $digit (i32.sub (i32.load8_u (i32.add (local.get $ptr) (local.get $i)))
                                   (i32.const 48)))
        (if (i32.gt_u (local.get $digit) (i32.const 9))
          (then (return (i64.const -1))))
        (local.set $value (i64.add (i64.mul (local.get $value) (i64.const 10))
                                   (i64.extend_i32_u (local.get $digit))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i64.gt_u (local.get $value) (i64.const 0xffffffff))
      (then (return (i64.const -1))))
    (local.get $value))

  ;; ---- handlers ----

  ;; handle_ok: the 2 bytes "ok" (a well-behaved control).
  (func (export "handle_ok") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (i64.const 0x0000040000000002)))       ;; pack(1024, 2)

  ;; handle_trap: traps.
  (func (export "handle_trap") (param $ptr i32) (param $len i32) (result i64)
    (unreachable))

  ;; handle_oob_ptr: a response whose pointer is past the end of memory.
  (func (export "handle_oob_ptr") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (i64.const 0xffff000000000010)))       ;; pack(0xffff0000, 16)

  ;; handle_oob_len: a response whose length runs past the end of memory.
  (func (export "handle_oob_len") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (i64.const 0x000000107fffffff)))       ;; pack(16, 0x7fffffff)

  ;; handle_oob_wrap: a response range that wraps around 2^32 in 32-bit
  ;; arithmetic (0xfffffff0 + 0x20 = 0x10).
  (func (export "handle_oob_wrap") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (i64.const 0xfffffff000000020)))       ;; pack(0xfffffff0, 0x20)

  ;; handle_status: fails without a body, status BAD_ARGUMENT.
  (func (export "handle_status") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (i64.const 2)))                        ;; pack(0, 2)

  ;; handle_loop: never returns; only the call deadline ends it.
  (func (export "handle_loop") (param $ptr i32) (param $len i32) (result i64)
    (loop $forever (result i64)
      (br $forever)))

  ;; handle_grow: the request is a decimal page count P; memory.grow(P).
  ;; "grown" when it succeeds, LIMIT_EXCEEDED (4) when it returns -1, and
  ;; BAD_ARGUMENT (2) for a malformed P.
  (func $grow (param $ptr i32) (param $len i32) (result i64)
    (local $pages i64)
    (local.set $pages (call $parse_u32 (local.get $ptr) (local.get $len)))
    (if (i64.lt_s (local.get $pages) (i64.const 0))
      (then (return (i64.const 2))))
    (if (i32.eq (memory.grow (i32.wrap_i64 (local.get $pages))) (i32.const -1))
      (then (return (i64.const 4))))
    (i64.const 0x0000041000000005))                        ;; pack(1040, 5)
  (func (export "handle_grow") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $grow (local.get $ptr) (local.get $len))))

  ;; handle_grow_trap: grows by one page until memory.grow fails, then traps,
  ;; as a Go guest does when it runs out of memory.
  (func (export "handle_grow_trap") (param $ptr i32) (param $len i32) (result i64)
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (unreachable))

  ;; handle_bad_import_ptr: passes host_log a range outside memory, which must
  ;; trap in the host; the response after it should never be seen.
  (func (export "handle_bad_import_ptr") (param $ptr i32) (param $len i32) (result i64)
    (call $host_log (i32.const 0xffffff00) (i32.const 0x1000))
    (call $end_call (i64.const 0x0000042000000015)))       ;; pack(1056, 21)

  ;; handle_reentrant: host_get_config("greeting") unchanged. The host writes
  ;; the value into memory from our allocate, called from inside the import.
  (func (export "handle_reentrant") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $host_get_config (i32.const 1088) (i32.const 8))))

  ;; handle_stack_overflow: unbounded recursion (not a tail call, so no
  ;; engine can turn it into a loop).
  (func $recurse (export "handle_stack_overflow") (param $ptr i32) (param $len i32) (result i64)
    (i64.add (call $recurse (local.get $ptr) (local.get $len)) (i64.const 1)))
)
