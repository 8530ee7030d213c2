;; init.wat — a valid guest with an _initialize export that sets a flag.
;;
;; handle_initialized answers "yes" when _initialize has run and "no" when it
;; has not, proving the host calls _initialize after instantiation and before
;; any handler.
(module
  (memory (export "memory") 1)

  (data (i32.const 1024) "yes")  ;; 3 bytes
  (data (i32.const 1032) "no")   ;; 2 bytes

  (global $initialized (mut i32) (i32.const 0))

  ;; Allocator: the reference guest's arena (see reference.wat), reset by
  ;; handle_initialized before it returns.
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
    (global.set $initialized (i32.const 1)))

  ;; handle_initialized: "yes" or "no".
  (func (export "handle_initialized") (param $ptr i32) (param $len i32) (result i64)
    (global.set $bump (global.get $heap_base))
    (if (result i64) (global.get $initialized)
      (then (i64.const 0x0000040000000003))     ;; pack(1024, 3)
      (else (i64.const 0x0000040800000002))))   ;; pack(1032, 2)
)
