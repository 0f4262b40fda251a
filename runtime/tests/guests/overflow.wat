;; An evaluator that runs out of stack, picked by the number of spans in the trace:
;;   0: a recursion without an end (wasmtime's own stack overflow)
;;   1: a load just below address 0, where a Rust guest's stack pointer lands when its
;;      stack (the first thing in its linear memory) runs out
;;   otherwise: a load far past the end of memory (an ordinary out-of-bounds trap)
(module
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-count" (func $span_count (param i32) (result i32)))
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  @PRELUDE@
  (func $deep (param $n i32) (result i32)
    (i32.add (call $deep (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (local $n i32)
    (local.set $n (call $span_count (local.get $t)))
    (call $drop_trace (local.get $t))
    (if (i32.eq (local.get $n) (i32.const 0)) (then (drop (call $deep (i32.const 0)))))
    (if (i32.eq (local.get $n) (i32.const 1)) (then (drop (i32.load offset=8 (i32.const -64)))))
    (drop (i32.load (i32.const 0x40000000)))
    unreachable)
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))
