;; An evaluator whose behaviour is picked by the number of spans in the trace, so one
;; component covers every failure mode the runtime must contain:
;;   0: ok, score 1.0          1: infinite loop        2: memory bomb
;;   3: trap (unreachable)     4: 2 MiB label (output over the cap)
;;   5: plugin error `failed("boom")`                  6: score 2.0 (invalid result)
;;   otherwise: ok, score 0.5, passed
(module
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-count" (func $span_count (param i32) (result i32)))
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  (data (i32.const 2048) "boom")
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $n i32) (local $p i32)
    (local.set $n (call $span_count (local.get $t)))
    ;; A borrowed handle must be dropped before the call returns.
    (call $drop_trace (local.get $t))
    (if (i32.eq (local.get $n) (i32.const 0)) (then (return (call $ok (f64.const 1) (i32.const 1)))))
    (if (i32.eq (local.get $n) (i32.const 1)) (then (loop $spin (br $spin))))
    (if (i32.eq (local.get $n) (i32.const 2))
      (then
        (loop $grow
          (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
        unreachable))
    (if (i32.eq (local.get $n) (i32.const 3)) (then unreachable))
    (if (i32.eq (local.get $n) (i32.const 4))
      (then
        (local.set $p (call $alloc (i32.const 1) (i32.const 2097152)))
        (memory.fill (local.get $p) (i32.const 97) (i32.const 2097152))
        (drop (call $ok (f64.const 1) (i32.const 1)))
        (i32.store8 (i32.const 1044) (i32.const 1))
        (i32.store (i32.const 1048) (local.get $p))
        (i32.store (i32.const 1052) (i32.const 2097152))
        (return (i32.const 1024))))
    (if (i32.eq (local.get $n) (i32.const 5))
      (then
        (memory.fill (i32.const 1024) (i32.const 0) (i32.const 64))
        (i32.store8 (i32.const 1024) (i32.const 1))
        (i32.store8 (i32.const 1032) (i32.const 3))
        (i32.store (i32.const 1036) (i32.const 2048))
        (i32.store (i32.const 1040) (i32.const 4))
        (return (i32.const 1024))))
    (if (i32.eq (local.get $n) (i32.const 6)) (then (return (call $ok (f64.const 2) (i32.const 1)))))
    (call $ok (f64.const 0.5) (i32.const 1)))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))
