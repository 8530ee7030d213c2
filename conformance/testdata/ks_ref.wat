;; ks_ref.wat — a guest in the shape of the KubeStellar UI's published plugins
;; (profile kubestellar-ui, abi/ABI.md §12), written by kspbench.
;;
;; Like the TinyGo plugins built for the reference host: handlers of type
;; (i64, i64) -> i64 called with (ptr, len) and returning ptr << 32 | len; a
;; bump allocator from 0x1000 that never resets, and runs out at 0xf000 (a
;; TinyGo build overwrites its own stack and data there; this one traps); an
;; exported "main" the manifest names as spec.wasm.entrypoint; a WASI _start
;; that calls proc_exit(0), as a TinyGo command's does, which the host must
;; not run; the reference host's env imports, whose results are bare pointers
;; to NUL-terminated data.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "env" "host_log" (func $host_log (param i32 i32)))
  (import "env" "host_get_config" (func $host_get_config (param i32) (result i32)))
  (import "env" "host_storage_get" (func $host_storage_get (param i32 i32) (result i32)))
  (import "env" "host_storage_set" (func $host_storage_set (param i32 i32 i32 i32) (result i32)))
  (import "env" "host_k8s_api_call" (func $host_k8s_api_call (param i32 i32) (result i32)))

  (memory (export "memory") 2)

  (data (i32.const 256) "yes")   ;; 3 bytes
  (data (i32.const 260) "no")    ;; 2 bytes
  (data (i32.const 264) "k")     ;; the storage key of handle_storage_set / _get
  (data (i32.const 268) "10")    ;; "1" at 268, "0" at 269

  (global $next (mut i32) (i32.const 0x1000))
  (global $started (mut i32) (i32.const 0))
  (global $alloc_seen (mut i32) (i32.const 0))

  ;; allocate(size): TinyGo-style bump pointer that never resets; traps when
  ;; it would pass 0xf000.
  (func $allocate (export "allocate") (param $size i32) (result i32)
    (local $p i32)
    (global.set $alloc_seen (i32.const 1))
    (local.set $p (global.get $next))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $size)) (i32.const 0xf000))
      (then unreachable))
    (global.set $next (i32.add (local.get $p) (local.get $size)))
    (local.get $p))

  ;; deallocate is a no-op, as in the published plugins; the host never calls it.
  (func (export "deallocate") (param i32 i32))

  ;; The entry point the manifest names.
  (func (export "main") (global.set $started (i32.const 1)))

  ;; TinyGo's _start: exits, which closes the instance.
  (func (export "_start") (call $proc_exit (i32.const 0)))

  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))

  ;; $strlen counts the bytes before the first NUL at $p.
  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $scan
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $scan)))
    (local.get $n))

  ;; $cstring answers a bare pointer from an import: its bytes up to the NUL,
  ;; or an empty result (the host then answers {}) for 0.
  (func $cstring (param $p i32) (result i64)
    (if (i32.eqz (local.get $p)) (then (return (i64.const 0))))
    (call $pack (local.get $p) (call $strlen (local.get $p))))

  ;; handle_echo copies the request into a new allocation and returns it; an
  ;; empty request gives an empty result ({}).
  (func (export "handle_echo") (param $ptr i64) (param $len i64) (result i64)
    (local $out i32)
    (if (i64.eqz (local.get $len)) (then (return (i64.const 0))))
    (local.set $out (call $allocate (i32.wrap_i64 (local.get $len))))
    (call $copy (local.get $out) (i32.wrap_i64 (local.get $ptr)) (i32.wrap_i64 (local.get $len)))
    (call $pack (local.get $out) (i32.wrap_i64 (local.get $len))))

  (func $copy (param $dst i32) (param $src i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (local.get $dst) (local.get $i))
                    (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; handle_null returns pointer 0 with a length: the reference host answers {}.
  (func (export "handle_null") (param i64 i64) (result i64)
    (i64.const 5))

  ;; handle_started answers "yes" when main ran before it, "no" otherwise.
  (func (export "handle_started") (param i64 i64) (result i64)
    (if (result i64) (global.get $started)
      (then (call $pack (i32.const 256) (i32.const 3)))
      (else (call $pack (i32.const 260) (i32.const 2)))))

  ;; handle_alloc_seen answers "yes" when the host called allocate since the
  ;; last call of it (the reference host does, even for an empty body).
  (func (export "handle_alloc_seen") (param i64 i64) (result i64)
    (local $seen i32)
    (local.set $seen (global.get $alloc_seen))
    (global.set $alloc_seen (i32.const 0))
    (if (result i64) (local.get $seen)
      (then (call $pack (i32.const 256) (i32.const 3)))
      (else (call $pack (i32.const 260) (i32.const 2)))))

  ;; handle_log logs the request with host_log and answers {}.
  (func (export "handle_log") (param $ptr i64) (param $len i64) (result i64)
    (call $host_log (i32.wrap_i64 (local.get $ptr)) (i32.wrap_i64 (local.get $len)))
    (i64.const 0))

  ;; handle_config answers host_get_config's document.
  (func (export "handle_config") (param i64 i64) (result i64)
    (call $cstring (call $host_get_config (i32.const 0))))

  ;; handle_storage_set stores the request under key "k": "1" or "0".
  (func (export "handle_storage_set") (param $ptr i64) (param $len i64) (result i64)
    (call $pack
      (i32.sub (i32.const 269)
               (call $host_storage_set (i32.const 264) (i32.const 1)
                                       (i32.wrap_i64 (local.get $ptr)) (i32.wrap_i64 (local.get $len))))
      (i32.const 1)))

  ;; handle_storage_get answers the value of the key in the request ({} when absent).
  (func (export "handle_storage_get") (param $ptr i64) (param $len i64) (result i64)
    (call $cstring (call $host_storage_get (i32.wrap_i64 (local.get $ptr)) (i32.wrap_i64 (local.get $len)))))

  ;; handle_k8s answers host_k8s_api_call of the path in the request.
  (func (export "handle_k8s") (param $ptr i64) (param $len i64) (result i64)
    (call $cstring (call $host_k8s_api_call (i32.wrap_i64 (local.get $ptr)) (i32.wrap_i64 (local.get $len))))))
