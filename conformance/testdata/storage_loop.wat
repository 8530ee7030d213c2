;; storage_loop.wat — a guest whose handler never returns and calls a host
;; import on every turn of its loop: handle_storage_loop sets key "k" to "v"
;; for ever. A host that serves imports in another process (serve's process
;; isolation) must still end the call at its deadline, and its memory must
;; not grow with the number of import calls.
(module
  (import "env" "host_storage_set" (func $host_storage_set (param i32 i32 i32 i32) (result i32)))

  (memory (export "memory") 1)

  (data (i32.const 1024) "kv")

  ;; allocate: a bump allocator over the first page past 4096, reset by
  ;; every call; 0 when the page is full. The loop handler never needs it.
  (global $bump (mut i32) (i32.const 4096))
  (func (export "allocate") (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $bump))
    (if (i32.gt_u (local.get $size) (i32.sub (i32.const 65536) (local.get $ptr)))
      (then (return (i32.const 0))))
    (global.set $bump (i32.add (local.get $ptr) (local.get $size)))
    (local.get $ptr))
  (func (export "deallocate") (param $ptr i32) (param $size i32))

  ;; handle_storage_loop: host_storage_set("k", "v") until the host ends the call.
  (func (export "handle_storage_loop") (param $ptr i32) (param $len i32) (result i64)
    (global.set $bump (i32.const 4096))
    (loop $again
      (drop (call $host_storage_set (i32.const 1024) (i32.const 1) (i32.const 1025) (i32.const 1)))
      (br $again))
    (i64.const 0))
)
