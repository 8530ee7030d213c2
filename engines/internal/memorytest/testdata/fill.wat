;; fill grows memory by its argument's pages and writes a byte into every 4 KiB
;; of it, so that all of it is resident; it returns the pages it now has, or -1
;; when the grow was refused. Built with testdata/build.sh's flags:
;;   wat2wasm --disable-bulk-memory --disable-reference-types --disable-sign-extension \
;;     --disable-saturating-float-to-int --disable-multi-value --disable-simd fill.wat -o fill.wasm
(module
  (memory (export "memory") 1)
  (func (export "fill") (param $pages i32) (result i32) (local $i i32) (local $end i32)
    (if (i32.eq (memory.grow (local.get $pages)) (i32.const -1))
      (then (return (i32.const -1))))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (loop $l
      (i32.store8 (local.get $i) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 4096)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $end))))
    (memory.size)))
