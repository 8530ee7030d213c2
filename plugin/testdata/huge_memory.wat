;; huge_memory.wat — an echo guest whose memory starts at 70,000 pages, past
;; the 65,536 pages (4 GiB) a 32-bit memory can have. Engines disagree on when
;; they refuse it (wazero and wasmer at compile, wasmtime at the first
;; instantiation); plugin.Load refuses it before any engine sees it.
;; The module is invalid, so wat2wasm needs --no-check:
;;   wat2wasm --no-check huge_memory.wat -o huge_memory.wasm
(module
  (memory (export "memory") 70000)
  (func (export "allocate") (param $size i32) (result i32)
    (i32.const 1024))
  (func (export "handle_echo") (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
)
