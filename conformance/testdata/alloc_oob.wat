;; alloc_oob.wat — allocate returns 0xfffffff0, an address outside memory.
;;
;; A host must check the region before it writes the request there and treat
;; it as a guest fault (abi.ErrAllocate), never write outside guest memory.
(module
  (memory (export "memory") 1)

  (func (export "allocate") (param $size i32) (result i32)
    (i32.const 0xfffffff0))

  ;; handle_echo: the request itself.
  (func (export "handle_echo") (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
)
