;; init_trap.wat — a valid guest whose _initialize traps.
;;
;; Instantiation must fail with the trap as its error; no handler runs.
(module
  (memory (export "memory") 1)

  ;; Allocator: the reference guest's arena (see reference.wat), reset by
  ;; handle_echo before it returns.
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

  (func (export "_initialize")
    (unreachable))

  ;; handle_echo: the request itself.
  (func (export "handle_echo") (param $ptr i32) (param $len i32) (result i64)
    (global.set $bump (global.get $heap_base))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
)
