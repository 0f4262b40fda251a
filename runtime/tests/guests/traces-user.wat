;; An evaluator that looks up the trace `trace-3` through the host's `traces` interface and
;; scores its span count / 10 (0.3), or 0 when the host does not have it. It first queries the
;; 2 newest ids and traps unless it gets exactly 2.
(module
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-count" (func $span_count (param i32) (result i32)))
  (import "flowtrace:plugin/traces@0.1.0" "get" (func $get (param i32 i32 i32)))
  (import "flowtrace:plugin/traces@0.1.0" "query" (func $query (param i32 i32 i32 i32 i64 i32 i64 i32 i32)))
  @PRELUDE@
  (data (i32.const 2048) "trace-3")
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $other i32)
    (call $drop_trace (local.get $t))
    ;; query({name-contains: none, since-ns: none, until-ns: none, limit: 2}) -> list<string> at 4096
    (call $query (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0)
                 (i32.const 0) (i64.const 0) (i32.const 2) (i32.const 4096))
    (if (i32.ne (i32.load (i32.const 4100)) (i32.const 2)) (then unreachable))
    ;; get("trace-3") -> option<own<trace>> at 4128: disc +0, handle +4
    (call $get (i32.const 2048) (i32.const 7) (i32.const 4128))
    (if (i32.eqz (i32.load8_u (i32.const 4128))) (then (return (call $ok (f64.const 0) (i32.const 0)))))
    (local.set $other (i32.load (i32.const 4132)))
    (f64.div (f64.convert_i32_u (call $span_count (local.get $other))) (f64.const 10))
    (call $drop_trace (local.get $other))
    (i32.const 1)
    (call $ok))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))
