;; gojs.wat — the imports of a plugin built for the wrong target: TinyGo
;; -target wasm (GOOS=js) imports module "gojs", which only a JavaScript host
;; provides. Its exports would pass a check of exports alone; a host must
;; refuse it at load, naming the import and what it means.
(module
  (import "gojs" "runtime.ticks" (func (result f64)))
  (import "gojs" "syscall/js.valueGet" (func (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "handle_echo") (param i32 i32) (result i64) (i64.const 0)))
