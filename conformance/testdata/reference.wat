;; reference.wat — the minimal reference guest of kspbench (ABI v1).
;;
;; Used by the benchmarks and by the ABI cases of the conformance suite. Every
;; handler has the ABI handler type (ptr i32, len i32) -> i64 and returns a
;; packed result: ptr << 32 | len, or pointer 0 with a status in the low half.
;;
;; Memory: 2 pages to start, no maximum. Addresses below 4096 hold static data;
;; the heap is a bump allocator from 4096 that grows memory as needed. It is an
;; arena per call: every handler resets the bump pointer to the heap base just
;; before it returns. The response, when it lives in the arena, stays intact
;; until the next allocate, and the host copies it out at once (ABI.md §3), so
;; memory stays bounded over any number of calls.
(module
  (import "env" "host_log" (func $host_log (param i32 i32)))
  (import "env" "host_get_config" (func $host_get_config (param i32 i32) (result i64)))
  (import "env" "host_storage_get" (func $host_storage_get (param i32 i32) (result i64)))
  (import "env" "host_storage_set" (func $host_storage_set (param i32 i32 i32 i32) (result i32)))
  (import "env" "host_k8s_api_call" (func $host_k8s_api_call (param i32 i32 i32 i32) (result i64)))
  (import "env" "host_request_info" (func $host_request_info (result i64)))
  (import "env" "host_set_response_status" (func $host_set_response_status (param i32) (result i32)))

  (memory (export "memory") 2)

  ;; Static data. The key the guest-to-host benchmark asks for; no host has it.
  (data (i32.const 1024) "kspbench.absent")        ;; 15 bytes

  ;; ---- allocator: a bump arena from $heap_base, reset by every handler ----

  (global $heap_base i32 (i32.const 4096))
  (global $bump (mut i32) (i32.const 4096))

  ;; allocate(size) returns the 8-byte aligned address of size writable bytes,
  ;; growing memory when needed, or 0 when memory cannot grow.
  (func $allocate (export "allocate") (param $size i32) (result i32)
    (local $ptr i64)
    (local $end i64)
    (local $have i64)
    ;; All in 64 bits, so nothing wraps around 2^32.
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

  ;; deallocate is a no-op: the arena is reset at the end of every handler.
  (func (export "deallocate") (param $ptr i32) (param $size i32))

  ;; $end_call resets the arena and passes the handler's result through.
  (func $end_call (param $result i64) (result i64)
    (global.set $bump (global.get $heap_base))
    (local.get $result))

  ;; ---- helpers ----

  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))

  ;; $parse_u32 reads 1 to 10 ASCII digits as a number below 2^32, or returns
  ;; -1 when the text is anything else.
  (func $parse_u32 (param $ptr i32) (param $len i32) (result i64)
    (local $i i32)
    (local $digit i32)
    (local $value i64)
    (if (i32.or (i32.eqz (local.get $len)) (i32.gt_u (local.get $len) (i32.const 10)))
      (then (return (i64.const -1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $digit (i32.sub (i32.load8_u (i32.add (local.get $ptr) (local.get $i)))
                                   (i32.const 48)))
        (if (i32.gt_u (local.get $digit) (i32.const 9))
          (then (return (i64.const -1))))
        (local.set $value (i64.add (i64.mul (local.get $value) (i64.const 10))
                                   (i64.extend_i32_u (local.get $digit))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i64.gt_u (local.get $value) (i64.const 0xffffffff))
      (then (return (i64.const -1))))
    (local.get $value))

  ;; $fill writes 'a' + (i mod 26) to byte i of [p, p+n): the alphabet once,
  ;; then 8 bytes at a time copied from 26 bytes back, then the tail.
  (func $fill (param $p i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $letter
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (br_if $done (i32.ge_u (local.get $i) (i32.const 26)))
        (i32.store8 (i32.add (local.get $p) (local.get $i))
                    (i32.add (i32.const 97) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $letter)))
    (block $done
      (loop $word
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
        (i64.store (i32.add (local.get $p) (local.get $i))
                   (i64.load (i32.sub (i32.add (local.get $p) (local.get $i)) (i32.const 26))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $word)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (local.get $p) (local.get $i))
                    (i32.load8_u (i32.sub (i32.add (local.get $p) (local.get $i)) (i32.const 26))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; ---- exports other than handlers ----

  ;; noop: the empty call, for the host-to-guest call benchmark.
  (func (export "noop"))

  ;; call_host(n): n calls of host_get_config on a key no host has, results
  ;; discarded; the guest-to-host call benchmark. Anything a host allocates for
  ;; a result is given back after each call.
  (func $call_host (export "call_host") (param $n i32)
    (local $mark i32)
    (local.set $mark (global.get $bump))
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $n)))
        (drop (call $host_get_config (i32.const 1024) (i32.const 15)))
        (global.set $bump (local.get $mark))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $again))))

  ;; loop_n(n): the sum 0 + 1 + ... + (n-1) in 64 bits, one loop iteration per
  ;; term: the loop-heavy guest code of the benchmarks, where an engine's
  ;; interruption checks at loop headers show.
  (func $loop_n (export "loop_n") (param $n i32) (result i64)
    (local $i i32)
    (local $sum i64)
    (block $done
      (loop $again
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $again)))
    (local.get $sum))

  ;; ---- handlers: each export is $end_call around its body ----

  ;; handle_empty: an empty response.
  (func (export "handle_empty") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (i64.const 0)))

  ;; handle_echo: the request itself.
  (func (export "handle_echo") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $pack (local.get $ptr) (local.get $len))))

  ;; handle_size: the request is a decimal N; the response is N bytes, byte i
  ;; being 'a' + (i mod 26). N = 0 is an empty response; a malformed N is
  ;; BAD_ARGUMENT (2); N bytes that cannot be allocated is ALLOCATION_FAILED (7).
  (func $size (param $ptr i32) (param $len i32) (result i64)
    (local $n64 i64)
    (local $n i32)
    (local $out i32)
    (local.set $n64 (call $parse_u32 (local.get $ptr) (local.get $len)))
    (if (i64.lt_s (local.get $n64) (i64.const 0))
      (then (return (i64.const 2))))
    (local.set $n (i32.wrap_i64 (local.get $n64)))
    (if (i32.eqz (local.get $n))
      (then (return (i64.const 0))))
    (local.set $out (call $allocate (local.get $n)))
    (if (i32.eqz (local.get $out))
      (then (return (i64.const 7))))
    (call $fill (local.get $out) (local.get $n))
    (call $pack (local.get $out) (local.get $n)))
  (func (export "handle_size") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $size (local.get $ptr) (local.get $len))))

  ;; handle_log: logs the request through host_log; an empty response.
  (func (export "handle_log") (param $ptr i32) (param $len i32) (result i64)
    (call $host_log (local.get $ptr) (local.get $len))
    (call $end_call (i64.const 0)))

  ;; handle_config: the request is a key; host_get_config's result unchanged.
  (func (export "handle_config") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $host_get_config (local.get $ptr) (local.get $len))))

  ;; handle_storage_set: the request is key=value (split at the first '=');
  ;; host_storage_set's status as pack(0, status). No '=' is BAD_ARGUMENT.
  (func $storage_set (param $ptr i32) (param $len i32) (result i64)
    (local $i i32)
    (block $found
      (loop $scan
        (if (i32.ge_u (local.get $i) (local.get $len))
          (then (return (i64.const 2))))
        (br_if $found (i32.eq (i32.load8_u (i32.add (local.get $ptr) (local.get $i)))
                              (i32.const 61)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i64.extend_i32_u
      (call $host_storage_set
        (local.get $ptr) (local.get $i)
        (i32.add (i32.add (local.get $ptr) (local.get $i)) (i32.const 1))
        (i32.sub (i32.sub (local.get $len) (local.get $i)) (i32.const 1)))))
  (func (export "handle_storage_set") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $storage_set (local.get $ptr) (local.get $len))))

  ;; handle_storage_get: the request is a key; host_storage_get's result unchanged.
  (func (export "handle_storage_get") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $host_storage_get (local.get $ptr) (local.get $len))))

  ;; handle_k8s: the request is the path argument (no body);
  ;; host_k8s_api_call's result unchanged.
  (func (export "handle_k8s") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $host_k8s_api_call (local.get $ptr) (local.get $len)
                                             (i32.const 0) (i32.const 0))))

  ;; handle_request_info: host_request_info's result unchanged.
  (func (export "handle_request_info") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $host_request_info)))

  ;; handle_set_status: the request is a decimal code; host_set_response_status's
  ;; status as pack(0, status). A malformed code is BAD_ARGUMENT.
  (func $set_status (param $ptr i32) (param $len i32) (result i64)
    (local $code i64)
    (local.set $code (call $parse_u32 (local.get $ptr) (local.get $len)))
    (if (i64.lt_s (local.get $code) (i64.const 0))
      (then (return (i64.const 2))))
    (i64.extend_i32_u (call $host_set_response_status (i32.wrap_i64 (local.get $code)))))
  (func (export "handle_set_status") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $set_status (local.get $ptr) (local.get $len))))

  ;; handle_call_host: the request is a decimal n; call_host(n); an empty
  ;; response. A malformed n is BAD_ARGUMENT.
  (func $call_host_n (param $ptr i32) (param $len i32) (result i64)
    (local $n i64)
    (local.set $n (call $parse_u32 (local.get $ptr) (local.get $len)))
    (if (i64.lt_s (local.get $n) (i64.const 0))
      (then (return (i64.const 2))))
    (call $call_host (i32.wrap_i64 (local.get $n)))
    (i64.const 0))
  (func (export "handle_call_host") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $call_host_n (local.get $ptr) (local.get $len))))

  ;; handle_loop_n: the request is a decimal n; the response is loop_n(n) as
  ;; 8 bytes, little-endian. A malformed n is BAD_ARGUMENT (2); no memory for
  ;; the answer is ALLOCATION_FAILED (7).
  (func $loop_n_handler (param $ptr i32) (param $len i32) (result i64)
    (local $n i64)
    (local $out i32)
    (local.set $n (call $parse_u32 (local.get $ptr) (local.get $len)))
    (if (i64.lt_s (local.get $n) (i64.const 0))
      (then (return (i64.const 2))))
    (local.set $out (call $allocate (i32.const 8)))
    (if (i32.eqz (local.get $out))
      (then (return (i64.const 7))))
    (i64.store (local.get $out) (call $loop_n (i32.wrap_i64 (local.get $n))))
    (call $pack (local.get $out) (i32.const 8)))
  (func (export "handle_loop_n") (param $ptr i32) (param $len i32) (result i64)
    (call $end_call (call $loop_n_handler (local.get $ptr) (local.get $len))))
)
