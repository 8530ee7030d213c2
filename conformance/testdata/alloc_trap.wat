;; alloc_trap.wat — allocate traps.
;;
;; The trap ends the call that needed the allocation: a handler call with a
;; non-empty body, or (through handle_reentrant) a host import that hands data
;; back to the guest and so calls allocate from inside the import.
(module
  (import "env" "host_get_config" (func $host_get_config (param i32 i32) (result i64)))

  (memory (export "memory") 1)

  (data (i32.const 1088) "greeting")  ;; 8 bytes

  (func (export "allocate") (param $size i32) (result i32)
    (unreachable))

  ;; handle_echo: the request itself.
  (func (export "handle_echo") (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))

  ;; handle_reentrant: host_get_config("greeting") unchanged, as in edge.wat.
  (func (export "handle_reentrant") (param $ptr i32) (param $len i32) (result i64)
    (call $host_get_config (i32.const 1088) (i32.const 8)))
)
