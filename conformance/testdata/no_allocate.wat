;; no_allocate.wat — exports memory and handle_echo but no allocate.
;;
;; A host must refuse to load it (abi.ErrMissingExport naming allocate).
(module
  (memory (export "memory") 1)

  ;; handle_echo: the request itself.
  (func (export "handle_echo") (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
)
