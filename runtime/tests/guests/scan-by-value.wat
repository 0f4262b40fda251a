;; Copies the whole trace in with `to-data()` (what passing the trace by value costs), then
;; runs the same logic as scan-accessors.wat over the copy.
(module
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.to-data" (func $to_data (param i32 i32)))
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  @SCORE@
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $n i32) (local $i i32) (local $p i32) (local $flagged i32) (local $len i32)
    (call $to_data (local.get $t) (i32.const 4096))
    ;; trace-data: spans list at +40
    (local.set $p (i32.load (i32.const 4136)))
    (local.set $n (i32.load (i32.const 4140)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        ;; span is 176 bytes: kind +28, status +29, output option<string> disc +56, len +64
        (local.set $len
          (select (i32.load offset=64 (local.get $p)) (i32.const 0)
                  (i32.load8_u offset=56 (local.get $p))))
        (local.set $flagged (i32.add (local.get $flagged)
          (call $flag (i32.load8_u offset=28 (local.get $p)) (i32.load8_u offset=29 (local.get $p))
                      (local.get $len))))
        (local.set $p (i32.add (local.get $p) (i32.const 176)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $drop_trace (local.get $t))
    (call $score (local.get $flagged) (local.get $n)))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))
