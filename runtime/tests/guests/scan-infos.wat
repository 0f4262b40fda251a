;; Reads every span's fixed-size facts with one `span-infos()` call. Same logic as
;; scan-accessors.wat.
(module
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-infos" (func $span_infos (param i32 i32)))
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  @SCORE@
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $n i32) (local $i i32) (local $p i32) (local $flagged i32)
    (call $span_infos (local.get $t) (i32.const 4096))
    (local.set $p (i32.load (i32.const 4096)))
    (local.set $n (i32.load (i32.const 4100)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        ;; span-info is 120 bytes: kind +0, status +1, output-len +108
        (local.set $flagged (i32.add (local.get $flagged)
          (call $flag (i32.load8_u (local.get $p)) (i32.load8_u offset=1 (local.get $p))
                      (i32.load offset=108 (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 120)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $drop_trace (local.get $t))
    (call $score (local.get $flagged) (local.get $n)))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))
