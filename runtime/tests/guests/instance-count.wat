;; An evaluator that counts, in a global, the traces it has evaluated in this instance and
;; scores each trace 1 / that count: 1 on every trace when each trace gets a fresh
;; instance, 1, 1/2, 1/3... when traces share one.
(module
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  (global $seen (mut i32) (i32.const 0))

  ;; Count the trace, write `ok(eval-result)` with 1 / the count as the score at $at (64
  ;; bytes), and drop the handle.
  (func $count_at (param $t i32) (param $at i32)
    (global.set $seen (i32.add (global.get $seen) (i32.const 1)))
    (call $drop_trace (local.get $t))
    (memory.fill (local.get $at) (i32.const 0) (i32.const 64))
    (f64.store offset=8 (local.get $at)
      (f64.div (f64.const 1) (f64.convert_i32_u (global.get $seen))))
    (i32.store8 offset=16 (local.get $at) (i32.const 1)))

  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (call $count_at (local.get $t) (i32.const 1024))
    (i32.const 1024))

  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param $ptr i32) (param $len i32) (result i32)
    (local $out i32) (local $i i32)
    (local.set $out (call $alloc (i32.const 8) (i32.mul (local.get $len) (i32.const 64))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $count_at
          (i32.load (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 4))))
          (i32.add (local.get $out) (i32.mul (local.get $i) (i32.const 64))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    ;; list<result<eval-result, plugin-error>> as (ptr, len) at 960
    (i32.store (i32.const 960) (local.get $out))
    (i32.store (i32.const 964) (local.get $len))
    (i32.const 960)))
