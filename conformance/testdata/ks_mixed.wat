;; ks_mixed.wat — a module that mixes profiles: handle_v1 has ABI v1's handler
;; type (i32, i32) -> i64 and handle_ks the kubestellar-ui profile's
;; (i64, i64) -> i64. A host must refuse it, naming both readings.
(module
  (memory (export "memory") 1)
  (func (export "allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "handle_v1") (param i32 i32) (result i64) (i64.const 0))
  (func (export "handle_ks") (param i64 i64) (result i64) (i64.const 0)))
