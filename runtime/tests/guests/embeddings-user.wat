;; An evaluator that embeds the text "hello" through the host's `embeddings` interface and
;; scores the vector's first component / 10 (with the test embedder: 5 / 10 = 0.5). When the
;; host has no provider it returns the host's error as its own.
(module
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  (import "flowtrace:plugin/embeddings@0.1.0" "embed" (func $embed (param i32 i32 i32)))
  @PRELUDE@
  (data (i32.const 2048) "hello")
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (call $drop_trace (local.get $t))
    ;; list<string> of one element at 2064: (ptr 2048, len 5)
    (i32.store (i32.const 2064) (i32.const 2048))
    (i32.store (i32.const 2068) (i32.const 5))
    ;; result<list<list<f32>>, plugin-error> at 4096: disc +0, payload +4
    (call $embed (i32.const 2064) (i32.const 1) (i32.const 4096))
    (if (i32.load8_u (i32.const 4096))
      (then
        ;; err(plugin-error): pass the variant through as our own error
        (memory.fill (i32.const 1024) (i32.const 0) (i32.const 64))
        (i32.store8 (i32.const 1024) (i32.const 1))
        (i32.store8 (i32.const 1032) (i32.load8_u (i32.const 4100)))
        (i32.store (i32.const 1036) (i32.load (i32.const 4104)))
        (i32.store (i32.const 1040) (i32.load (i32.const 4108)))
        (return (i32.const 1024))))
    (call $ok
      (f64.div (f64.promote_f32 (f32.load (i32.load (i32.load (i32.const 4100))))) (f64.const 10))
      (i32.const 1)))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))
