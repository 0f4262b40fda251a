;; Reads every span through `span-info(i)`, one host call per span: flags LLM calls with an
;; empty output and tool calls that errored. score = 1 - flagged / spans.
(module
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-count" (func $span_count (param i32) (result i32)))
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-info" (func $span_info (param i32 i32 i32)))
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  @SCORE@
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $n i32) (local $i i32) (local $flagged i32)
    (local.set $n (call $span_count (local.get $t)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $span_info (local.get $t) (local.get $i) (i32.const 4096))
        ;; option<span-info>: payload at +8; kind +0, status +1, output-len +108
        (local.set $flagged (i32.add (local.get $flagged)
          (call $flag (i32.load8_u (i32.const 4104)) (i32.load8_u (i32.const 4105))
                      (i32.load (i32.const 4212)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $drop_trace (local.get $t))
    (call $score (local.get $flagged) (local.get $n)))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))
