;; An evaluator that scores a trace of n spans 1 / (n + 1), passed when n is even; its
;; `evaluate-batch` scores each trace the same way and, when `@REVERSE@` is 1, returns the
;; results in reverse order (a plugin that breaks the contract: results in trace order).
(module
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-count" (func $span_count (param i32) (result i32)))
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  (global $reverse i32 (i32.const @REVERSE@))

  ;; Write `ok(eval-result)` for handle $t at $at (64 bytes), and drop the handle.
  (func $score_at (param $t i32) (param $at i32)
    (local $n i32)
    (local.set $n (call $span_count (local.get $t)))
    (call $drop_trace (local.get $t))
    (memory.fill (local.get $at) (i32.const 0) (i32.const 64))
    (f64.store offset=8 (local.get $at)
      (f64.div (f64.const 1) (f64.convert_i32_u (i32.add (local.get $n) (i32.const 1)))))
    (i32.store8 offset=16 (local.get $at) (i32.eqz (i32.and (local.get $n) (i32.const 1)))))

  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (call $score_at (local.get $t) (i32.const 1024))
    (i32.const 1024))

  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param $ptr i32) (param $len i32) (result i32)
    (local $out i32) (local $i i32) (local $slot i32)
    (local.set $out (call $alloc (i32.const 8) (i32.mul (local.get $len) (i32.const 64))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $slot
          (if (result i32) (global.get $reverse)
            (then (i32.sub (i32.sub (local.get $len) (i32.const 1)) (local.get $i)))
            (else (local.get $i))))
        (call $score_at
          (i32.load (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 4))))
          (i32.add (local.get $out) (i32.mul (local.get $slot) (i32.const 64))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    ;; list<result<eval-result, plugin-error>> as (ptr, len) at 960
    (i32.store (i32.const 960) (local.get $out))
    (i32.store (i32.const 964) (local.get $len))
    (i32.const 960)))
