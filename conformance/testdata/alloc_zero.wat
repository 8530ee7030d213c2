;; alloc_zero.wat — allocate always returns 0 (it cannot allocate).
;;
;; A host must not copy a request to address 0; it reports the failure
;; (abi.ErrAllocate) instead. An empty request never calls allocate, so
;; handle_echo with an empty body still succeeds.
(module
  (memory (export "memory") 1)

  (func (export "allocate") (param $size i32) (result i32)
    (i32.const 0))

  ;; handle_echo: the request itself.
  (func (export "handle_echo") (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
)
